"""The life of an official document: draft (checked on screen, DRAFT on every page, no number, not registered),
final (frozen content, a number that never repeats, the PDF's SHA-256 and a verification code registered),
superseded (replaced by a later final, which the old registry entry names).

Who finalises what: the Lurah his kelurahan's Berita Acara, SPTJM and BAST; the Camat the BAST Camat → Walikota;
the Walikota/Bupati the pengesahan. Signed scans are uploaded against a final document by the issuing office.
"""

from __future__ import annotations

import json
import secrets
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from core import audit, doc_numbers, filestore, wilayah
from core import doc_assembly as da
from core.access import Action, Actor, Role, in_scope, require, require_bulk
from core.config import load_settings
from core.errors import AccessDenied, InvalidInput, NotFound
from core.meetings import get_meeting
from core.models import AuditHead, Batch, Document, Musyawarah, StoredFile, Wilayah
from core.pdf_kit import Furniture
from core.timefmt import WIB, utcnow

LABELS = doc_numbers.DOC_TYPES
KELURAHAN_TYPES = ("berita_acara", "sptjm", "bast_kelurahan")
FINALISER = {"berita_acara": Role.LURAH, "sptjm": Role.LURAH, "bast_kelurahan": Role.LURAH,
             "bast_kecamatan": Role.CAMAT, "pengesahan": Role.WALIKOTA}
REPORT_TYPES = ("laporan_triwulan",)  # issued by the Camat for a kecamatan, the Walikota/Bupati for a kota
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread
SCAN_MAX_BYTES = 20 * 1024 * 1024


def new_code() -> str:
    """12 symbols of 5 bits = 60 random bits, grouped for reading aloud: ``7K3M-QX2P-9RTD``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_code(text: str) -> str:
    raw = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    raw = raw.replace("O", "0").replace("I", "1").replace("L", "1")
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}" if len(raw) == 12 else ""


def verify_url(code: str) -> str:
    return f"{load_settings().public_url}/cek_dokumen?kode={code}"


def today() -> date:
    return utcnow().astimezone(WIB).date()


def _subject_meeting(meeting_id: int) -> str:
    return f"musyawarah:{meeting_id}"


def current(doc_type: str, subject: str, session: Session) -> Document | None:
    return session.exec(select(Document).where(Document.doc_type == doc_type, Document.subject == subject,
                                               Document.status == "final").order_by(Document.id.desc())).first()


# ---------------------------------------------------------------- assembling, for drafts and finals alike

def _assemble(doc_type: str, key: dict, session: Session, *, nomor: str | None, code: str, on: date,
              data_file: tuple[str, str] = ("", "")) -> da.Assembled:
    url = verify_url(code) if code else ""
    if doc_type in KELURAHAN_TYPES:
        meeting = session.get(Musyawarah, key["meeting_id"])
        subject = _subject_meeting(meeting.id)
        ba = current("berita_acara", subject, session)
        if doc_type == "berita_acara":
            return da.berita_acara_doc(meeting, session, nomor=nomor, verify_url=url)
        if doc_type == "sptjm":
            return da.sptjm_doc(meeting, session, nomor=nomor, verify_url=url, on=on, ba=ba)
        sp = current("sptjm", subject, session)
        from core.packages import latest_manifest_hash
        from core.workflow import batch_of_meeting

        batch = batch_of_meeting(meeting.id, session)
        return da.bast_kelurahan_doc(meeting, session, nomor=nomor, verify_url=url, on=on, ba=ba, sptjm_doc_row=sp,
                                     data_sha=data_file[0], data_name=data_file[1],
                                     package_sha=latest_manifest_hash(batch, session) if batch else "")
    if doc_type == "laporan_triwulan":
        return da.laporan_triwulan_doc(key["kode"], int(key["tahun"]), int(key["triwulan"]), session, nomor=nomor,
                                       verify_url=url, on=on)
    if doc_type == "bast_kecamatan":
        return da.bast_kecamatan_doc(key["kode"], key["periode"], session, nomor=nomor, verify_url=url, on=on,
                                     batches=forwardable_batches(key["kode"], key["periode"], session))
    batches, earlier, susulan = ratifiable_batches(key["kode"], key["periode"], session)
    return da.pengesahan_doc(key["kode"], key["periode"], session, nomor=nomor, verify_url=url, on=on,
                             batches=batches, susulan=susulan, earlier=[d.nomor for d in earlier])


def _office(doc_type: str, key: dict, session: Session) -> tuple[str, str, str]:
    """(issuing office's wilayah, kelurahan or "", periode) of a document."""
    if doc_type in KELURAHAN_TYPES:
        meeting = session.get(Musyawarah, key["meeting_id"])
        if meeting is None:
            raise NotFound("Musyawarah tidak ditemukan.", code="unknown_meeting")
        return meeting.kelurahan_kode, meeting.kelurahan_kode, meeting.periode
    if doc_type in REPORT_TYPES:
        return key["kode"], "", f"{int(key['tahun'])}-Q{int(key['triwulan'])}"
    return key["kode"], "", key["periode"]


def subject_of(doc_type: str, key: dict) -> str:
    if doc_type in KELURAHAN_TYPES:
        return _subject_meeting(key["meeting_id"])
    if doc_type in REPORT_TYPES:
        return f"triwulan:{key['kode']}:{int(key['tahun'])}-Q{int(key['triwulan'])}"
    level = "kecamatan" if doc_type == "bast_kecamatan" else "kota"
    return f"{level}:{key['kode']}:{key['periode']}"


def _check_type(doc_type: str, key: dict, session: Session) -> None:
    if doc_type not in LABELS:
        raise InvalidInput(f"Jenis dokumen '{doc_type}' tidak dikenal.", code="unknown_doc_type")
    if doc_type == "bast_kecamatan" and wilayah.get(session, key["kode"]).tingkat != "kecamatan":
        raise InvalidInput("BAST Camat dibuat untuk satu kecamatan.", code="not_kecamatan")
    if doc_type == "pengesahan" and wilayah.get(session, key["kode"]).tingkat not in ("kota", "kabupaten"):
        raise InvalidInput("Pengesahan dibuat untuk satu kota/kabupaten.", code="not_kota")
    if doc_type in REPORT_TYPES:
        from core.quarterly import months

        months(int(key["tahun"]), int(key["triwulan"]))
        if wilayah.get(session, key["kode"]).tingkat not in ("kecamatan", "kota", "kabupaten"):
            raise InvalidInput("Laporan triwulan dibuat untuk satu kecamatan atau kota/kabupaten.",
                               code="not_report_level")


def draft(doc_type: str, key: dict, *, actor: Actor, session: Session, on: date | None = None) -> bytes:
    """A draft PDF for checking: DRAFT on every page, no number, nothing registered (the view is audited)."""
    _check_type(doc_type, key, session)
    office, kelurahan, periode = _office(doc_type, key, session)
    require(actor, Action.DOCUMENT_DRAFT, office)
    require_bulk(actor, office)
    if doc_type in KELURAHAN_TYPES:
        get_meeting(key["meeting_id"], actor=actor, session=session)
    assembled = _assemble(doc_type, key, session, nomor=None, code="", on=on or today(),
                          data_file=("(dihitung saat difinalkan)", "(berkas BNBA)"))
    pdf = assembled.builder(assembled.content, Furniture(title="DRAF " + assembled.title, draft=True,
                                                         running_header=assembled.running_header))
    audit.record(session, actor, "document.draft_viewed", object_type="document", object_id=subject_of(doc_type, key),
                 wilayah_kode=office, after={"jenis": doc_type, "periode": periode})
    return pdf


def blank_attendance(meeting_id: int, *, actor: Actor, session: Session) -> bytes:
    """The attendance sheet to print before the meeting (names already entered, then empty rows)."""
    meeting = get_meeting(meeting_id, actor=actor, session=session)
    require(actor, Action.MEETING_RECORD, meeting.kelurahan_kode)
    assembled = da.blank_attendance_doc(meeting, session)
    from core.doc_pdf_ba import blank_attendance as build

    return build(assembled.content, Furniture(title=assembled.title, draft=False, form=True))


# ---------------------------------------------------------------- preconditions of finalising

def _require_finaliser(doc_type: str, office: str, actor: Actor) -> None:
    require(actor, Action.DOCUMENT_FINALISE, office)
    if doc_type in REPORT_TYPES:
        if Role(actor.role) not in (Role.CAMAT, Role.WALIKOTA) or actor.wilayah_kode != office:
            raise AccessDenied("Laporan triwulan difinalkan oleh Camat (kecamatan) atau Walikota/Bupati (kota) "
                               "untuk wilayahnya sendiri.")
        return
    if Role(actor.role) != FINALISER[doc_type] or actor.wilayah_kode != office:
        raise AccessDenied(f"{LABELS[doc_type]} hanya dapat difinalkan oleh "
                           f"{'Lurah' if FINALISER[doc_type] == Role.LURAH else FINALISER[doc_type].value.title()} "
                           f"kantor yang menerbitkannya.")


def _preconditions(doc_type: str, key: dict, session: Session) -> None:
    if doc_type not in KELURAHAN_TYPES:
        return
    meeting = session.get(Musyawarah, key["meeting_id"])
    subject = _subject_meeting(meeting.id)
    if doc_type == "berita_acara":
        if meeting.kind != "held":
            raise InvalidInput("Musyawarah tidak dilaksanakan: tidak ada Berita Acara; finalkan SPTJM "
                               "(varian tidak dilaksanakan).", code="not_held_no_ba")
        if meeting.status != "closed":
            raise InvalidInput("Tutup musyawarah dahulu: Berita Acara hanya dapat difinalkan sesudah musyawarah "
                               "ditutup oleh Lurah.", code="meeting_open")
    if doc_type == "sptjm" and meeting.kind == "held" and current("berita_acara", subject, session) is None:
        raise InvalidInput("Finalkan Berita Acara dahulu: SPTJM menyebut nomor Berita Acara.", code="ba_missing")
    if doc_type == "bast_kelurahan":
        needed = ["sptjm"] if meeting.kind != "held" else ["berita_acara", "sptjm"]
        for needed_type in needed:
            doc = current(needed_type, subject, session)
            if doc is None:
                raise InvalidInput(f"Finalkan {LABELS[needed_type]} dahulu.", code=f"{needed_type}_missing")
            if not doc.scan_sha256:
                raise InvalidInput(f"Unggah pindaian {LABELS[needed_type]} yang sudah ditandatangani dahulu: BAST "
                                   "mencantumkan sidik berkasnya.", code=f"{needed_type}_scan_missing")
        ba = current("berita_acara", subject, session)
        sp = current("sptjm", subject, session)
        if ba and ba.id not in json.loads(sp.covers):
            raise InvalidInput("SPTJM masih menyebut Berita Acara yang sudah digantikan: terbitkan ulang SPTJM "
                               "dahulu.", code="sptjm_stale")


FORWARDED = ("diteruskan", "disahkan", "ditolak")  # batch states after the Camat passed the batch on


def _uncovered(doc_type: str, office_like: str, periode: str, states: tuple[str, ...],
               session: Session) -> tuple[list[Batch], list[Document]]:
    """Batches of the period in ``states`` under an office that no earlier final document of ``doc_type`` lists,
    and those earlier documents."""
    earlier = list(session.exec(select(Document).where(Document.doc_type == doc_type, Document.status == "final",
                                                       Document.wilayah_kode == office_like,
                                                       Document.periode == periode).order_by(Document.id)))
    covered = {bid for d in earlier for bid in json.loads(d.covers)}
    rows = session.exec(select(Batch).where(Batch.periode == periode, Batch.state.in_(states),
                                            Batch.kelurahan_kode.like(office_like + ".%"))
                        .order_by(Batch.kelurahan_kode))
    return [b for b in rows if b.id not in covered], earlier


def forwardable_batches(kecamatan: str, periode: str, session: Session) -> list[Batch]:
    """The batches the Camat passed on this period that no earlier BAST Camat → Walikota lists."""
    return _uncovered("bast_kecamatan", kecamatan, periode, FORWARDED, session)[0]


def ratifiable_batches(kota: str, periode: str, session: Session) -> tuple[list[Batch], list[Document], bool]:
    """The ratified batches of the period no earlier pengesahan covers, the earlier pengesahan, and whether the
    new one is a susulan. The first pengesahan leaves late batches out: they go into a susulan."""
    pending, earlier = _uncovered("pengesahan", kota, periode, ("disahkan",), session)
    if not earlier and any(not b.late for b in pending):
        return [b for b in pending if not b.late], earlier, False
    return pending, earlier, True


def pengesahan_status(kota: str, periode: str, *, actor: Actor, session: Session) -> dict:
    """How many kelurahan batches of the period wait for a pengesahan, and how many pengesahan were issued."""
    require(actor, Action.WILAYAH_VIEW, kota)
    pending, earlier, susulan = ratifiable_batches(kota, periode, session)
    return {"menunggu": len(pending), "terbit": len(earlier), "susulan": susulan}


def finalise(doc_type: str, key: dict, *, actor: Actor, session: Session, replace_reason: str = "",
             on: date | None = None) -> dict:
    """Freeze the document: assign its number, build the PDF once, register its SHA-256 and verification code.

    A document that already has a final version is only re-issued with a reason (a correction or a revision);
    the old entry then reads *digantikan oleh* the new one.
    """
    _check_type(doc_type, key, session)
    office, kelurahan, periode = _office(doc_type, key, session)
    _require_finaliser(doc_type, office, actor)
    # One finalisation per office at a time: what is "already final" and what a BAST/pengesahan covers are read
    # under this lock, so two people finalising at once cannot both issue the same document.
    session.get(Wilayah, office, with_for_update=True, populate_existing=True)
    subject = subject_of(doc_type, key)
    previous = current(doc_type, subject, session) if doc_type in KELURAHAN_TYPES + REPORT_TYPES else None
    if doc_type in KELURAHAN_TYPES:
        from core.workflow import ensure_editable

        ensure_editable(key["meeting_id"], session, LABELS[doc_type])
    if doc_type == "pengesahan" and not ratifiable_batches(key["kode"], key["periode"], session)[0]:
        raise InvalidInput("Tidak ada pengajuan kelurahan yang sudah disahkan dan belum tercantum dalam pengesahan "
                           "periode ini.", code="nothing_to_ratify")
    if doc_type == "bast_kecamatan" and not forwardable_batches(key["kode"], key["periode"], session):
        raise InvalidInput("Belum ada pengajuan kelurahan yang diteruskan (dan belum tercantum dalam BAST Camat) "
                           "untuk periode ini.", code="nothing_to_forward")
    if previous is not None and len(replace_reason.strip()) < 10:
        raise InvalidInput(f"{LABELS[doc_type]} ini sudah final (Nomor {previous.nomor}). Untuk menerbitkan "
                           "pengganti, tulis alasannya (minimal 10 karakter).", code="already_final",
                           field="alasan")
    _preconditions(doc_type, key, session)
    on = on or today()
    nomor = doc_numbers.next_number(office, doc_type, bulan=on.month, tahun=on.year, session=session)
    code = new_code()
    data_file = None
    data_pair = ("", "")
    if doc_type == "bast_kelurahan":
        meeting = session.get(Musyawarah, key["meeting_id"])
        if meeting.kind == "held":
            rows = da.bnba_rows(da._proposals(meeting, session), session)
            name = f"BNBA_{meeting.kelurahan_kode}_{meeting.periode}.csv"
            data_file = filestore.save(da.bnba_csv(rows), media_type="text/csv", purpose="bnba_data", actor=actor,
                                       session=session, original_name=name, wilayah_kode=office)
            data_pair = (data_file.sha256, name)
    assembled = _assemble(doc_type, key, session, nomor=nomor, code=code, on=on, data_file=data_pair)
    pdf = assembled.builder(assembled.content, Furniture(title=assembled.title, draft=False, nomor=nomor, code=code,
                                                         verify_url=verify_url(code),
                                                         running_header=assembled.running_header))
    stored = filestore.save(pdf, media_type="application/pdf", purpose="document", actor=actor, session=session,
                            original_name=f"{doc_type}_{nomor.replace('/', '-')}.pdf", wilayah_kode=office)
    doc = Document(doc_type=doc_type, subject=subject, wilayah_kode=office, kelurahan_kode=kelurahan or None,
                   periode=periode, musyawarah_id=key.get("meeting_id"), nomor=nomor, verification_code=code,
                   file_id=stored.id, sha256=stored.sha256,
                   summary=json.dumps({**assembled.summary, "tanggal": on.isoformat()}, ensure_ascii=False),
                   covers=json.dumps(assembled.covers), data_file_id=data_file.id if data_file else None,
                   susulan=bool(assembled.summary.get("susulan")),
                   finalised_by=actor.username)
    session.add(doc)
    session.flush()
    if previous is None and doc_type in KELURAHAN_TYPES:
        # A revision retired the old final; the new one is its successor.
        session.execute(sa.update(Document).where(Document.doc_type == doc_type, Document.subject == subject,
                                                  Document.status == "superseded", Document.id != doc.id,
                                                  Document.superseded_by_id.is_(None))
                        .values(superseded_by_id=doc.id))
    if previous is not None:
        session.refresh(previous, with_for_update=True)
        if previous.status != "final":
            raise InvalidInput("Dokumen ini baru saja digantikan oleh pengguna lain. Muat ulang halaman.",
                               code="stale_edit")
        previous.status, previous.superseded_by_id = "superseded", doc.id
        previous.supersede_reason = replace_reason.strip()
        session.add(previous)
    audit.record(session, actor, "document.finalised", object_type="document", object_id=doc.uuid,
                 wilayah_kode=office, before={"menggantikan": previous.nomor} if previous else None,
                 after={"jenis": doc_type, "nomor": nomor, "sha256": doc.sha256, "kode": code,
                        "alasan": replace_reason.strip() or None})
    head = session.get(AuditHead, 1)
    doc.audit_seq, doc.audit_hash = head.last_seq, head.last_hash
    session.add(doc)
    session.flush()
    return document_dict(doc)


# ---------------------------------------------------------------- after finalising: scans, receipt, downloads

def _document(document_id: int, session: Session, *, lock: bool = False) -> Document:
    doc = session.get(Document, document_id, with_for_update=lock, populate_existing=lock)
    if doc is None:
        raise NotFound("Dokumen tidak ditemukan.", code="unknown_document")
    return doc


def _scan_kind(data: bytes) -> tuple[str, str]:
    from core.photos import identify

    if data[:5] == b"%PDF-":
        if b"%%EOF" not in data[-2048:]:
            raise InvalidInput("Berkas PDF pindaian tidak utuh (terpotong saat disalin atau diunduh). Simpan ulang "
                               "hasil pindaian lalu unggah lagi.", code="scan_pdf_truncated", field="pindaian")
        return "application/pdf", "pdf"
    facts = identify(data)
    fmt = facts[0] if facts else ""
    if fmt in ("JPEG", "PNG"):
        return f"image/{fmt.lower()}", fmt.lower()
    raise InvalidInput("Berkas pindaian harus PDF atau gambar JPG/PNG (isi berkas diperiksa, bukan namanya). "
                       "Pindai ulang dokumen bertanda tangan lalu unggah lagi.", code="scan_type", field="pindaian")


def upload_scan(document_id: int, data: bytes, filename: str, *, actor: Actor, session: Session) -> dict:
    """The signed scan of a final document, kept in the file store; refused once a BAST has listed the old one."""
    doc = _document(document_id, session, lock=True)
    require(actor, Action.DOCUMENT_DRAFT, doc.wilayah_kode)
    if actor.wilayah_kode != doc.wilayah_kode:
        raise AccessDenied("Pindaian diunggah oleh kantor yang menerbitkan dokumen.")
    if doc.status != "final":
        raise InvalidInput("Dokumen ini sudah digantikan; unggah pindaian untuk dokumen penggantinya.",
                           code="superseded")
    if not data:
        raise InvalidInput("Berkas pindaian kosong.", code="scan_empty", field="pindaian")
    if len(data) > SCAN_MAX_BYTES:
        raise InvalidInput(f"Berkas pindaian terlalu besar ({len(data) // (1024 * 1024)} MB); paling besar 20 MB. "
                           "Pindai dengan resolusi 150–200 dpi.", code="scan_too_large", field="pindaian")
    media_type, _ = _scan_kind(data)
    if doc.doc_type in KELURAHAN_TYPES:
        from core.workflow import ensure_editable

        ensure_editable(doc.musyawarah_id, session, "Pindaian dokumen")
    if doc.scan_sha256 and _listed_in_bast(doc, session):
        raise InvalidInput("Pindaian ini sudah tercantum di BAST yang final; terbitkan ulang BAST bila pindaian "
                           "harus diganti.", code="scan_in_bast")
    stored = filestore.save(data, media_type=media_type, purpose="scan", actor=actor, session=session,
                            original_name=filename, wilayah_kode=doc.wilayah_kode)
    before = doc.scan_sha256 or None
    doc.scan_file_id, doc.scan_sha256 = stored.id, stored.sha256
    doc.scan_uploaded_by, doc.scan_uploaded_at, doc.version = actor.username, utcnow(), doc.version + 1
    session.add(doc)
    session.flush()
    audit.record(session, actor, "document.scan_uploaded", object_type="document", object_id=doc.uuid,
                 wilayah_kode=doc.wilayah_kode, before={"sha256": before} if before else None,
                 after={"sha256": stored.sha256, "nama_berkas": filename})
    return document_dict(doc)


def _listed_in_bast(doc: Document, session: Session) -> bool:
    """Is this document handed over in a final BAST of its own musyawarah (its scan's hash is printed there)?"""
    for bast in session.exec(select(Document).where(Document.doc_type == "bast_kelurahan", Document.status == "final",
                                                    Document.musyawarah_id == doc.musyawarah_id)):
        if doc.id in json.loads(bast.covers):
            return True
    return False


def record_receipt(document_id: int, *, actor: Actor, session: Session) -> dict:
    """The Camat records that he received a kelurahan's BAST (with its signed scan)."""
    doc = _document(document_id, session, lock=True)
    require(actor, Action.BATCH_REVIEW, doc.wilayah_kode)
    if doc.doc_type != "bast_kelurahan":
        raise InvalidInput("Penerimaan dicatat untuk BAST kelurahan.", code="not_bast")
    if doc.status != "final":
        raise InvalidInput("BAST ini sudah digantikan; catat penerimaan BAST penggantinya.", code="superseded")
    if not doc.scan_sha256:
        raise InvalidInput("Pindaian BAST bertanda tangan belum diunggah kelurahan.", code="scan_missing")
    if doc.received_at:
        return document_dict(doc)
    doc.received_by, doc.received_at, doc.version = actor.username, utcnow(), doc.version + 1
    session.add(doc)
    session.flush()
    audit.record(session, actor, "document.received", object_type="document", object_id=doc.uuid,
                 wilayah_kode=doc.wilayah_kode, after={"nomor": doc.nomor})
    return document_dict(doc)


def document_dict(doc: Document) -> dict:
    return {"id": doc.id, "uuid": doc.uuid, "doc_type": doc.doc_type, "label": LABELS[doc.doc_type],
            "subject": doc.subject, "wilayah_kode": doc.wilayah_kode, "periode": doc.periode, "nomor": doc.nomor,
            "kode": doc.verification_code, "status": doc.status, "susulan": doc.susulan, "sha256": doc.sha256,
            "ringkasan": json.loads(doc.summary), "covers": json.loads(doc.covers),
            "superseded_by_id": doc.superseded_by_id, "alasan_pengganti": doc.supersede_reason,
            "scan_sha256": doc.scan_sha256, "scan_uploaded_by": doc.scan_uploaded_by,
            "scan_uploaded_at": doc.scan_uploaded_at, "received_by": doc.received_by,
            "received_at": doc.received_at, "finalised_by": doc.finalised_by, "finalised_at": doc.finalised_at,
            "audit_seq": doc.audit_seq, "audit_hash": doc.audit_hash, "musyawarah_id": doc.musyawarah_id,
            "version": doc.version}


def list_documents(*, actor: Actor, session: Session, wilayah_kode: str | None = None, periode: str | None = None,
                   meeting_id: int | None = None, doc_type: str | None = None) -> list[dict]:
    """Registry entries in the actor's scope (finals and superseded), newest first."""
    scope = wilayah_kode or actor.wilayah_kode
    require(actor, Action.WILAYAH_VIEW, scope)
    from core.access import scope_filter

    stmt = select(Document).where(scope_filter(Document.wilayah_kode, scope))
    if not in_scope(actor.wilayah_kode, scope):
        return []
    if periode:
        stmt = stmt.where(Document.periode == periode)
    if meeting_id:
        stmt = stmt.where(Document.musyawarah_id == meeting_id)
    if doc_type:
        stmt = stmt.where(Document.doc_type == doc_type)
    return [document_dict(d) for d in session.exec(stmt.order_by(Document.id.desc()))]


def download(document_id: int, *, actor: Actor, session: Session, which: str = "pdf") -> tuple[bytes, str, str]:
    """(bytes, file name, media type) of a final PDF, its signed scan or the BNBA data file; audited."""
    doc = _document(document_id, session)
    if doc.doc_type in ("berita_acara", "bast_kelurahan", "pengesahan"):
        require_bulk(actor, doc.wilayah_kode)
    else:
        require(actor, Action.WILAYAH_VIEW, doc.wilayah_kode)
    if which not in ("pdf", "scan", "data"):
        raise InvalidInput("Pilih berkas: pdf, scan atau data.", code="file_kind_unknown", field="berkas")
    file_id = {"pdf": doc.file_id, "scan": doc.scan_file_id, "data": doc.data_file_id}[which]
    if file_id is None:
        raise NotFound("Berkas ini belum ada.", code="no_file")
    stored = session.get(StoredFile, file_id)
    from core.retention import ensure_present

    ensure_present(stored)  # a signed scan purged after its retention period: the message says when and why
    data = filestore.default_store().get(stored.sha256)
    audit.record(session, actor, "document.downloaded", object_type="document", object_id=doc.uuid,
                 wilayah_kode=doc.wilayah_kode, after={"berkas": which, "nomor": doc.nomor})
    return data, stored.original_name or f"{doc.doc_type}.pdf", stored.media_type
