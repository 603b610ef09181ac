"""Demo: batches in every stage of the road, told as the walkthrough's November 2026.

- Kayu Manis, November: submitted on 24 November, the Camat returns two items ("NIK juga diusulkan Kel.
  Palmeriam — pastikan domisili") and forwards the rest, issues her BAST; the Walikota's office returns one item
  for a missing photo, ratifies, and issues the pengesahan — state ``disahkan``.
- Palmeriam, November: no musyawarah (not-held statement), SPTJM and BAST final, submitted — ``diajukan``.
- Palmeriam, October: no musyawarah, submitted, returned by the Camat — ``dikembalikan``.
- Kayu Manis, October: no musyawarah, statement filed, documents not yet final — ``draft``.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlmodel import Session, select

from core import accounts, documents, meetings, workflow
from core.access import Actor
from core.demo_documents import _scan
from core.models import Batch, Musyawarah

KAYUMANIS, PALMERIAM = "31.75.01.1003", "31.75.01.1004"


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour - 7, 0, tzinfo=timezone.utc)  # WIB is UTC+7


def _actor(session: Session, username: str) -> Actor:
    return accounts.actor_for(accounts.get_user(session, username), channel="cli")


def _not_held(kode: str, periode: str, reason: str, lurah: Actor, operator: Actor, session: Session, *,
              finalise: bool, on: date) -> int:
    meeting = meetings.record_not_held(kode, periode, reason, actor=lurah, session=session)
    batch_id = workflow.ensure_batch(session.get(Musyawarah, meeting["id"]), session).id
    if finalise:
        for doc_type in ("sptjm", "bast_kelurahan"):
            done = documents.finalise(doc_type, {"meeting_id": meeting["id"]}, actor=lurah, session=session, on=on)
            documents.upload_scan(done["id"], _scan(f"{documents.LABELS[doc_type]} {done['nomor']}"),
                                  f"pindaian_{doc_type}.jpg", actor=operator, session=session)
    return batch_id


def seed(*, session: Session) -> list[str]:
    """Create the demo batches once; returns the states they ended in."""
    meeting = session.exec(select(Musyawarah).where(Musyawarah.kelurahan_kode == KAYUMANIS,
                                                    Musyawarah.periode == "2026-11",
                                                    Musyawarah.status == "closed")).first()
    if meeting is None or session.exec(select(Batch.id)).first() is not None:
        return []
    lurah, operator = _actor(session, "lurah.kayumanis"), _actor(session, "operator.kayumanis")
    lurah_pm = _actor(session, "lurah.palmeriam")
    camat, walikota = _actor(session, "camat.matraman"), _actor(session, "walikota.jaktim")

    batch = workflow.ensure_batch(meeting, session)
    for item in workflow.missing_verifications(batch, session):
        workflow.waive_verification(item.id, "Diverifikasi bersama SDM PKH; data kunjungan Oktober 2026 masih berlaku",
                                    actor=lurah, session=session)
    workflow.act(batch.id, "ajukan", actor=lurah, session=session, now=_at(24))
    items = workflow.items(batch, session, ("diusulkan",))
    returns = {p.id: ("kembalikan", "NIK juga diusulkan Kel. Palmeriam — pastikan domisili") for p in items[:2]}
    workflow.act(batch.id, "teruskan", actor=camat, session=session, item_actions=returns, now=_at(25))

    pm_nov = _not_held(PALMERIAM, "2026-11", "Aula kelurahan dipakai posko banjir sepanjang November",
                       lurah_pm, lurah_pm, session, finalise=True, on=date(2026, 11, 20))
    workflow.act(pm_nov, "ajukan", actor=lurah_pm, session=session, now=_at(21))
    pm_oct = _not_held(PALMERIAM, "2026-10", "Lurah baru dilantik; musyawarah dijadwalkan ulang ke November",
                       lurah_pm, lurah_pm, session, finalise=True, on=date(2026, 10, 20))
    workflow.act(pm_oct, "ajukan", actor=lurah_pm, session=session, now=_at(2))
    workflow.act(pm_oct, "kembalikan", actor=camat, session=session, now=_at(3),
                 reason="SPTJM belum bermeterai; tandatangani ulang di atas meterai Rp10.000")
    _not_held(KAYUMANIS, "2026-10", "Menunggu ekstrak DTSEN terbaru dari Suku Dinas Sosial", lurah, operator,
              session, finalise=False, on=date(2026, 10, 20))

    documents.finalise("bast_kecamatan", {"kode": "31.75.01", "periode": "2026-11"}, actor=camat, session=session,
                       on=date(2026, 11, 25))
    forwarded = workflow.items(batch, session, ("diteruskan",))
    workflow.act(batch.id, "sahkan", actor=walikota, session=session, now=_at(27),
                 item_actions={forwarded[0].id: ("kembalikan", "Foto tampak dalam rumah belum ada")})
    documents.finalise("pengesahan", {"kode": "31.75", "periode": "2026-11"}, actor=walikota, session=session,
                       on=date(2026, 11, 27))
    return [b.state for b in session.exec(select(Batch).order_by(Batch.id))]
