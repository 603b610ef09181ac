"""Demo: the closed November musyawarah of Kayu Manis with its Berita Acara, SPTJM and BAST finalised and their
signed scans uploaded (23 November 2026 in the walkthrough); the Camat's receipt is left for the reviewer."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image, ImageDraw
from sqlmodel import Session, select

from core import accounts, documents
from core.models import Document, Musyawarah

KAYUMANIS = "31.75.01.1003"
SIGNED_ON = date(2026, 11, 23)


def _scan(label: str) -> bytes:
    """A stand-in for a scanned signed page: a grey A4-shaped JPEG that says what it is."""
    img = Image.new("L", (620, 877), 238)
    draw = ImageDraw.Draw(img)
    draw.rectangle((30, 30, 590, 847), outline=90, width=3)
    for n, line in enumerate(["PINDAIAN CONTOH (DEMO)", label, "ditandatangani 23 November 2026"]):
        draw.text((60, 80 + 30 * n), line, fill=20)
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def seed(*, session: Session) -> list[str]:
    """Finalise the demo meeting's documents once; returns the numbers issued."""
    meeting = session.exec(select(Musyawarah).where(Musyawarah.kelurahan_kode == KAYUMANIS,
                                                    Musyawarah.periode == "2026-11",
                                                    Musyawarah.status == "closed")).first()
    if meeting is None or session.exec(select(Document.id).where(Document.musyawarah_id == meeting.id)).first():
        return []
    lurah = accounts.actor_for(accounts.get_user(session, "lurah.kayumanis"), channel="cli")
    operator = accounts.actor_for(accounts.get_user(session, "operator.kayumanis"), channel="cli")
    key = {"meeting_id": meeting.id}
    issued = []
    for doc_type in ("berita_acara", "sptjm", "bast_kelurahan"):
        done = documents.finalise(doc_type, key, actor=lurah, session=session, on=SIGNED_ON)
        documents.upload_scan(done["id"], _scan(f"{documents.LABELS[doc_type]} {done['nomor']}"),
                              f"pindaian_{doc_type}.jpg", actor=operator, session=session)
        issued.append(done["nomor"])
    return issued
