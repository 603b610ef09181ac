"""The shared machinery of every official PDF: font, styles, kop surat, signatures, QR block, page furniture.

Every Muskel PDF is A4, embeds reportlab's own Bitstream Vera (present on any machine that has reportlab), keeps
its text extractable, numbers its pages "Halaman x dari y", and is byte-identical for identical content
(``invariant=1``). A draft carries DRAFT across every page and no number; a final carries its number and
verification code in the footer and in the PDF's keywords, which is how the verification page recognises it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import reportlab
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (BaseDocTemplate, Flowable, Frame, HRFlowable, Image, KeepTogether, PageTemplate,
                                Paragraph, Spacer, Table, TableStyle)
from reportlab.lib.fonts import addMapping

FONT, BOLD, ITALIC = "MuskelSans", "MuskelSans-Bold", "MuskelSans-Italic"
DRAFT_KEYWORD = "muskel-draft"
FINAL_KEYWORD = "muskel-final:"
MARGIN = 18 * mm


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(reportlab.__file__).parent / "fonts"
    for name, file in ((FONT, "Vera.ttf"), (BOLD, "VeraBd.ttf"), (ITALIC, "VeraIt.ttf"),
                       (FONT + "-BoldItalic", "VeraBI.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, BOLD)
    addMapping(FONT, 0, 1, ITALIC)
    addMapping(FONT, 1, 1, FONT + "-BoldItalic")


_register_fonts()

BODY = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14, alignment=TA_JUSTIFY, spaceAfter=6)
LEFT = ParagraphStyle("left", parent=BODY, alignment=TA_LEFT)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10, alignment=TA_LEFT, spaceAfter=0)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=8, leading=10, alignment=TA_LEFT, spaceAfter=0)
TITLE = ParagraphStyle("title", parent=BODY, fontName=BOLD, fontSize=11.5, leading=15, alignment=TA_CENTER,
                       spaceAfter=2)
SUBTITLE = ParagraphStyle("subtitle", parent=BODY, alignment=TA_CENTER, spaceAfter=10)
HEADING = ParagraphStyle("heading", parent=BODY, fontName=BOLD, alignment=TA_LEFT, spaceBefore=6, spaceAfter=4)
KOP_LINE = ParagraphStyle("kop", parent=BODY, fontName=BOLD, fontSize=11, leading=13.5, alignment=TA_CENTER,
                          spaceAfter=0)
KOP_SMALL = ParagraphStyle("kopsmall", parent=BODY, fontSize=8.5, leading=11, alignment=TA_CENTER, spaceAfter=0)


def esc(text: object) -> str:
    """User text inside a Paragraph is markup: escape it so a name with "&" or "<" prints as typed."""
    return (str(text if text is not None else "").replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(esc(text).replace("\n", "<br/>"), style)


@dataclass
class Furniture:
    """What every page shows besides the content."""

    title: str  # PDF title (metadata)
    draft: bool
    form: bool = False  # a blank form (attendance sheet): neither draft nor registered
    nomor: str = ""
    code: str = ""
    verify_url: str = ""
    running_header: str = ""  # shown on landscape (attachment) pages, e.g. the kelurahan of a BNBA
    author: str = "Muskel"


class _NumberedCanvas(Canvas):
    """Holds each page until the end so that every footer can say how many pages there are."""

    furniture: Furniture

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._decorate(total)
            super().showPage()
        super().save()

    def _decorate(self, total: int) -> None:
        f = self.furniture
        width, height = self._pagesize
        self.saveState()
        self.setFont(FONT, 7.5)
        self.setFillColor(colors.HexColor("#444444"))
        self.drawRightString(width - MARGIN, 10 * mm, f"Halaman {self._pageNumber} dari {total}")
        if f.form:
            left = f.title
        elif f.draft:
            left = "DRAF — belum bernomor, belum sah"
        else:
            left = f"Nomor {f.nomor} · Kode verifikasi {f.code}"
        self.drawString(MARGIN, 10 * mm, left)
        if f.draft:
            self.setFont(BOLD, 110 if width < height else 130)
            self.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.18))
            self.translate(width / 2, height / 2)
            self.rotate(40)
            self.drawCentredString(0, -35, "DRAFT")
        self.restoreState()


def _canvas_for(furniture: Furniture) -> type:
    return type("MuskelCanvas", (_NumberedCanvas,), {"furniture": furniture})


def _running_header(canvas: Canvas, doc) -> None:
    text = doc.muskel_furniture.running_header
    if not text:
        return
    width, height = canvas._pagesize
    canvas.saveState()
    canvas.setFont(FONT, 8)
    canvas.drawString(MARGIN, height - 11 * mm, text[:220])
    canvas.restoreState()


def build(story: list, furniture: Furniture) -> bytes:
    """Lay out ``story`` (portrait pages; ``landscape_next()`` switches) and return the PDF's bytes."""
    buffer = io.BytesIO()
    keywords = [] if furniture.form else [DRAFT_KEYWORD] if furniture.draft else [FINAL_KEYWORD + furniture.code]
    doc = BaseDocTemplate(buffer, pagesize=A4, title=furniture.title, author=furniture.author, creator="Muskel",
                          subject=furniture.title, keywords=keywords, invariant=1, leftMargin=MARGIN,
                          rightMargin=MARGIN, topMargin=16 * mm, bottomMargin=18 * mm)
    doc.muskel_furniture = furniture
    pw, ph = A4
    lw, lh = landscape(A4)
    doc.addPageTemplates([
        PageTemplate("portrait", [Frame(MARGIN, 18 * mm, pw - 2 * MARGIN, ph - 34 * mm, id="p")], pagesize=A4),
        PageTemplate("landscape", [Frame(14 * mm, 16 * mm, lw - 28 * mm, lh - 30 * mm, id="l")],
                     pagesize=landscape(A4), onPage=_running_header),
    ])
    doc.build(story, canvasmaker=_canvas_for(furniture))
    return buffer.getvalue()


def landscape_next() -> list:
    from reportlab.platypus import NextPageTemplate, PageBreak

    return [NextPageTemplate("landscape"), PageBreak()]


def portrait_next() -> list:
    from reportlab.platypus import NextPageTemplate, PageBreak

    return [NextPageTemplate("portrait"), PageBreak()]


@dataclass
class Letterhead:
    lines: list[str]  # PEMERINTAH PROVINSI ... / KOTA ADMINISTRASI ... / KECAMATAN ... / KELURAHAN ...
    address: str = ""
    contact: str = ""  # phone, email, postal code
    logo: bytes | None = None


def kop(head: Letterhead) -> list:
    text = [Paragraph(esc(line), KOP_LINE) for line in head.lines]
    if head.address:
        text.append(Paragraph(esc(head.address), KOP_SMALL))
    if head.contact:
        text.append(Paragraph(esc(head.contact), KOP_SMALL))
    logo_cell: object = ""
    if head.logo:
        reader = ImageReader(io.BytesIO(head.logo))
        w, h = reader.getSize()
        scale = min(22 * mm / w, 24 * mm / h)
        logo_cell = Image(io.BytesIO(head.logo), width=w * scale, height=h * scale)
    table = Table([[logo_cell, text, ""]], colWidths=[26 * mm, None, 26 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return [table, Spacer(1, 2), HRFlowable(width="100%", thickness=2, color=colors.black, spaceAfter=1),
            HRFlowable(width="100%", thickness=0.5, color=colors.black, spaceAfter=8)]


def title_block(title_lines: list[str], nomor: str | None) -> list:
    out = [Paragraph(esc(line), TITLE) for line in title_lines]
    out.append(Paragraph("Nomor: " + esc(nomor) if nomor else "Nomor: ……… (diberikan saat difinalkan)", SUBTITLE))
    return out


def numbered(items: list[str], style: ParagraphStyle = BODY) -> Table:
    rows = [[Paragraph(f"{n}.", style), Paragraph(esc(text), style)] for n, text in enumerate(items, 1)]
    table = Table(rows, colWidths=[8 * mm, None])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
    return table


def key_values(rows: list[tuple[str, str]], label_width: float = 38 * mm) -> Table:
    data = [[Paragraph(esc(k), LEFT), Paragraph(":", LEFT), Paragraph(esc(v), LEFT)] for k, v in rows]
    table = Table(data, colWidths=[label_width, 4 * mm, None])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
    return table


GRID = [("FONT", (0, 0), (-1, -1), FONT, 8), ("FONT", (0, 0), (-1, 0), BOLD, 8),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8E8E8")),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]


def grid(rows: list[list], col_widths: list | None = None, *, long: bool = False, extra: list | None = None) -> Table:
    """A ruled table with a header row repeated on every page; plain string cells stay cheap."""
    from reportlab.platypus import LongTable

    cls = LongTable if long else Table
    table = cls(rows, colWidths=col_widths, repeatRows=1)
    table.setStyle(TableStyle(GRID + (extra or [])))
    return table


@dataclass
class Signer:
    role_line: str  # "Lurah Kayu Manis", "PIHAK PERTAMA", "Mengetahui, Camat Matraman"
    nama: str
    nip: str = ""
    prefix: str = ""  # "Plt." / "Plh." / "a.n. Lurah Kayu Manis" line above the title
    meterai: bool = False


def signature(signer: Signer, width: float) -> list:
    lines = []
    if signer.prefix:
        lines.append(Paragraph(esc(signer.prefix), SIG))
    lines.append(Paragraph(esc(signer.role_line), SIG))
    if signer.meterai:
        lines.append(_Meterai())
    else:
        lines.append(Spacer(1, 20 * mm))
    lines.append(Paragraph("<u>" + esc(signer.nama or "(………………………………)") + "</u>", SIG_BOLD))
    if signer.nip:
        lines.append(Paragraph("NIP " + esc(signer.nip), SIG))
    return lines


SIG = ParagraphStyle("sig", parent=BODY, alignment=TA_CENTER, spaceAfter=0)
SIG_BOLD = ParagraphStyle("sigb", parent=SIG, fontName=BOLD)


class _Meterai(Flowable):
    """The box where the Rp10.000 stamp duty is stuck and signed over."""

    def wrap(self, aw, ah):
        return aw, 24 * mm

    def draw(self):
        c = self.canv
        x = 4 * mm
        c.saveState()
        c.setDash(2, 2)
        c.setLineWidth(0.5)
        c.rect(x, 2 * mm, 30 * mm, 20 * mm)
        c.setFont(FONT, 6.5)
        c.drawCentredString(x + 15 * mm, 13 * mm, "Meterai")
        c.drawCentredString(x + 15 * mm, 9 * mm, "Rp10.000")
        c.restoreState()


def signatures(place_date: str, signers: list[Signer], *, left: list[Signer] | None = None) -> KeepTogether:
    """Signers side by side (right-most gets the place and date line), kept on one page."""
    signers = list(signers)
    count = len(signers)
    width = (A4[0] - 2 * MARGIN) / max(count, 2)
    cells = [signature(s, width) for s in signers]
    if count == 1:
        cells = [[Spacer(1, 1)], cells[0]]
    date_row = [""] * (len(cells) - 1) + [Paragraph(esc(place_date), SIG) if place_date else ""]
    table = Table([date_row, cells], colWidths=[width] * len(cells))
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER")]))
    return KeepTogether([Spacer(1, 6), table])


def qr_block(code: str, url: str) -> KeepTogether:
    """The QR code and the short code that lead a reader of the printout to its registry entry."""
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    size = 24 * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    text = [Paragraph("<b>Kode verifikasi: " + esc(code) + "</b>", SMALL),
            Paragraph("Keaslian dokumen ini dapat diperiksa dengan memindai kode QR atau membuka " + esc(url) +
                      ". Dokumen asli tercatat dengan sidik SHA-256 di Muskel.", SMALL)]
    table = Table([[drawing, text]], colWidths=[28 * mm, None])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return KeepTogether([Spacer(1, 8), table])


def draft_notice() -> Paragraph:
    return Paragraph("<b>DRAF untuk diperiksa.</b> Dokumen ini belum difinalkan: belum bernomor, tidak bertanda "
                     "tangan, dan tidak dapat dipakai sebagai dokumen resmi.", SMALL)


def photo(data: bytes, max_w: float, max_h: float) -> Image:
    reader = ImageReader(io.BytesIO(data))
    w, h = reader.getSize()
    scale = min(max_w / w, max_h / h)
    return Image(io.BytesIO(data), width=w * scale, height=h * scale)


