"""The SPTJM, the two BASTs and the pengesahan as PDF bytes, from plain data gathered by ``core.documents``."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from core import pdf_kit as k
from core.doc_pdf_ba import bnba_table


def _opening(c: dict, furniture: k.Furniture) -> list:
    story: list = [*k.kop(c["letterhead"]), *k.title_block(c["title_lines"], c["nomor"])]
    if furniture.draft:
        story.append(k.draft_notice())
    return story


def _closing(c: dict, furniture: k.Furniture, signers: list[k.Signer]) -> list:
    story = [k.signatures(c["place_date"], signers)]
    if not furniture.draft:
        story.append(k.qr_block(furniture.code, c["verify_url"]))
    return story


def sptjm(c: dict, furniture: k.Furniture) -> bytes:
    """``c``: letterhead, title_lines, nomor, pembuka, identitas [(label, value)], pernyataan [..], penutup,
    place_date, signer (with meterai), verify_url."""
    story = _opening(c, furniture)
    story += [k.para(c["pembuka"]), k.key_values(c["identitas"]), Spacer(1, 6),
              k.para("dengan ini menyatakan dengan sesungguhnya bahwa:"), k.numbered(c["pernyataan"]),
              Spacer(1, 6), k.para(c["penutup"])]
    story += _closing(c, furniture, [c["signer"]])
    return k.build(story, furniture)


def bast(c: dict, furniture: k.Furniture) -> bytes:
    """``c``: letterhead, title_lines, nomor, pembuka, pihak_pertama [(label, value)], pihak_kedua, isi,
    items [[no, uraian, keterangan]], recap_rows (optional), penutup, place_date, signers [pertama, kedua],
    verify_url."""
    story = _opening(c, furniture)
    story += [k.para(c["pembuka"]), k.key_values(c["pihak_pertama"]),
              k.para("selanjutnya disebut PIHAK PERTAMA;"), k.key_values(c["pihak_kedua"]),
              k.para("selanjutnya disebut PIHAK KEDUA."), k.para(c["isi"])]
    rows = [["No", "Uraian", "Keterangan"]] + [[str(n), _cell(u), _cell(ket)] for n, (u, ket) in
                                               enumerate(c["items"], 1)]
    story += [k.grid(rows, [10 * mm, 70 * mm, None]), Spacer(1, 6)]
    if c.get("recap_rows"):
        story += [Paragraph("Rekapitulasi usulan yang diserahkan:", k.HEADING),
                  k.grid(c["recap_rows"], c.get("recap_widths"),
                         extra=[("ALIGN", (1, 1), (-1, -1), "RIGHT")]), Spacer(1, 6)]
    story.append(k.para(c["penutup"]))
    story += _closing(c, furniture, c["signers"])
    return k.build(story, furniture)


def _head_wrapped(rows: list[list[str]]) -> list[list]:
    """Long column titles wrap instead of running into the next column."""
    return [[Paragraph(k.esc(h), k.CELL.clone("head", fontName=k.BOLD)) for h in rows[0]]] + rows[1:]


def _cell(text: str) -> Paragraph:
    return Paragraph(k.esc(text).replace("\n", "<br/>"), k.CELL)


def pengesahan(c: dict, furniture: k.Furniture) -> bytes:
    """``c``: letterhead, title_lines, nomor, pembuka, recap_rows, recap_widths, penutup, place_date, signer,
    bnba_sections [(kelurahan header, rows)], verify_url, susulan_note."""
    story = _opening(c, furniture)
    if c.get("susulan_note"):
        story.append(k.para(c["susulan_note"]))
    story += [k.para(c["pembuka"]), Paragraph("Rekapitulasi per kecamatan dan kelurahan:", k.HEADING),
              k.grid(_head_wrapped(c["recap_rows"]), c["recap_widths"], long=True,
                     extra=[("ALIGN", (2, 1), (-1, -1), "RIGHT")]), Spacer(1, 6)]
    if c.get("reason_rows"):
        story += [Paragraph("Rincian usulan nonaktif per alasan:", k.HEADING),
                  k.grid(c["reason_rows"], [35 * mm, 40 * mm, 55 * mm, 20 * mm, 20 * mm], long=True,
                         extra=[("ALIGN", (3, 1), (-1, -1), "RIGHT")]), Spacer(1, 6)]
    story += [k.para(c["penutup"])]
    story += _closing(c, furniture, [c["signer"]])
    story += k.landscape_next()
    story.append(Paragraph("LAMPIRAN — DAFTAR NAMA USULAN YANG DISAHKAN", k.TITLE))
    for header, rows in c["bnba_sections"]:
        story += [Paragraph(k.esc(header), k.HEADING), bnba_table(rows) if rows else k.para("Tidak ada usulan."),
                  Spacer(1, 6)]
    if not c["bnba_sections"]:
        story.append(k.para("Tidak ada usulan."))
    return k.build(story, furniture)
