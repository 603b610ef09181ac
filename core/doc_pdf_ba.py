"""The Berita Acara Musyawarah Kelurahan with its four attachments, and the blank attendance sheet, as PDF bytes.

Builders take plain data (see ``core.documents`` for how it is gathered) and return bytes. The by-name list
(Lampiran II) is the one long table: plain string cells where text fits, a wrapping Paragraph only where it does
not, so a 3,500-person list costs little more than a bare table.
"""

from __future__ import annotations

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer, Table, TableStyle

from core import pdf_kit as k

BNBA_HEADER = ["No", "No KK", "NIK", "Nama", "L/P", "Tgl lahir", "Hubungan", "Alamat", "RT/RW", "Desil",
               "Jenis usulan", "Alasan / perbaikan", "Program", "Verifikasi lapangan"]
BNBA_WIDTHS_MM = [8, 25, 25, 34, 7, 15, 17, 32, 12, 9, 18, 28, 16, 23]  # 269 mm: landscape A4 inside margins
BNBA_FONT_SIZE = 6.5
ATTENDANCE_HEADER = ["No", "Nama", "Unsur / jabatan", "Alamat / RW", "No HP", "Tanda tangan"]


def _fit(text: str, width: float, size: float = BNBA_FONT_SIZE) -> object:
    """A plain string when it fits its column (cheap), a wrapping Paragraph when it does not."""
    if stringWidth(text, k.FONT, size) <= width - 4:
        return text
    return Paragraph(k.esc(text), _BNBA_CELL)


_BNBA_CELL = k.CELL.clone("bnba", fontSize=BNBA_FONT_SIZE, leading=8)
_BNBA_HEAD = _BNBA_CELL.clone("bnbahead", fontName=k.BOLD)
BNBA_STYLE = k.GRID + [("FONT", (0, 1), (-1, -1), k.FONT, BNBA_FONT_SIZE), ("LEFTPADDING", (0, 0), (-1, -1), 2),
                       ("RIGHTPADDING", (0, 0), (-1, -1), 2)]


def bnba_cells(rows: list[list[str]]) -> list[list]:
    """Header and rows as table cells: plain strings where the text fits its column."""
    widths = [w * mm for w in BNBA_WIDTHS_MM]
    return [[Paragraph(h, _BNBA_HEAD) for h in BNBA_HEADER]] + [[_fit(cell, widths[i]) for i, cell in enumerate(row)]
                                                               for row in rows]


def bnba_table(rows: list[list[str]]) -> Table:
    return k.grid(bnba_cells(rows), [w * mm for w in BNBA_WIDTHS_MM], long=True, extra=BNBA_STYLE[len(k.GRID):])


def attendance_table(attendees: list[dict], blank_rows: int = 0) -> Table:
    rows = [ATTENDANCE_HEADER]
    for n, a in enumerate(attendees, 1):
        rows.append([str(n), a["nama"], " / ".join(x for x in (a.get("unsur"), a.get("jabatan")) if x),
                     a.get("alamat", ""), a.get("telepon", ""), f"{n}. ……………"])
    for n in range(len(attendees) + 1, len(attendees) + blank_rows + 1):
        rows.append([str(n), "", "", "", "", f"{n}. ……………"])
    widths = [10 * mm, 45 * mm, 40 * mm, 30 * mm, 25 * mm, None]
    cells = [[_wrap(c) for c in row] for row in rows]
    return k.grid(cells, widths, long=True,
                  extra=[("TOPPADDING", (0, 1), (-1, -1), 6), ("BOTTOMPADDING", (0, 1), (-1, -1), 6)])


def _wrap(text: str) -> object:
    return Paragraph(k.esc(text), k.CELL) if len(text) > 24 else text


def berita_acara(c: dict, furniture: k.Furniture) -> bytes:
    """``c``: letterhead, title_lines, nomor, pembuka, dasar, peserta, unsur_counts, agenda, hasil, counts_rows,
    keputusan_rows, penutup, place_date, signers, wakil, mengetahui, attendees, bnba_rows, notulen, photos,
    lampiran_header, verify_url."""
    story: list = [*k.kop(c["letterhead"]), *k.title_block(c["title_lines"], c["nomor"])]
    if furniture.draft:
        story.append(k.draft_notice())
    story += [k.para(c["pembuka"]), Paragraph("Dasar:", k.HEADING), k.numbered(c["dasar"]), Spacer(1, 6),
              k.para(c["peserta"])]
    if c["unsur_counts"]:
        rows = [["Unsur", "Jumlah hadir"]] + [[u, str(n)] for u, n in c["unsur_counts"]]
        story += [k.grid(rows, [80 * mm, 30 * mm]), Spacer(1, 6)]
    if c["agenda"]:
        story += [Paragraph("Agenda:", k.HEADING), k.para(c["agenda"])]
    story += [Paragraph("Hasil musyawarah:", k.HEADING), k.para(c["hasil"]),
              k.grid(c["counts_rows"], [110 * mm, 25 * mm, 25 * mm],
                     extra=[("ALIGN", (1, 0), (-1, -1), "RIGHT"), ("FONT", (0, -1), (-1, -1), k.BOLD, 8)]),
              Spacer(1, 4), k.para(c["keputusan_text"]), k.para(c["penutup"])]
    story.append(k.signatures(c["place_date"], c["signers"]))
    if c["wakil"]:
        story.append(Paragraph("Perwakilan peserta musyawarah:", k.HEADING))
        story.append(k.signatures("", c["wakil"]))
    if c["mengetahui"]:
        story.append(k.signatures("Mengetahui,", [c["mengetahui"]]))
    if not furniture.draft:
        story.append(k.qr_block(furniture.code, c["verify_url"]))

    story += [PageBreak(), Paragraph("LAMPIRAN I — DAFTAR HADIR", k.TITLE), Paragraph(c["lampiran_ref"], k.SUBTITLE),
              attendance_table(c["attendees"])]
    story += k.landscape_next()
    story += [Paragraph("LAMPIRAN II — DAFTAR USULAN BY NAME BY ADDRESS (BNBA)", k.TITLE),
              Paragraph(k.esc(c["lampiran_header"]), k.SUBTITLE)]
    story.append(bnba_table(c["bnba_rows"]) if c["bnba_rows"] else
                 k.para("Tidak ada usulan yang disepakati pada musyawarah ini."))
    story += k.portrait_next()
    story += [Paragraph("LAMPIRAN III — NOTULEN", k.TITLE), Paragraph(c["lampiran_ref"], k.SUBTITLE),
              k.para(c["notulen"] or "(Notulen tidak diisi.)"), PageBreak(),
              Paragraph("LAMPIRAN IV — DOKUMENTASI", k.TITLE), Paragraph(c["lampiran_ref"], k.SUBTITLE)]
    story += _photo_grid(c["photos"])
    return k.build(story, furniture)


def _photo_grid(photos: list[tuple[bytes, str]]) -> list:
    if not photos:
        return [k.para("Tidak ada foto dokumentasi yang diunggah.")]
    cell_w, cell_h = 84 * mm, 62 * mm
    cells = [[k.photo(data, cell_w, cell_h), Paragraph(k.esc(caption or "Dokumentasi musyawarah"), k.SMALL)]
             for data, caption in photos]
    out = []
    for i in range(0, len(cells), 2):
        pair = cells[i:i + 2] + ([["", ""]] if i + 1 >= len(cells) else [])
        table = Table([[pair[0][0], pair[1][0]], [pair[0][1], pair[1][1]]], colWidths=[cell_w + 4 * mm] * 2)
        table.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        out += [KeepTogether(table), Spacer(1, 6)]
    return out


def blank_attendance(c: dict, furniture: k.Furniture) -> bytes:
    """The sheet printed before the meeting and signed at the door: names already recorded, then empty rows."""
    story: list = [*k.kop(c["letterhead"]), Paragraph("DAFTAR HADIR", k.TITLE),
                   Paragraph(k.esc(c["subtitle"]), k.SUBTITLE),
                   k.key_values([("Hari, tanggal", c["hari_tanggal"]), ("Waktu", c["waktu"]), ("Tempat", c["tempat"]),
                                 ("Acara", c["acara"])]), Spacer(1, 8),
                   attendance_table(c["attendees"], blank_rows=c["blank_rows"])]
    return k.build(story, furniture)


def bare_table_pdf(rows: list[list[str]]) -> bytes:
    """The benchmark's baseline: the same cells in a bare LongTable, nothing around it."""
    import io

    from reportlab.platypus import LongTable, SimpleDocTemplate

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), invariant=1, leftMargin=14 * mm, rightMargin=14 * mm)
    table = LongTable(bnba_cells(rows), colWidths=[w * mm for w in BNBA_WIDTHS_MM], repeatRows=1)
    table.setStyle(TableStyle(BNBA_STYLE))
    doc.build([table])
    return buffer.getvalue()
