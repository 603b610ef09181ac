"""The laporan triwulan as PDF bytes: kop surat, the quarter's figures as tables and bar charts, signature."""

from __future__ import annotations

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer

from core import pdf_kit as k


def bar_chart(title: str, data: list[tuple[str, int]], width: float = 170 * mm) -> Drawing:
    """A horizontal bar chart of labelled counts (the labels stay readable however many there are)."""
    height = 18 * mm + 7 * mm * max(len(data), 1)
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, title, fontName=k.BOLD, fontSize=9))
    if not data:
        drawing.add(String(0, height - 26, "Tidak ada data.", fontName=k.FONT, fontSize=8))
        return drawing
    chart = HorizontalBarChart()
    chart.x, chart.y = 60 * mm, 8 * mm
    chart.width, chart.height = width - 75 * mm, height - 22 * mm
    chart.data = [[v for _, v in data]]
    chart.categoryAxis.categoryNames = [label[:34] for label, _ in data]
    chart.categoryAxis.labels.fontName = k.FONT
    chart.categoryAxis.labels.fontSize = 7.5
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.reverseDirection = 1
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = k.FONT
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#1e5aa0")
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = k.FONT
    chart.barLabels.fontSize = 7
    chart.barLabels.nudge = 8
    drawing.add(chart)
    return drawing


def laporan(c: dict, furniture: k.Furniture) -> bytes:
    """``c``: letterhead, title_lines, nomor, pembuka, kelurahan_rows, periods, jenis_rows, jenis_chart,
    alasan_rows, program_chart, status_rows, reason_rows, verification_rows, candidate_rows, place_date, signer,
    verify_url."""
    story: list = [*k.kop(c["letterhead"]), *k.title_block(c["title_lines"], c["nomor"])]
    if furniture.draft:
        story.append(k.draft_notice())
    story += [k.para(c["pembuka"]),
              Paragraph("1. Pelaksanaan musyawarah kelurahan", k.HEADING),
              k.grid(c["kelurahan_rows"], [32 * mm, 42 * mm] + [32 * mm] * len(c["periods"]), long=True),
              Paragraph("ya: musyawarah diadakan dan ditutup · tidak: pernyataan tidak diadakan · belum: belum ada "
                        "catatan", k.SMALL), Spacer(1, 6),
              Paragraph("2. Usulan yang disepakati per jenis", k.HEADING),
              k.grid(c["jenis_rows"], [90 * mm, 25 * mm, 25 * mm, 25 * mm], extra=[("ALIGN", (1, 1), (-1, -1), "RIGHT")]),
              Spacer(1, 4), bar_chart("Usulan per jenis (KK)", c["jenis_chart"])]
    if c["alasan_rows"]:
        story += [Paragraph("Usulan nonaktif per alasan", k.HEADING),
                  k.grid(c["alasan_rows"], [90 * mm, 25 * mm, 25 * mm], extra=[("ALIGN", (1, 1), (-1, -1), "RIGHT")])]
    story += [KeepTogether([Spacer(1, 4), bar_chart("Usulan per program (jumlah usulan)", c["program_chart"])]),
              Paragraph("3. Hasil tinjauan dan pengesahan", k.HEADING),
              k.grid(c["status_rows"], [90 * mm, 25 * mm, 25 * mm], extra=[("ALIGN", (1, 1), (-1, -1), "RIGHT")])]
    if len(c["reason_rows"]) > 1:
        story += [Spacer(1, 4), Paragraph("Alasan pengembalian dan penolakan", k.HEADING),
                  k.grid([[k.para(x, k.CELL) if i == 2 else x for i, x in enumerate(row)] if n else row
                          for n, row in enumerate(c["reason_rows"])], [28 * mm, 24 * mm, 100 * mm, 20 * mm])]
    story += [Paragraph("4. Verifikasi lapangan dan temuan", k.HEADING),
              k.grid(c["verification_rows"], [120 * mm, 30 * mm], extra=[("ALIGN", (1, 1), (-1, -1), "RIGHT")]),
              Spacer(1, 4), Paragraph("5. Kandidat kesalahan penargetan", k.HEADING),
              k.grid(c["candidate_rows"], [120 * mm, 30 * mm], extra=[("ALIGN", (1, 1), (-1, -1), "RIGHT")]),
              k.signatures(c["place_date"], [c["signer"]])]
    if not furniture.draft:
        story.append(k.qr_block(furniture.code, c["verify_url"]))
    return k.build(story, furniture)
