"""Submission packages: one batch with everything behind it in a ZIP, for the offline path and for archiving.

A meeting laptop without network exports the package; the central server imports it. The ZIP holds
``manifest.json`` (format version; the batch with its UUID, state history and revisions; the musyawarah with its
attendees; proposals and members; the families they name; verifications with photo metadata — sha256, latitude,
longitude, coordinate source, taken_at, flags; documents with their hashes and verification codes; the batch's
audit entries and the chain head) and the files themselves under ``files/<sha256>``. The manifest's SHA-256 is
printed, registered, and shown on a BAST finalised afterwards, so the receiver can check the USB stick against the
signed paper. Encryption (AES, pyzipper) protects the full NIKs in transit.

Import checks every file against the manifest and the manifest against the expected hash, checks the audit
entries as a chain of their own, writes everything in one transaction (or nothing), and is idempotent by UUID.

Before anything is unpacked, a package that is a ZIP bomb is refused from its directory alone: more than 800 MB
declared in all, more than 200,000 members, or a member that inflates more than 100-fold (photos and PDFs barely
compress; the manifest's JSON about tenfold; deflate on zeros about a thousandfold). Only ``manifest.json`` and
``files/<sha256>`` may be in it, and no member may itself be an archive (a nested ZIP is never opened). A member
whose recorded size is a lie is read only up to that size and then fails its CRC.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import date, datetime

import pyzipper
from sqlmodel import Session, SQLModel, select

from core import audit, filestore, photos
from core.access import Action, Actor, Role, require, require_bulk
from core.errors import AccessDenied, InvalidInput
from core.models import (Assignment, Attendee, AuditEntry, AuditHead, Batch, BatchEvent, BatchRevision, Document,
                         Family, Flag, MeetingPhoto, Musyawarah, Person, PhotoHashChunk, Proposal, ProposalMember,
                         StoredFile, Visit, VisitPhoto)

FORMAT = "muskel-package"
VERSION = 1
MAX_PACKAGE_BYTES = 500 * 1024 * 1024
MAX_UNCOMPRESSED = 800 * 1024 * 1024  # a ZIP bomb is refused before anything is unpacked
MAX_MEMBERS = 200_000
MAX_RATIO = 100  # inflated / compressed size of one member
RATIO_FROM = 1024 * 1024  # members smaller than this are not judged by their ratio (a short JSON compresses well)
_MEMBER_NAME = re.compile(r"files/[0-9a-f]{64}")
# Magic numbers of archives (ZIP, gzip, bzip2, xz, 7z, RAR): a package never carries one.
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00",
                  b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07")
IMPORTERS = (Role.OPERATOR, Role.LURAH, Role.CAMAT, Role.WALIKOTA)
BAD_ZIP = (zipfile.BadZipFile, pyzipper.BadZipFile, zipfile.LargeZipFile, EOFError)  # pyzipper has its own class


def _row(obj: SQLModel) -> dict:
    return json.loads(json.dumps(obj.model_dump(), default=_json_default))


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _rows(session: Session, model, *conditions) -> list:
    return list(session.exec(select(model).where(*conditions).order_by(model.id)))


# ---------------------------------------------------------------- export

def build_manifest(batch_id: int, *, actor: Actor, session: Session) -> tuple[dict, set[str]]:
    """The manifest and the contents (sha256) of the stored files it lists; several rows may share one content."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        from core.errors import NotFound

        raise NotFound("Pengajuan tidak ditemukan.", code="unknown_batch")
    require_bulk(actor, batch.kelurahan_kode)
    meeting = session.get(Musyawarah, batch.musyawarah_id)
    proposals = _rows(session, Proposal, Proposal.musyawarah_id == meeting.id)
    ids = [p.id for p in proposals] or [0]
    family_ids = [p.family_id for p in proposals if p.family_id] or [0]
    assignments = _rows(session, Assignment, Assignment.proposal_id.in_(ids) | Assignment.family_id.in_(family_ids))
    assignments = [a for a in assignments if a.kelurahan_kode == batch.kelurahan_kode]
    visits = _rows(session, Visit, Visit.assignment_id.in_([a.id for a in assignments] or [0]))
    visit_photos = _rows(session, VisitPhoto, VisitPhoto.visit_id.in_([v.id for v in visits] or [0]))
    meeting_photos = _rows(session, MeetingPhoto, MeetingPhoto.musyawarah_id == meeting.id)
    docs = _rows(session, Document, Document.musyawarah_id == meeting.id)
    file_ids = {fid for p in visit_photos for fid in (p.original_id, p.display_id, p.thumb_id)}
    file_ids |= {fid for p in meeting_photos for fid in (p.file_id, p.thumbnail_id) if fid}
    file_ids |= {fid for d in docs for fid in (d.file_id, d.scan_file_id, d.data_file_id) if fid}
    stored = _rows(session, StoredFile, StoredFile.id.in_(file_ids or {0}))
    entries = list(session.exec(select(AuditEntry).where(
        AuditEntry.object_id.in_([batch.uuid, meeting.uuid, *[p.uuid for p in proposals], *[d.uuid for d in docs]]))
        .order_by(AuditEntry.seq)))
    head = session.get(AuditHead, 1)
    manifest = {
        "format": FORMAT, "version": VERSION,
        "batch": {**_row(batch), "events": [_row(e) for e in _rows(session, BatchEvent, BatchEvent.batch_id == batch.id)],
                  "revisions": [_row(r) for r in _rows(session, BatchRevision, BatchRevision.batch_id == batch.id)]},
        "musyawarah": {**_row(meeting), "attendees": [_row(a) for a in _rows(session, Attendee,
                                                                             Attendee.musyawarah_id == meeting.id)],
                       "photos": [_row(p) for p in meeting_photos]},
        "proposals": [{**_row(p), "members": [_row(m) for m in _rows(session, ProposalMember,
                                                                     ProposalMember.proposal_id == p.id)],
                       "flags": [_row(f) for f in _rows(session, Flag, Flag.proposal_id == p.id)]}
                      for p in proposals],
        "families": [{**_row(f), "persons": [_row(x) for x in _rows(session, Person, Person.family_id == f.id)]}
                     for f in _rows(session, Family, Family.id.in_(family_ids))],
        "verifications": {"assignments": [_row(a) for a in assignments], "visits": [_row(v) for v in visits],
                          "photos": [{**_row(p), "coordinate_source": "exif" if p.latitude is not None else ""}
                                     for p in visit_photos]},
        "documents": [_row(d) for d in docs],
        "files": [{"id": f.id, "sha256": f.sha256, "size": f.size, "media_type": f.media_type,
                   "original_name": f.original_name, "purpose": f.purpose, "path": f"files/{f.sha256}",
                   # an original purged after its retention period: listed with its hash, its bytes not carried
                   **({"purged_at": f.purged_at.isoformat()} if f.purged_at else {})}
                  for f in stored],
        "audit": {"entries": [_row(e) for e in entries], "head": {"seq": head.last_seq, "hash": head.last_hash}},
    }
    return manifest, {f.sha256 for f in stored if f.purged_at is None}


def manifest_bytes(manifest: dict) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def export_package(batch_id: int, *, actor: Actor, session: Session, passphrase: str | None = None) -> tuple[bytes, str]:
    """(ZIP bytes, manifest SHA-256); the export and its hash are recorded in the audit log."""
    manifest, files = build_manifest(batch_id, actor=actor, session=session)
    body = manifest_bytes(manifest)
    digest = hashlib.sha256(body).hexdigest()
    store = filestore.default_store()
    buffer = io.BytesIO()
    if passphrase is not None:
        if len(passphrase) < 8:
            raise InvalidInput("Frasa sandi paket minimal 8 karakter.", code="passphrase_short", field="passphrase")
        archive = pyzipper.AESZipFile(buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES)
        archive.setpassword(passphrase.encode("utf-8"))
    else:
        archive = zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED)
    with archive:
        archive.writestr("manifest.json", body)
        for sha in sorted(files):
            archive.writestr(f"files/{sha}", store.get(sha))
    batch = session.get(Batch, batch_id)
    audit.record(session, actor, "batch.package_exported", object_type="batch", object_id=batch.uuid,
                 wilayah_kode=batch.kelurahan_kode,
                 after={"manifest_sha256": digest, "berkas": len(files), "terenkripsi": passphrase is not None})
    return buffer.getvalue(), digest


def latest_manifest_hash(batch: Batch, session: Session) -> str:
    """The manifest hash of the newest package exported for this batch (shown on a BAST finalised afterwards)."""
    row = session.exec(select(AuditEntry).where(AuditEntry.action == "batch.package_exported",
                                                AuditEntry.object_id == batch.uuid)
                       .order_by(AuditEntry.seq.desc())).first()
    return json.loads(row.after)["manifest_sha256"] if row else ""


# ---------------------------------------------------------------- import

def _open(data: bytes, passphrase: str | None) -> tuple[bytes, dict[str, bytes]]:
    if len(data) > MAX_PACKAGE_BYTES:
        raise InvalidInput("Paket terlalu besar (paling besar 500 MB).", code="package_too_large", field="paket")
    try:
        archive = pyzipper.AESZipFile(io.BytesIO(data))
    except (*BAD_ZIP, OSError, ValueError) as exc:
        raise InvalidInput("Berkas ini bukan paket ZIP Muskel yang utuh.", code="package_not_zip",
                           field="paket") from exc
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        _refuse_bombs(infos)
        if any(i.flag_bits & 0x1 for i in infos):
            if not passphrase:
                raise InvalidInput("Paket ini terenkripsi: masukkan frasa sandinya.", code="passphrase_required",
                                   field="passphrase")
            archive.setpassword(passphrase.encode("utf-8"))
        try:
            names = {i.filename for i in infos}
            if "manifest.json" not in names:
                raise InvalidInput("Paket tidak memuat manifest.json.", code="package_incomplete", field="paket")
            body = _read_member(archive, archive.getinfo("manifest.json"))
            files = {i.filename: _read_member(archive, i) for i in infos if i.filename.startswith("files/")}
        except RuntimeError as exc:  # a wrong passphrase
            raise InvalidInput("Frasa sandi salah, atau paket rusak.", code="passphrase_wrong",
                               field="passphrase") from exc
        except (*BAD_ZIP, OSError, ValueError) as exc:
            raise InvalidInput("Paket rusak: sebuah berkas di dalamnya tidak dapat dibaca.", code="package_corrupt",
                               field="paket") from exc
    return body, files


def _refuse_bombs(infos: list) -> None:
    """Judge the archive by its directory, before inflating anything."""
    bomb = InvalidInput("Paket ditolak: isinya mengembang jauh melebihi ukuran berkasnya (kemungkinan bom ZIP). "
                        "Ekspor ulang paket dari Muskel di laptop musyawarah.", code="package_bomb", field="paket")
    if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
        raise bomb
    for info in infos:
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise bomb
    strangers = [i.filename for i in infos if i.filename != "manifest.json" and not _MEMBER_NAME.fullmatch(i.filename)]
    if strangers:
        raise InvalidInput(f"Paket ditolak: memuat {strangers[0][:80]!r}, yang bukan bagian paket Muskel (hanya "
                           "manifest.json dan files/<sha256>).", code="package_unexpected_member", field="paket")


def _read_member(archive, info) -> bytes:
    """One member, inflated in chunks; never more than its recorded size (zipfile stops there and checks the
    CRC), and never an archive inside the archive."""
    parts, total = [], 0
    with archive.open(info) as member:
        while chunk := member.read(1 << 20):
            if not parts and chunk.startswith(_ARCHIVE_MAGIC):
                raise InvalidInput(f"Paket ditolak: {info.filename} berisi arsip lain (ZIP/gzip/7z/RAR). Paket Muskel "
                                   "hanya memuat foto, PDF dan CSV.", code="package_nested_archive", field="paket")
            total += len(chunk)
            if total > info.file_size:  # zipfile already stops at the recorded size; kept as a second guard
                raise InvalidInput("Paket rusak: sebuah berkas di dalamnya lebih besar dari yang tercatat.",
                                   code="package_corrupt", field="paket")
            parts.append(chunk)
    return b"".join(parts)


def check_package(data: bytes, *, passphrase: str | None = None, expect_hash: str | None = None) -> tuple[dict, dict[str, bytes], str]:
    """Open and check a package without touching the database: (manifest, files by path, manifest hash)."""
    body, files = _open(data, passphrase)
    digest = hashlib.sha256(body).hexdigest()
    if expect_hash and digest != expect_hash.strip().lower():
        raise InvalidInput(f"SHA-256 manifest paket ({digest}) tidak sama dengan yang diharapkan ({expect_hash}): "
                           "paket ini bukan paket yang tercantum pada BAST.", code="manifest_hash_mismatch")
    try:
        manifest = json.loads(body)
    except ValueError as exc:
        raise InvalidInput("manifest.json rusak.", code="manifest_corrupt") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise InvalidInput("Format paket tidak dikenal oleh versi Muskel ini.", code="package_format")
    if any(entry.get("purged_at") for entry in manifest["files"]):
        raise InvalidInput("Paket ini adalah arsip pengajuan yang berkas aslinya sudah dihapus sesuai masa retensi; "
                           "paket seperti ini dapat dibaca sebagai arsip tetapi tidak dapat diimpor.",
                           code="package_has_purged_files")
    for entry in manifest["files"]:
        content = files.get(entry["path"])
        if content is None:
            raise InvalidInput(f"Paket tidak lengkap: {entry['path']} tidak ada.", code="package_incomplete")
        if hashlib.sha256(content).hexdigest() != entry["sha256"]:
            raise InvalidInput(f"Berkas {entry['path']} di dalam paket telah berubah (SHA-256 tidak cocok).",
                               code="file_hash_mismatch")
    _check_audit(manifest["audit"]["entries"])
    return manifest, files, digest


def _check_audit(entries: list[dict]) -> None:
    """The exported entries as a chain of their own: each one's hash still matches its content, in order, and an
    entry that directly follows another in the source chain still points to that one's hash."""
    previous_seq, previous_hash = 0, None
    for raw in entries:
        entry = AuditEntry.model_validate(raw)
        linked = entry.seq == previous_seq + 1 and previous_hash is not None
        if entry.seq <= previous_seq or audit.entry_hash(entry) != entry.hash or \
                (linked and entry.prev_hash != previous_hash):
            raise InvalidInput(f"Entri log audit #{raw.get('seq')} di dalam paket telah diubah.",
                               code="package_audit_broken")
        previous_seq, previous_hash = entry.seq, entry.hash


def _check_contents(manifest: dict, kelurahan: str) -> None:
    """A package speaks only for its own kelurahan and only with kelurahan documents whose bytes it carries.

    The hashes inside a package are plain SHA-256: whoever edits a package can recompute them. So nothing in it is
    trusted beyond what a kelurahan may itself produce — no other wilayah's rows, no Camat or Walikota documents,
    no document whose registered hash is not the hash of the file it points to.
    """
    from core.documents import KELURAHAN_TYPES

    def refuse(what: str) -> None:
        raise InvalidInput(f"Paket ditolak: {what}. Paket hanya boleh memuat data satu kelurahan ({kelurahan}).",
                           code="package_foreign_content")

    rows = [manifest["musyawarah"], *manifest["proposals"], *manifest["verifications"]["assignments"],
            *manifest["verifications"]["photos"], *[f for p in manifest["proposals"] for f in p["flags"]]]
    if any(r.get("kelurahan_kode") != kelurahan for r in rows):
        refuse("ada data kelurahan lain")
    files = {f["id"]: f["sha256"] for f in manifest["files"]}
    for d in manifest["documents"]:
        if d["doc_type"] not in KELURAHAN_TYPES or d["wilayah_kode"] != kelurahan:
            refuse(f"dokumen {d.get('nomor', '?')} bukan dokumen kelurahan ini")
        if d["file_id"] not in files or (d.get("scan_file_id") and d["scan_file_id"] not in files):
            raise InvalidInput(f"Paket tidak lengkap: berkas dokumen {d.get('nomor', '?')} tidak ada.",
                               code="package_incomplete")
        if files.get(d["file_id"]) != d["sha256"]:
            refuse(f"sidik dokumen {d.get('nomor', '?')} tidak sama dengan berkas PDF-nya")
        if d.get("scan_file_id") and files.get(d["scan_file_id"]) != d.get("scan_sha256"):
            refuse(f"sidik pindaian dokumen {d.get('nomor', '?')} tidak sama dengan berkasnya")


def import_package(data: bytes, *, actor: Actor, session: Session, passphrase: str | None = None,
                   expect_hash: str | None = None) -> dict:
    """Load a checked package into this installation in the caller's transaction; a second import of the same
    batch UUID changes nothing and says so."""
    manifest, files, digest = check_package(data, passphrase=passphrase, expect_hash=expect_hash)
    source = manifest["batch"]
    kelurahan = source["kelurahan_kode"]
    require(actor, Action.FAMILY_VIEW, kelurahan)
    if Role(actor.role) not in IMPORTERS:
        raise AccessDenied("Paket pengajuan diimpor oleh staf kelurahan, Camat atau kantor Walikota/Bupati.")
    existing = session.exec(select(Batch).where(Batch.uuid == source["uuid"])).first()
    if existing is not None:
        return {"imported": False, "batch_id": existing.id, "manifest_sha256": digest,
                "pesan": "Paket ini sudah pernah diimpor; tidak ada yang diubah."}
    if session.exec(select(Musyawarah).where(Musyawarah.uuid == manifest["musyawarah"]["uuid"])).first():
        raise InvalidInput("Musyawarah dalam paket sudah ada di instalasi ini dengan pengajuan lain.",
                           code="package_conflict")
    _check_contents(manifest, kelurahan)
    ids = _Loader(session, actor, files, manifest["files"], kelurahan).load(manifest)
    batch = session.get(Batch, ids)
    audit.record(session, actor, "batch.package_imported", object_type="batch", object_id=batch.uuid,
                 wilayah_kode=kelurahan, after={"manifest_sha256": digest, "berkas": len(manifest["files"]),
                                                "entri_audit_sumber": len(manifest["audit"]["entries"]),
                                                "kepala_rantai_sumber": manifest["audit"]["head"]})
    return {"imported": True, "batch_id": batch.id, "manifest_sha256": digest, "pesan": "Paket diimpor."}


class _Loader:
    """Recreates the rows of a manifest with new ids, keeping UUIDs and every link between them."""

    def __init__(self, session: Session, actor: Actor, files: dict[str, bytes], file_meta: list[dict], kelurahan: str):
        self.s, self.actor, self.files, self.kelurahan = session, actor, files, kelurahan
        self.file_ids: dict[int, int] = {}
        self.source_files = {meta["id"]: meta for meta in file_meta}

    def _file(self, old_id: int | None) -> int | None:
        if old_id is None:
            return None
        if old_id not in self.file_ids:
            meta = self.source_files.get(old_id)
            if meta is None:
                raise InvalidInput(f"Paket tidak lengkap: berkas #{old_id} tidak tercantum di manifest.",
                                   code="package_incomplete")
            row = filestore.save(self.files[meta["path"]], media_type=meta["media_type"], purpose=meta["purpose"],
                                 actor=self.actor, session=self.s, original_name=meta["original_name"],
                                 wilayah_kode=self.kelurahan)
            self.file_ids[old_id] = row.id
        return self.file_ids[old_id]

    def _add(self, model, raw: dict, **overrides):
        data = {k: v for k, v in raw.items() if k in model.model_fields and k != "id"}
        data.update(overrides)
        row = model.model_validate(data)
        self.s.add(row)
        self.s.flush()
        return row

    def load(self, m: dict) -> int:
        meeting = self._add(Musyawarah, m["musyawarah"], follow_up_of=None)
        for a in m["musyawarah"]["attendees"]:
            self._add(Attendee, a, musyawarah_id=meeting.id)
        for p in m["musyawarah"]["photos"]:
            self._add(MeetingPhoto, p, musyawarah_id=meeting.id, file_id=self._file(p["file_id"]),
                      thumbnail_id=self._file(p["thumbnail_id"]))
        families = {}
        for f in m["families"]:
            here = self.s.exec(select(Family).where(Family.kelurahan_kode == f["kelurahan_kode"],
                                                    Family.no_kk == f["no_kk"])).first()
            families[f["id"]] = here.id if here else None
        proposals = {}
        for p in m["proposals"]:
            entering = {} if p["status"] in ("dibatalkan", "dikembalikan", "ditolak") else \
                {"status": "diusulkan", "status_level": "", "status_reason": ""}
            row = self._add(Proposal, {k: v for k, v in p.items() if k not in ("members", "flags")},
                            musyawarah_id=meeting.id, family_id=families.get(p["family_id"]), origin_id=None,
                            **entering)
            proposals[p["id"]] = row.id
            for member in p["members"]:
                self._add(ProposalMember, member, proposal_id=row.id)
            for flag in p["flags"]:
                self._add(Flag, flag, proposal_id=row.id, family_id=families.get(flag["family_id"]), import_id=None)
        visits = {}
        for a in m["verifications"]["assignments"]:
            row = self._add(Assignment, a, family_id=families.get(a["family_id"]),
                            proposal_id=proposals.get(a["proposal_id"]))
            for v in (v for v in m["verifications"]["visits"] if v["assignment_id"] == a["id"]):
                visits[v["id"]] = self._add(Visit, v, assignment_id=row.id).id
        for p in m["verifications"]["photos"]:
            raw = {k: v for k, v in p.items() if k != "coordinate_source"}
            row = self._add(VisitPhoto, raw, visit_id=visits[p["visit_id"]], family_id=families.get(p["family_id"]),
                            original_id=self._file(p["original_id"]), display_id=self._file(p["display_id"]),
                            thumb_id=self._file(p["thumb_id"]))
            self.s.add_all([PhotoHashChunk(photo_id=row.id, position=i, value=v)
                            for i, v in enumerate(photos.hash_chunks(int(p["phash"], 16)))])
        documents = {}
        for d in m["documents"]:
            # The anchor points into the source installation's chain; kept in the summary, not checked here.
            summary = {**json.loads(d["summary"]), "audit_sumber": {"seq": d["audit_seq"], "hash": d["audit_hash"]}}
            row = self._add(Document, d, musyawarah_id=meeting.id, superseded_by_id=None, audit_seq=0, audit_hash="",
                            summary=json.dumps(summary, ensure_ascii=False),
                            file_id=self._file(d["file_id"]), scan_file_id=self._file(d["scan_file_id"]),
                            data_file_id=self._file(d["data_file_id"]))
            documents[d["id"]] = row
        for d in m["documents"]:
            if d["superseded_by_id"] in documents:
                documents[d["id"]].superseded_by_id = documents[d["superseded_by_id"]].id
                self.s.add(documents[d["id"]])
        source = m["batch"]
        # The batch enters this installation at the start of the road: the states it reached elsewhere are
        # history, not authority here — its reviewers act on it again.
        batch = self._add(Batch, {k: v for k, v in source.items() if k not in ("events", "revisions")},
                          musyawarah_id=meeting.id, state="draft", late=False, submitted_at=None)
        for e in source["events"]:
            self._add(BatchEvent, e, batch_id=batch.id)
        for r in source["revisions"]:
            self._add(BatchRevision, r, batch_id=batch.id)
        self.s.add(BatchEvent(batch_id=batch.id, revision=batch.revision, action="impor", from_state=source["state"],
                              to_state="draft", actor_username=self.actor.username, actor_role=str(self.actor.role),
                              reason="Diimpor dari paket pengajuan"))
        self.s.flush()
        return batch.id
