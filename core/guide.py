"""The Panduan Pengguna: one Markdown file (docs/panduan/panduan.md) shown in the app and printed as PDF.

The screenshots beside it are taken from the real app by a browser test, so the guide shows what users see.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.config import PROJECT_ROOT

GUIDE = PROJECT_ROOT / "docs" / "panduan" / "panduan.md"
IMAGE = re.compile(r"^!\[(?P<caption>[^\]]*)\]\((?P<path>[^)]+)\)\s*$")


def blocks(path: Path = GUIDE) -> list[dict]:
    """The guide as blocks: {"kind": "h1"|"h2"|"p"|"li"|"ol"|"img", "text", "path"}."""
    out: list[dict] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append({"kind": paragraph_kind[0], "text": " ".join(x.strip() for x in paragraph)})
            paragraph.clear()

    paragraph_kind = ["p"]
    for line in path.read_text(encoding="utf-8").splitlines():
        image = IMAGE.match(line)
        if not line.strip():
            flush()
        elif line.startswith("# "):
            flush()
            out.append({"kind": "h1", "text": line[2:].strip()})
        elif line.startswith("## "):
            flush()
            out.append({"kind": "h2", "text": line[3:].strip()})
        elif image:
            flush()
            out.append({"kind": "img", "text": image["caption"], "path": str(path.parent / image["path"])})
        elif re.match(r"^\d+\. ", line):
            flush()
            paragraph_kind[0] = "ol"
            paragraph.append(line.split(". ", 1)[1])
        elif line.startswith("- "):
            flush()
            paragraph_kind[0] = "li"
            paragraph.append(line[2:])
        elif line.startswith("   ") and paragraph:
            paragraph.append(line)
        else:
            if paragraph and paragraph_kind[0] != "p":
                flush()
            if not paragraph:
                paragraph_kind[0] = "p"
            paragraph.append(line)
    flush()
    return out


SECTIONS = {"Operator kelurahan dan Lurah": {"operator", "lurah", "petugas"}, "Camat": {"camat"},
            "Walikota/Bupati": {"walikota"}, "Dinas Sosial": {"dinsos"}, "Auditor": {"auditor"}}


def for_role(role: str, path: Path = GUIDE) -> list[dict]:
    """The introduction, the role's own section, and the sections meant for everyone."""
    out, keep = [], True
    for block in blocks(path):
        if block["kind"] == "h2":
            readers = SECTIONS.get(block["text"])
            keep = readers is None or role in readers or role == "admin"
        if keep:
            out.append(block)
    return out


def _inline(text: str) -> str:
    """Markdown bold to reportlab markup (the guide is our own text; still escaped first)."""
    from core.pdf_kit import esc

    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", esc(text))


def pdf(path: Path = GUIDE) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, Spacer

    from core import pdf_kit as k

    story: list = []
    numbered: list = []

    def end_list() -> None:
        if numbered:
            story.append(ListFlowable([ListItem(Paragraph(_inline(t), k.BODY)) for t in numbered],
                                      bulletType="1", bulletFontName=k.FONT))
            numbered.clear()

    for block in blocks(path):
        if block["kind"] != "ol":
            end_list()
        if block["kind"] == "h1":
            story.append(Paragraph(_inline(block["text"]), k.TITLE))
            story.append(Spacer(1, 6))
        elif block["kind"] == "h2":
            story.append(Paragraph(_inline(block["text"]), k.HEADING))
        elif block["kind"] == "ol":
            numbered.append(block["text"])
        elif block["kind"] == "li":
            story.append(Paragraph("• " + _inline(block["text"]), k.BODY))
        elif block["kind"] == "img":
            image = Path(block["path"])
            if image.exists():
                story.append(k.photo(image.read_bytes(), 170 * mm, 100 * mm))
            story.append(Paragraph(_inline(block["text"]) + ("" if image.exists() else " (gambar belum tersedia)"),
                                   k.SMALL))
            story.append(Spacer(1, 6))
        else:
            story.append(Paragraph(_inline(block["text"]), k.BODY))
    end_list()
    return k.build(story, k.Furniture(title="Panduan Pengguna Muskel", draft=False, form=True))
