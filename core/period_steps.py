"""The kelurahan's period, step by step: what is done, what is under way, what waits — and what is still missing.

A new operator follows these steps from the home page without training: each says, in one sentence, what is
left ("7 dari 40 keluarga belum diverifikasi", "pindaian SPTJM belum diunggah") and links to the screen that
finishes it. The figures come from the same services the screens use.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from core import documents, workflow
from core.access import Actor, require_bulk
from core.models import Batch, Musyawarah, Proposal, RegisterImport
from core.timefmt import waktu

DONE, ACTIVE, WAITING, ATTENTION = "selesai", "berjalan", "menunggu", "perhatian"


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    state: str  # selesai | berjalan | menunggu | perhatian
    detail: str
    page: str  # where the user finishes it


def steps(kelurahan_kode: str, periode: str, *, actor: Actor, session: Session) -> list[Step]:
    require_bulk(actor, kelurahan_kode)
    out: list[Step] = []
    last_import = session.exec(select(RegisterImport).where(RegisterImport.kelurahan_kode == kelurahan_kode)
                               .order_by(RegisterImport.id.desc())).first()
    out.append(Step("dtsen", "Data DTSEN dimuat", DONE if last_import else ACTIVE,
                    f"Ekstrak terakhir {last_import.filename} ({last_import.families} keluarga), diimpor "
                    f"{waktu(last_import.imported_at)}." if last_import
                    else "Belum ada ekstrak DTSEN. Impor berkas dari Suku Dinas Sosial.", "pages/impor_dtsen.py"))
    meeting = session.exec(select(Musyawarah).where(Musyawarah.kelurahan_kode == kelurahan_kode,
                                                    Musyawarah.periode == periode)
                           .order_by(Musyawarah.id.desc())).first()
    if meeting is None:
        out.append(Step("musyawarah", "Musyawarah diadakan dan ditutup", ACTIVE if last_import else WAITING,
                        "Belum ada musyawarah periode ini. Buka musyawarah, atau Lurah menyatakan tidak diadakan.",
                        "pages/musyawarah.py"))
        return out + _later(WAITING)
    if meeting.status != "closed":
        undecided = len(session.exec(select(Proposal.id).where(Proposal.musyawarah_id == meeting.id,
                                                               Proposal.status != "dibatalkan",
                                                               Proposal.keputusan == "")).all())
        out.append(Step("musyawarah", "Musyawarah diadakan dan ditutup", ACTIVE,
                        f"Musyawarah sedang berjalan; {undecided} usulan belum diputuskan. Lurah menutupnya sesudah "
                        "semua diputuskan.", "pages/rapat_usulan.py"))
        return out + _later(WAITING)
    label = "Pernyataan musyawarah tidak diadakan tercatat." if meeting.kind == "not_held" else \
        f"Musyawarah ditutup {waktu(meeting.closed_at)}."
    out.append(Step("musyawarah", "Musyawarah diadakan dan ditutup", DONE, label, "pages/musyawarah.py"))
    batch = workflow.ensure_batch(meeting, session)
    return out + _batch_steps(batch, meeting, session)


def _later(state: str) -> list[Step]:
    return [Step(k, t, state, "Menunggu langkah sebelumnya.", p) for k, t, p in (
        ("verifikasi", "Verifikasi lapangan selesai", "pages/penugasan.py"),
        ("dokumen", "Dokumen difinalkan", "pages/dokumen.py"),
        ("pindaian", "Pindaian bertanda tangan diunggah", "pages/dokumen.py"),
        ("ajukan", "Diajukan ke Camat", "pages/pengajuan.py"),
        ("camat", "Ditinjau Camat", "pages/pengajuan.py"),
        ("sahkan", "Disahkan Walikota/Bupati", "pages/pengajuan.py"))]


def _batch_steps(batch: Batch, meeting: Musyawarah, session: Session) -> list[Step]:
    submitted = batch.state != "draft"
    out = []
    if meeting.kind == "held":
        active = workflow.items(batch, session, ("diusulkan",)) if not submitted else []
        missing = workflow.missing_verifications(batch, session) if not submitted else []
        total = len(active)
        out.append(Step("verifikasi", "Verifikasi lapangan selesai", DONE if not missing else ACTIVE,
                        "Semua keluarga yang wajib dikunjungi sudah diverifikasi atau dikecualikan." if not missing
                        else f"{len(missing)} dari {total} keluarga belum diverifikasi.", "pages/penugasan.py"))
    subject = documents.subject_of("sptjm", {"meeting_id": meeting.id})
    needed = ["sptjm", "bast_kelurahan"] if meeting.kind != "held" else ["berita_acara", "sptjm", "bast_kelurahan"]
    final = {t: documents.current(t, subject, session) for t in needed}
    not_final = [documents.LABELS[t] for t, d in final.items() if d is None]
    out.append(Step("dokumen", "Dokumen difinalkan", DONE if not not_final else ACTIVE,
                    "BA, SPTJM dan BAST final." if not not_final and meeting.kind == "held"
                    else "SPTJM dan BAST final." if not not_final
                    else "Belum final: " + ", ".join(not_final) + ".", "pages/dokumen.py"))
    no_scan = [documents.LABELS[t] for t, d in final.items() if d is not None and not d.scan_sha256]
    scan_state = DONE if not no_scan and not not_final else (ACTIVE if no_scan else WAITING)
    out.append(Step("pindaian", "Pindaian bertanda tangan diunggah", scan_state,
                    "Semua pindaian sudah diunggah." if scan_state == DONE else
                    "Pindaian " + ", ".join(no_scan) + " belum diunggah." if no_scan
                    else "Menunggu dokumen final.", "pages/dokumen.py"))
    ready = scan_state == DONE and all(s.state == DONE for s in out)
    if batch.state == "draft":
        out.append(Step("ajukan", "Diajukan ke Camat", ACTIVE if ready else WAITING,
                        "Siap diajukan: Lurah menekan Ajukan." if ready else "Menunggu langkah sebelumnya."
                        + (f" (revisi {batch.revision})" if batch.revision > 1 else ""), "pages/pengajuan.py"))
        return out + [Step("camat", "Ditinjau Camat", WAITING, "Menunggu pengajuan.", "pages/pengajuan.py"),
                      Step("sahkan", "Disahkan Walikota/Bupati", WAITING, "Menunggu tinjauan Camat.",
                           "pages/pengajuan.py")]
    out.append(Step("ajukan", "Diajukan ke Camat", DONE, f"Diajukan {waktu(batch.submitted_at)}"
                    + (" (terlambat)." if batch.late else "."), "pages/pengajuan.py"))
    camat = {"diajukan": (ACTIVE, "Menunggu tinjauan Camat."),
             "dikembalikan": (ATTENTION, "Dikembalikan Camat: buka Pengajuan untuk alasan dan revisi."),
             "diteruskan": (DONE, "Diteruskan Camat kepada Walikota/Bupati."),
             "disahkan": (DONE, "Diteruskan Camat."), "ditolak": (DONE, "Diteruskan Camat.")}[batch.state]
    out.append(Step("camat", "Ditinjau Camat", camat[0], camat[1], "pages/pengajuan.py"))
    final_state = {"disahkan": (DONE, "Disahkan."), "ditolak": (ATTENTION, "Ditolak Walikota/Bupati."),
                   "diteruskan": (ACTIVE, "Menunggu pengesahan Walikota/Bupati.")}.get(
        batch.state, (WAITING, "Menunggu tinjauan Camat."))
    out.append(Step("sahkan", "Disahkan Walikota/Bupati", final_state[0], final_state[1], "pages/pengajuan.py"))
    return out
