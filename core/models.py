"""The tables of Muskel, one class each.

Records that may travel to another installation carry a ``uuid`` beside their local ``id``.
Timestamps are stored as timezone-aware UTC (see ``UTCDateTime``).
"""

from __future__ import annotations

import os
import uuid as uuid_lib
from datetime import date, datetime, timezone
from typing import Optional

import numpy as np
import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from core.timefmt import as_utc, utcnow

# Stable constraint names, so Alembic migrations work the same on SQLite (batch mode) and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A datetime that always comes back timezone-aware in UTC, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use core.timefmt.utcnow()")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        return None if value is None else as_utc(value)


def new_uuid() -> str:
    return str(uuid_lib.uuid4())


def new_uuids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs at once, for bulk inserts: ``uuid4()`` row by row costs ~7 µs each here,
    0.2 s of a 30,000-family import. Same randomness source (``os.urandom``), same text form."""
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexed = raw.tobytes().hex()
    return [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            for h in (hexed[i:i + 32] for i in range(0, 32 * n, 32))]


def _created_at():
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Wilayah(SQLModel, table=True):
    """An administrative region with its Kemendagri code (reference data loaded by `muskel init`)."""

    kode: str = Field(primary_key=True, max_length=13)
    tingkat: str = Field(max_length=10, index=True)  # provinsi | kota | kabupaten | kecamatan | kelurahan
    nama: str = Field(max_length=100)
    kode_induk: Optional[str] = Field(default=None, foreign_key="wilayah.kode", index=True, max_length=13)
    kode_pos: Optional[str] = Field(default=None, max_length=5)


class OfficeProfile(SQLModel, table=True):
    """The office of a wilayah as it appears on letterheads: address, phone, head of office."""

    wilayah_kode: str = Field(primary_key=True, foreign_key="wilayah.kode", max_length=13)
    alamat: str = Field(default="", max_length=300)
    telepon: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=120)
    nama_pimpinan: str = Field(default="", max_length=120)
    nip_pimpinan: str = Field(default="", max_length=30)
    nama_kantor: str = Field(default="", max_length=150)  # e.g. "Kantor Kelurahan Kayu Manis"; derived when empty
    kode_pos: str = Field(default="", max_length=5)
    jabatan_pimpinan: str = Field(default="", max_length=120)  # e.g. "Lurah Kayu Manis"; derived when empty
    logo_file_id: Optional[int] = Field(default=None, foreign_key="storedfile.id")
    # Who signs while the head is away: "" (the head) | Plt. | Plh. | a.n. (on behalf of the head)
    pengganti_sebutan: str = Field(default="", max_length=8)
    pengganti_nama: str = Field(default="", max_length=120)
    pengganti_nip: str = Field(default="", max_length=30)
    pengganti_jabatan: str = Field(default="", max_length=120)
    updated_at: datetime = _created_at()
    version: int = Field(default=1)


class User(SQLModel, table=True):
    """An account: one person, one role, one wilayah."""

    __tablename__ = "user_account"

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    nama: str = Field(max_length=120)
    role: str = Field(max_length=16, index=True)
    wilayah_kode: str = Field(foreign_key="wilayah.kode", max_length=13, index=True)
    nip: str = Field(default="", max_length=30)
    jabatan: str = Field(default="", max_length=120)
    telepon: str = Field(default="", max_length=40)
    password_hash: str = Field(max_length=255)
    must_change_password: bool = Field(default=True)
    failed_attempts: int = Field(default=0)
    locked_until: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    is_active: bool = Field(default=True)
    is_demo: bool = Field(default=False)
    last_login_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()
    version: int = Field(default=1)


class AuditEntry(SQLModel, table=True):
    """One line of the append-only audit log; ``hash`` covers the line and the previous line's hash."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    seq: int = Field(unique=True)
    created_at: datetime = _created_at()
    actor_username: str = Field(max_length=64, index=True)
    actor_role: str = Field(max_length=16)
    channel: str = Field(max_length=8)  # web | cli | system
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=32)
    object_id: str = Field(max_length=64)
    wilayah_kode: Optional[str] = Field(default=None, max_length=13, index=True)
    before: Optional[str] = Field(default=None, sa_type=sa.Text)  # canonical JSON
    after: Optional[str] = Field(default=None, sa_type=sa.Text)  # canonical JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """A single row holding the chain's tip; locking it serialises appends so the chain never forks."""

    id: int = Field(default=1, primary_key=True)
    last_seq: int = Field(default=0)
    last_hash: str = Field(max_length=64)


class StoredFile(SQLModel, table=True):
    """A file in the content-addressed store; other tables point here, never to paths."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    sha256: str = Field(max_length=64, index=True)
    size: int
    media_type: str = Field(max_length=100)
    original_name: str = Field(default="", max_length=255)
    purpose: str = Field(max_length=40)  # what the file is for: photo, scan, document, meeting_photo…
    wilayah_kode: Optional[str] = Field(default=None, foreign_key="wilayah.kode", max_length=13, index=True)
    created_by: str = Field(max_length=64)
    created_at: datetime = _created_at()
    # Set when the retention period removed this original (core.retention): the row, its hash and size stay.
    purged_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    purged_after_years: Optional[int] = None  # the retention period that applied, for the message people read


class Draft(SQLModel, table=True):
    """Input a user typed but has not saved yet, kept so that a refresh or a timeout loses nothing."""

    __table_args__ = (sa.UniqueConstraint("username", "form_key", name="uq_draft_username_form_key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    form_key: str = Field(max_length=64)
    payload: str = Field(sa_type=sa.Text)  # JSON object: widget key -> value
    reason: str = Field(default="autosave", max_length=16)  # autosave | timeout
    updated_at: datetime = _created_at()


class RegisterImport(SQLModel, table=True):
    """One DTSEN extract imported for a kelurahan: the file (kept in the file store) and what it changed."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    kelurahan_kode: str = Field(foreign_key="wilayah.kode", max_length=13, index=True)
    file_id: int = Field(foreign_key="storedfile.id")
    filename: str = Field(max_length=255)
    imported_by: str = Field(max_length=64)
    imported_at: datetime = _created_at()
    persons: int = 0
    families: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    absent: int = 0
    problems: int = 0
    skipped_rows: int = 0  # rows left out by an explicit "import only the valid rows"


class Family(SQLModel, table=True):
    """A DTSEN family (keluarga), keyed by No KK within a kelurahan's register; never deleted."""

    __table_args__ = (sa.UniqueConstraint("kelurahan_kode", "no_kk", name="uq_family_kelurahan_kk"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    kelurahan_kode: str = Field(foreign_key="wilayah.kode", max_length=13, index=True)
    no_kk: str = Field(max_length=16, index=True)
    id_dtsen: str = Field(default="", max_length=40)
    desil: Optional[int] = Field(default=None, index=True)
    alamat: str = Field(default="", max_length=300)
    rt: str = Field(default="", max_length=3)
    rw: str = Field(default="", max_length=3, index=True)
    status: str = Field(default="aktif", max_length=16)  # aktif | absen (not in the latest extract)
    content_hash: str = Field(max_length=64)  # of the family and its members as last imported
    latitude: Optional[float] = None  # the family's recorded location (set during verification)
    longitude: Optional[float] = None
    location_source: str = Field(default="", max_length=12)  # exif | map | typed | device
    location_note: str = Field(default="", max_length=300)
    first_import_id: int = Field(foreign_key="registerimport.id")
    last_import_id: int = Field(foreign_key="registerimport.id")
    updated_at: datetime = _created_at()


class Person(SQLModel, table=True):
    """A member of a DTSEN family; a member who leaves the extract is kept with status ``absen``."""

    id: Optional[int] = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="family.id", index=True)
    nik: str = Field(max_length=16, index=True)
    nama: str = Field(max_length=150)
    jenis_kelamin: str = Field(default="", max_length=1)  # L | P | ""
    tanggal_lahir: Optional[date] = None
    hubungan: str = Field(default="", max_length=40)
    pekerjaan: str = Field(default="", max_length=100)
    status: str = Field(default="aktif", max_length=16)  # aktif | absen


class RegisterChange(SQLModel, table=True):
    """History of the register: what an import did to a family (before → after), so nothing is lost."""

    id: Optional[int] = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="registerimport.id", index=True)
    family_id: int = Field(foreign_key="family.id", index=True)
    change: str = Field(max_length=16)  # baru | berubah | absen | kembali
    before: Optional[str] = Field(default=None, sa_type=sa.Text)
    after: Optional[str] = Field(default=None, sa_type=sa.Text)


class Flag(SQLModel, table=True):
    """A screening finding on a family or person (stable code, severity), open until resolved or waived."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    code: str = Field(max_length=40, index=True)
    severity: str = Field(max_length=10)  # blocking | warning
    kelurahan_kode: str = Field(foreign_key="wilayah.kode", max_length=13, index=True)
    family_id: Optional[int] = Field(default=None, foreign_key="family.id", index=True)
    proposal_id: Optional[int] = Field(default=None, foreign_key="proposal.id", index=True)
    nik: str = Field(default="", max_length=16)
    message: str = Field(sa_type=sa.Text)
    source: str = Field(max_length=16)  # register | proposal | submission
    import_id: Optional[int] = Field(default=None, foreign_key="registerimport.id")
    status: str = Field(default="open", max_length=10, index=True)  # open | resolved | waived
    resolved_by: str = Field(default="", max_length=64)
    resolution_note: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = _created_at()
    resolved_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class KelurahanSetting(SQLModel, table=True):
    """Per-kelurahan meeting settings: the unsur and programme picklists and the quorum rule (JSON)."""

    kelurahan_kode: str = Field(primary_key=True, foreign_key="wilayah.kode", max_length=13)
    unsur: str = Field(sa_type=sa.Text)  # JSON list of strings
    programs: str = Field(sa_type=sa.Text)  # JSON list of strings
    quorum: str = Field(sa_type=sa.Text)  # JSON {"chair": bool, "min_rw": int, "min_lmk": int}
    version: int = Field(default=1)
    updated_at: datetime = _created_at()


class Musyawarah(SQLModel, table=True):
    """A musyawarah kelurahan for a period (``held``), or the statement that none was held (``not_held``)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    kelurahan_kode: str = Field(foreign_key="wilayah.kode", max_length=13, index=True)
    periode: str = Field(max_length=7, index=True)  # YYYY-MM
    kind: str = Field(default="held", max_length=10)  # held | not_held
    follow_up_of: Optional[int] = Field(default=None, foreign_key="musyawarah.id")
    nomor: str = Field(default="", max_length=80)
    tanggal: Optional[date] = None
    jam_mulai: str = Field(default="", max_length=5)  # HH:MM
    jam_selesai: str = Field(default="", max_length=5)
    tempat: str = Field(default="", max_length=200)
    ketua: str = Field(default="", max_length=120)
    ketua_nip: str = Field(default="", max_length=30)
    notulis: str = Field(default="", max_length=120)
    agenda: str = Field(default="", sa_type=sa.Text)
    notulen: str = Field(default="", sa_type=sa.Text)
    not_held_reason: str = Field(default="", sa_type=sa.Text)
    status: str = Field(default="draft", max_length=10, index=True)  # draft | closed
    closed_without_quorum: bool = Field(default=False)
    closed_by: str = Field(default="", max_length=64)
    closed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()
    version: int = Field(default=1)


class MeetingPhoto(SQLModel, table=True):
    """A documentation photo of a musyawarah (the file lives in the file store)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    musyawarah_id: int = Field(foreign_key="musyawarah.id", index=True)
    file_id: int = Field(foreign_key="storedfile.id")
    thumbnail_id: Optional[int] = Field(default=None, foreign_key="storedfile.id")
    caption: str = Field(default="", max_length=200)
    created_by: str = Field(max_length=64)
    created_at: datetime = _created_at()


class Attendee(SQLModel, table=True):
    """A person who signed in at a musyawarah."""

    id: Optional[int] = Field(default=None, primary_key=True)
    musyawarah_id: int = Field(foreign_key="musyawarah.id", index=True)
    nama: str = Field(max_length=120)
    unsur: str = Field(default="", max_length=80)
    jabatan: str = Field(default="", max_length=120)
    alamat: str = Field(default="", max_length=200)  # RT/RW or address
    telepon: str = Field(default="", max_length=40)
    jenis_kelamin: str = Field(default="", max_length=1)
    is_chair: bool = Field(default=False)
    removed: bool = Field(default=False)  # entered by mistake; kept for the record
    created_by: str = Field(max_length=64)
    created_at: datetime = _created_at()
    version: int = Field(default=1)


class Proposal(SQLModel, table=True):
    """An agenda item: one family (one No KK), the members it affects, and the meeting's decision."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    musyawarah_id: int = Field(foreign_key="musyawarah.id", index=True)
    kelurahan_kode: str = Field(foreign_key="wilayah.kode", max_length=13, index=True)
    periode: str = Field(max_length=7, index=True)
    urutan: int = Field(default=0)  # order on the agenda
    family_id: Optional[int] = Field(default=None, foreign_key="family.id", index=True)
    no_kk: str = Field(max_length=16, index=True)
    nama_kepala: str = Field(default="", max_length=150)
    alamat: str = Field(default="", max_length=300)
    rt: str = Field(default="", max_length=3)
    rw: str = Field(default="", max_length=3)
    desil: Optional[int] = None
    jenis: str = Field(max_length=20)  # baru | perbaikan | nonaktif | prioritas_program
    alasan_nonaktif: str = Field(default="", max_length=30)
    programs: str = Field(default="[]", sa_type=sa.Text)  # JSON list
    sumber: str = Field(default="musyawarah", max_length=20)
    alasan: str = Field(default="", sa_type=sa.Text)
    perubahan: str = Field(default="[]", sa_type=sa.Text)  # JSON [{"field", "lama", "baru"}] for perbaikan
    keputusan: str = Field(default="", max_length=20)  # "" | disepakati | tidak_disepakati | ditunda
    catatan_keputusan: str = Field(default="", sa_type=sa.Text)
    status: str = Field(default="diusulkan", max_length=16, index=True)  # workflow state of the item
    status_reason: str = Field(default="", sa_type=sa.Text)  # why the camat/walikota returned or rejected it
    origin_id: Optional[int] = Field(default=None, foreign_key="proposal.id")  # deferred/returned item it continues
    status_level: str = Field(default="", max_length=10)  # camat | walikota: who returned or rejected it
    verification_waiver: str = Field(default="", sa_type=sa.Text)  # the Lurah's reason to submit without a visit
    created_by: str = Field(max_length=64)
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()
    version: int = Field(default=1)


class ProposalMember(SQLModel, table=True):
    """A family member affected by a proposal (counted as one jiwa)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    nik: str = Field(max_length=16, index=True)
    nama: str = Field(max_length=150)
    jenis_kelamin: str = Field(default="", max_length=1)
    tanggal_lahir: Optional[date] = None
    hubungan: str = Field(default="", max_length=40)


class KotaSetting(SQLModel, table=True):
    """Per kota/kabupaten rules (JSON), e.g. which proposals need a field verification before submission."""

    kota_kode: str = Field(primary_key=True, foreign_key="wilayah.kode", max_length=13)
    settings: str = Field(sa_type=sa.Text)
    version: int = Field(default=1)
    updated_at: datetime = _created_at()


class Assignment(SQLModel, table=True):
    """A family given to a field officer (petugas) or kelurahan staff to verify on site."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    kelurahan_kode: str = Field(foreign_key="wilayah.kode", max_length=13, index=True)
    family_id: Optional[int] = Field(default=None, foreign_key="family.id", index=True)
    proposal_id: Optional[int] = Field(default=None, foreign_key="proposal.id", index=True)
    no_kk: str = Field(max_length=16)
    officer: str = Field(max_length=64, index=True)
    assigned_by: str = Field(max_length=64)
    assigned_at: datetime = _created_at()
    status: str = Field(default="ditugaskan", max_length=12)  # ditugaskan | selesai | dibatalkan


class Visit(SQLModel, table=True):
    """A field visit: result, housing conditions, BPS criteria, the officer's recommendation."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    officer: str = Field(max_length=64)
    tanggal: date
    hasil: str = Field(default="", max_length=16)  # ditemukan | tidak_ditemukan | pindah | menolak
    kondisi: str = Field(default="{}", sa_type=sa.Text)  # JSON: housing variables and assets (code lists)
    kriteria_bps: str = Field(default="[]", sa_type=sa.Text)  # JSON list of the criteria numbers met (1..14)
    anggota_hadir: int = 0
    status_nik: str = Field(default="{}", sa_type=sa.Text)  # JSON {nik: aktif | tidak_aktif | tidak_diketahui}
    rekomendasi: str = Field(default="", max_length=16)  # layak | tidak_layak | perlu_dibahas
    catatan: str = Field(default="", sa_type=sa.Text)
    status: str = Field(default="draft", max_length=10)  # draft | selesai
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()
    version: int = Field(default=1)


class VisitPhoto(SQLModel, table=True):
    """A photo taken on a visit: the private original, EXIF-free copies, what EXIF said, and the flags."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    family_id: Optional[int] = Field(default=None, foreign_key="family.id", index=True)
    kelurahan_kode: str = Field(foreign_key="wilayah.kode", max_length=13, index=True)
    kind: str = Field(max_length=16)  # depan | dalam | dapur_km | dokumen_kk | lainnya
    original_id: int = Field(foreign_key="storedfile.id")
    display_id: int = Field(foreign_key="storedfile.id")
    thumb_id: int = Field(foreign_key="storedfile.id")
    sha256: str = Field(max_length=64, index=True)
    phash: str = Field(max_length=16)  # hex
    width: int
    height: int
    format: str = Field(max_length=8)
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    altitude: Optional[float] = None
    accuracy: Optional[float] = None
    taken_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    offset_assumed: bool = False
    camera: str = Field(default="", max_length=120)
    software: str = Field(default="", max_length=120)
    flags: str = Field(default="{}", sa_type=sa.Text)  # JSON {code: message}
    note: str = Field(default="", sa_type=sa.Text)  # the officer's explanation of a flag
    created_by: str = Field(max_length=64)
    created_at: datetime = _created_at()


class PhotoHashChunk(SQLModel, table=True):
    """One byte of a photo's perceptual hash, indexed so near duplicates are found without a full scan."""

    __table_args__ = (sa.Index("ix_photohashchunk_position_value", "position", "value"),)

    photo_id: int = Field(foreign_key="visitphoto.id", primary_key=True)
    position: int = Field(primary_key=True)
    value: int


class DocumentText(SQLModel, table=True):
    """Admin-edited wording of one paragraph of an official document; absent rows fall back to the shipped text."""

    key: str = Field(primary_key=True, max_length=60)  # e.g. "sptjm.pernyataan"
    text: str = Field(sa_type=sa.Text)
    version: int = Field(default=1)
    updated_by: str = Field(max_length=64)
    updated_at: datetime = _created_at()


class NumberPattern(SQLModel, table=True):
    """An office's numbering pattern for one document type, e.g. ``{nomor}/BA/MUSKEL/{kode_kelurahan}/...``."""

    wilayah_kode: str = Field(primary_key=True, foreign_key="wilayah.kode", max_length=13)
    doc_type: str = Field(primary_key=True, max_length=24)
    pattern: str = Field(max_length=200)
    version: int = Field(default=1)
    updated_by: str = Field(max_length=64)
    updated_at: datetime = _created_at()


class NumberCounter(SQLModel, table=True):
    """The last running number an office gave a document type in a year (0 when the pattern has no year)."""

    wilayah_kode: str = Field(primary_key=True, foreign_key="wilayah.kode", max_length=13)
    doc_type: str = Field(primary_key=True, max_length=24)
    tahun: int = Field(primary_key=True)
    last: int = Field(default=0)


class Document(SQLModel, table=True):
    """The registry entry of a final official document: number, verification code, the PDF's hash, its scan."""

    __table_args__ = (sa.UniqueConstraint("wilayah_kode", "doc_type", "nomor"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    doc_type: str = Field(max_length=24, index=True)  # berita_acara | sptjm | bast_kelurahan | bast_kecamatan | pengesahan
    subject: str = Field(max_length=60, index=True)  # what it is about: "musyawarah:12", "kecamatan:31.75.01:2026-11"
    wilayah_kode: str = Field(foreign_key="wilayah.kode", max_length=13, index=True)  # the issuing office
    kelurahan_kode: Optional[str] = Field(default=None, max_length=13, index=True)
    periode: str = Field(max_length=7, index=True)
    musyawarah_id: Optional[int] = Field(default=None, foreign_key="musyawarah.id", index=True)
    nomor: str = Field(max_length=120)
    verification_code: str = Field(max_length=14, unique=True)
    status: str = Field(default="final", max_length=12, index=True)  # final | superseded
    susulan: bool = Field(default=False)
    file_id: int = Field(foreign_key="storedfile.id")
    sha256: str = Field(max_length=64, index=True)
    summary: str = Field(default="{}", sa_type=sa.Text)  # JSON: counts and names, nothing personal
    covers: str = Field(default="[]", sa_type=sa.Text)  # JSON: ids of the documents/musyawarah it lists
    data_file_id: Optional[int] = Field(default=None, foreign_key="storedfile.id")  # BNBA data file of a BAST
    audit_seq: int = Field(default=0)  # the audit chain's length and head when it was finalised
    audit_hash: str = Field(default="", max_length=64)
    superseded_by_id: Optional[int] = Field(default=None, foreign_key="document.id")
    supersede_reason: str = Field(default="", sa_type=sa.Text)
    scan_file_id: Optional[int] = Field(default=None, foreign_key="storedfile.id")
    scan_sha256: str = Field(default="", max_length=64)
    scan_uploaded_by: str = Field(default="", max_length=64)
    scan_uploaded_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    received_by: str = Field(default="", max_length=64)  # the camat's receipt of a BAST
    received_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    finalised_by: str = Field(max_length=64)
    finalised_at: datetime = _created_at()
    version: int = Field(default=1)


class Batch(SQLModel, table=True):
    """A kelurahan's pengajuan: one musyawarah (or not-held statement) on its way from the Lurah to ratification."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    kelurahan_kode: str = Field(foreign_key="wilayah.kode", max_length=13, index=True)
    periode: str = Field(max_length=7, index=True)
    musyawarah_id: int = Field(foreign_key="musyawarah.id", unique=True)
    state: str = Field(default="draft", max_length=14, index=True)  # see core.workflow.TRANSITIONS
    revision: int = Field(default=1)
    late: bool = Field(default=False)  # submitted after the kota's monthly cut-off: goes into a pengesahan susulan
    submitted_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    state_changed_at: datetime = _created_at()
    created_at: datetime = _created_at()
    version: int = Field(default=1)


class BatchEvent(SQLModel, table=True):
    """One move of a batch through the transition table, with who made it and why."""

    id: Optional[int] = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    revision: int
    action: str = Field(max_length=24)
    from_state: str = Field(max_length=14)
    to_state: str = Field(max_length=14)
    actor_username: str = Field(max_length=64)
    actor_role: str = Field(max_length=16)
    reason: str = Field(default="", sa_type=sa.Text)
    details: str = Field(default="{}", sa_type=sa.Text)  # JSON: item returns and counts
    at: datetime = _created_at()


class BatchRevision(SQLModel, table=True):
    """What a batch contained when it was submitted: the basis of the diff between revisions."""

    __table_args__ = (sa.UniqueConstraint("batch_id", "revision"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    revision: int
    snapshot: str = Field(sa_type=sa.Text)  # JSON: items with members, verification, documents
    created_at: datetime = _created_at()
