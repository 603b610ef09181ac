"""The musyawarah kelurahan record: the meeting itself, its attendance and quorum, photos, closing.

Every field is stored as soon as it is entered (compare-and-set per field: a change made on top of somebody
else's newer value is refused with a clear message, never written over). Closing freezes attendance and
decisions; afterwards only corrections of data are possible, each audited with a diff.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from core import audit, filestore, wilayah
from core.access import Action, Actor, require
from core.errors import InvalidInput, NotFound, StaleEdit
from core.models import Attendee, KelurahanSetting, MeetingPhoto, Musyawarah
from core.timefmt import WIB, utcnow

UNSUR_DEFAULT = ["Lurah", "Sekretaris Kelurahan", "Kasi Kesra/Operator", "LMK", "Ketua RW", "Ketua RT", "TP PKK",
                 "Kader Dasawisma", "TKSK", "PSM", "SDM PKH", "Puskesos", "Suku Dinas Sosial", "Bhabinkamtibmas",
                 "Babinsa", "Tokoh masyarakat", "Tokoh agama", "Karang Taruna", "Lainnya"]
PROGRAMS_DEFAULT = ["PKH", "BPNT/Sembako", "PBI-JK", "PIP", "Sekolah Rakyat", "KJP Plus", "KLJ", "KPDJ", "KAJ", "Rusun"]
QUORUM_DEFAULT = {"chair": True, "min_rw": 1, "min_lmk": 1}
MEETING_FIELDS = ("nomor", "tanggal", "jam_mulai", "jam_selesai", "tempat", "ketua", "ketua_nip", "notulis",
                  "agenda", "notulen")
ATTENDEE_FIELDS = ("nama", "unsur", "jabatan", "alamat", "telepon", "jenis_kelamin")
PERIOD_RE = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")
TIME_RE = re.compile(r"^([01]\d|2[0-3])[:.]([0-5]\d)$")


# --- settings -----------------------------------------------------------------------------------------------


def settings_for(kelurahan_kode: str, *, session: Session) -> dict:
    row = session.get(KelurahanSetting, kelurahan_kode)
    if row is None:
        return {"unsur": list(UNSUR_DEFAULT), "programs": list(PROGRAMS_DEFAULT), "quorum": dict(QUORUM_DEFAULT),
                "version": 0}
    return {"unsur": json.loads(row.unsur), "programs": json.loads(row.programs), "quorum": json.loads(row.quorum),
            "version": row.version}


def update_settings(kelurahan_kode: str, *, unsur: list[str], programs: list[str], quorum: dict,
                    expected_version: int, actor: Actor, session: Session) -> dict:
    require(actor, Action.MEETING_CLOSE, kelurahan_kode)  # the Lurah decides the picklists and the quorum rule
    session.get(KelurahanSetting, kelurahan_kode, with_for_update=True, populate_existing=True)
    current = settings_for(kelurahan_kode, session=session)
    if current["version"] != expected_version:
        raise StaleEdit("Pengaturan musyawarah telah diubah orang lain. Muat ulang lalu ulangi.")
    unsur = [u.strip() for u in unsur if u.strip()]
    programs = [p.strip() for p in programs if p.strip()]
    if not unsur or not programs:
        raise InvalidInput("Daftar unsur dan daftar program tidak boleh kosong.", code="picklist_empty", field="unsur")
    quorum = {"chair": bool(quorum.get("chair", True)), "min_rw": max(0, int(quorum.get("min_rw", 1))),
              "min_lmk": max(0, int(quorum.get("min_lmk", 1)))}
    row = session.get(KelurahanSetting, kelurahan_kode) or KelurahanSetting(
        kelurahan_kode=kelurahan_kode, unsur="[]", programs="[]", quorum="{}", version=0)
    row.unsur, row.programs = json.dumps(unsur, ensure_ascii=False), json.dumps(programs, ensure_ascii=False)
    row.quorum, row.version, row.updated_at = json.dumps(quorum), row.version + 1, utcnow()
    session.add(row)
    audit.record(session, actor, "meeting.settings_updated", object_type="kelurahan_setting", object_id=kelurahan_kode,
                 wilayah_kode=kelurahan_kode, before={k: current[k] for k in ("unsur", "programs", "quorum")},
                 after={"unsur": unsur, "programs": programs, "quorum": quorum})
    return settings_for(kelurahan_kode, session=session)


# --- the meeting ---------------------------------------------------------------------------------------------


def check_period(periode: str) -> str:
    periode = (periode or "").strip()
    if not PERIOD_RE.fullmatch(periode):
        raise InvalidInput("Periode ditulis YYYY-MM, misalnya 2026-11.", code="period_invalid", field="periode")
    return periode


def get_meeting(meeting_id: int, *, actor: Actor, session: Session, lock: bool = False) -> Musyawarah:
    """``lock`` takes the row for the rest of the transaction (compare-and-set must not race on PostgreSQL)."""
    meeting = session.get(Musyawarah, meeting_id, with_for_update=lock or None,
                          populate_existing=lock)
    if meeting is None:
        raise NotFound("Musyawarah tidak ditemukan.", code="unknown_meeting")
    require(actor, Action.FAMILY_VIEW, meeting.kelurahan_kode)
    return meeting


def meeting_dict(m: Musyawarah) -> dict:
    return {**{f: getattr(m, f) for f in ("id", "uuid", "kelurahan_kode", "periode", "kind", "follow_up_of",
                                          "not_held_reason", "status", "closed_without_quorum", "closed_by",
                                          "closed_at", "created_by", "version")},
            **{f: getattr(m, f) for f in MEETING_FIELDS}}


def list_meetings(kelurahan_kode: str, *, actor: Actor, session: Session) -> list[dict]:
    require(actor, Action.FAMILY_VIEW, kelurahan_kode)
    rows = session.exec(select(Musyawarah).where(Musyawarah.kelurahan_kode == kelurahan_kode)
                        .order_by(Musyawarah.periode.desc(), Musyawarah.id.desc())).all()
    return [meeting_dict(m) for m in rows]


def create_meeting(kelurahan_kode: str, periode: str, *, actor: Actor, session: Session,
                   follow_up_of: int | None = None) -> dict:
    """Open a draft musyawarah; a second one in the same period is only a follow-up of a closed one."""
    place = wilayah.require_known(session, kelurahan_kode)
    if place.tingkat != "kelurahan":
        raise InvalidInput("Musyawarah diadakan per kelurahan.", code="not_a_kelurahan", field="kelurahan")
    require(actor, Action.MEETING_RECORD, kelurahan_kode)
    periode = check_period(periode)
    same = session.exec(select(Musyawarah).where(Musyawarah.kelurahan_kode == kelurahan_kode,
                                                 Musyawarah.periode == periode)).all()
    if any(m.kind == "held" and m.status == "draft" for m in same):
        raise InvalidInput(f"Masih ada musyawarah periode {periode} yang belum ditutup: lanjutkan yang itu.",
                           code="meeting_open_exists", field="periode")
    if any(m.kind == "not_held" for m in same):
        raise InvalidInput(f"Periode {periode} sudah dinyatakan tanpa musyawarah.", code="period_not_held",
                           field="periode")
    if same and follow_up_of is None:
        follow_up_of = max(m.id for m in same if m.kind == "held")
    profile_head = _lurah_name(kelurahan_kode, session)
    meeting = Musyawarah(kelurahan_kode=kelurahan_kode, periode=periode, follow_up_of=follow_up_of,
                         tempat=f"Aula Kantor {wilayah.full_name(place)}", ketua=profile_head, created_by=actor.username,
                         agenda="Pembahasan usulan data sasaran dan pemutakhiran DTSEN periode " + periode)
    session.add(meeting)
    session.flush()
    audit.record(session, actor, "meeting.created", object_type="musyawarah", object_id=meeting.uuid,
                 wilayah_kode=kelurahan_kode, after={"periode": periode, "lanjutan_dari": follow_up_of})
    return meeting_dict(meeting)


def _lurah_name(kelurahan_kode: str, session: Session) -> str:
    from core.offices import get_profile

    return get_profile(kelurahan_kode, session=session)["nama_pimpinan"]


def record_not_held(kelurahan_kode: str, periode: str, reason: str, *, actor: Actor, session: Session) -> dict:
    """The statement that no musyawarah was held this period (it later yields the matching SPTJM)."""
    require(actor, Action.MEETING_CLOSE, kelurahan_kode)
    periode = check_period(periode)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise InvalidInput("Tulis alasan musyawarah tidak diadakan (minimal 10 karakter).", code="reason_missing",
                           field="alasan")
    if session.exec(select(Musyawarah.id).where(Musyawarah.kelurahan_kode == kelurahan_kode,
                                                Musyawarah.periode == periode)).first():
        raise InvalidInput(f"Periode {periode} sudah memiliki catatan musyawarah.", code="period_has_meeting",
                           field="periode")
    meeting = Musyawarah(kelurahan_kode=kelurahan_kode, periode=periode, kind="not_held", not_held_reason=reason,
                         status="closed", closed_by=actor.username, closed_at=utcnow(), created_by=actor.username)
    session.add(meeting)
    session.flush()
    audit.record(session, actor, "meeting.not_held", object_type="musyawarah", object_id=meeting.uuid,
                 wilayah_kode=kelurahan_kode, after={"periode": periode, "alasan": reason})
    return meeting_dict(meeting)


def _parse_field(fieldname: str, value):
    if fieldname == "tanggal":
        if value in (None, ""):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise InvalidInput("Tanggal musyawarah tidak valid.", code="date_invalid", field="tanggal") from None
    text = "" if value is None else str(value).strip()
    if fieldname in ("jam_mulai", "jam_selesai") and text:
        match = TIME_RE.fullmatch(text)
        if not match:
            raise InvalidInput("Jam ditulis JJ.MM, misalnya 09.00.", code="time_invalid", field=fieldname)
        text = f"{match.group(1)}:{match.group(2)}"
    return text


def update_meeting_field(meeting_id: int, fieldname: str, old, new, *, actor: Actor, session: Session) -> dict:
    """Store one field at once; refuses when the stored value is no longer the ``old`` the user saw."""
    if fieldname not in MEETING_FIELDS:
        raise InvalidInput(f"Kolom {fieldname} tidak dapat diubah.", code="field_unknown", field=fieldname)
    meeting = get_meeting(meeting_id, actor=actor, session=session, lock=True)
    require(actor, Action.MEETING_RECORD, meeting.kelurahan_kode)
    if meeting.kind != "held":
        raise InvalidInput("Catatan 'tidak diadakan' tidak memiliki isian rapat.", code="meeting_not_held")
    if meeting.status == "closed":
        from core.workflow import ensure_editable

        ensure_editable(meeting.id, session, "Catatan musyawarah")
    new_value, old_value = _parse_field(fieldname, new), _parse_field(fieldname, old)
    current = getattr(meeting, fieldname)
    if current == new_value:
        return meeting_dict(meeting)
    if current != old_value:
        raise StaleEdit(f"Isian '{fieldname}' baru saja diubah oleh pengguna lain menjadi {current or '(kosong)'}. "
                        "Isian Anda tidak disimpan; periksa lalu ulangi bila perlu.")
    if meeting.status == "closed" and fieldname not in ("nomor", "tempat", "ketua_nip", "notulen"):
        raise InvalidInput("Musyawarah sudah ditutup: isian ini tidak dapat diubah lagi.", code="meeting_closed",
                           field=fieldname)
    setattr(meeting, fieldname, new_value)
    meeting.version += 1
    meeting.updated_at = utcnow()
    session.add(meeting)
    audit.record(session, actor, "meeting.corrected" if meeting.status == "closed" else "meeting.updated",
                 object_type="musyawarah", object_id=meeting.uuid, wilayah_kode=meeting.kelurahan_kode,
                 before={fieldname: current}, after={fieldname: new_value})
    return meeting_dict(meeting)


# --- attendance ----------------------------------------------------------------------------------------------


def _attendee_values(values: dict) -> dict:
    clean = {f: ("" if values.get(f) is None else str(values.get(f)).strip()) for f in ATTENDEE_FIELDS}
    if not clean["nama"]:
        raise InvalidInput("Nama peserta wajib diisi.", code="attendee_name_missing", field="nama")
    if clean["jenis_kelamin"] not in ("", "L", "P"):
        raise InvalidInput("Jenis kelamin: L atau P.", code="sex_invalid", field="jenis_kelamin")
    if clean["telepon"] and not re.fullmatch(r"\+?[0-9 ()-]{6,20}", clean["telepon"]):
        raise InvalidInput("Nomor HP hanya angka, spasi, + dan -.", code="phone_invalid", field="telepon")
    return clean


def add_attendee(meeting_id: int, values: dict, *, actor: Actor, session: Session) -> dict:
    meeting = _open_meeting(meeting_id, actor, session)
    clean = _attendee_values(values)
    person = Attendee(musyawarah_id=meeting.id, created_by=actor.username,
                      is_chair=clean["unsur"] == "Lurah" or bool(values.get("is_chair")), **clean)
    session.add(person)
    session.flush()
    audit.record(session, actor, "meeting.attendee_added", object_type="attendee", object_id=person.id,
                 wilayah_kode=meeting.kelurahan_kode, after=clean)
    return attendee_dict(person)


def attendee_dict(a: Attendee) -> dict:
    return {"id": a.id, **{f: getattr(a, f) for f in ATTENDEE_FIELDS}, "is_chair": a.is_chair, "version": a.version}


def update_attendee(attendee_id: int, values: dict, *, expected_version: int, actor: Actor, session: Session) -> dict:
    """Before closing: any change. After closing: corrections of data only (audited with a diff)."""
    person = session.get(Attendee, attendee_id, with_for_update=True, populate_existing=True)
    if person is None or person.removed:
        raise NotFound("Peserta tidak ditemukan.", code="unknown_attendee")
    meeting = get_meeting(person.musyawarah_id, actor=actor, session=session)
    require(actor, Action.MEETING_RECORD, meeting.kelurahan_kode)
    if person.version != expected_version:
        raise StaleEdit("Data peserta ini baru saja diubah pengguna lain. Muat ulang lalu ulangi.")
    before = attendee_dict(person)
    clean = _attendee_values({**before, **values})
    if meeting.status == "closed" and clean["unsur"] != person.unsur:
        raise InvalidInput("Musyawarah sudah ditutup: unsur peserta menentukan kuorum dan tidak dapat diubah.",
                           code="meeting_closed", field="unsur")
    for f, v in clean.items():
        setattr(person, f, v)
    person.version += 1
    session.add(person)
    old, new = audit.diff(before, clean, ATTENDEE_FIELDS)
    audit.record(session, actor, "meeting.attendee_corrected" if meeting.status == "closed"
                 else "meeting.attendee_updated", object_type="attendee", object_id=person.id,
                 wilayah_kode=meeting.kelurahan_kode, before=old, after=new)
    return attendee_dict(person)


def remove_attendee(attendee_id: int, *, actor: Actor, session: Session) -> None:
    """A name entered by mistake: marked removed (kept for the record), only before closing."""
    person = session.get(Attendee, attendee_id)
    if person is None or person.removed:
        raise NotFound("Peserta tidak ditemukan.", code="unknown_attendee")
    meeting = _open_meeting(person.musyawarah_id, actor, session)
    person.removed = True
    person.version += 1
    session.add(person)
    audit.record(session, actor, "meeting.attendee_removed", object_type="attendee", object_id=person.id,
                 wilayah_kode=meeting.kelurahan_kode, before=attendee_dict(person))


def attendees(meeting_id: int, *, actor: Actor, session: Session) -> list[dict]:
    get_meeting(meeting_id, actor=actor, session=session)
    rows = session.exec(select(Attendee).where(Attendee.musyawarah_id == meeting_id, Attendee.removed == False)  # noqa: E712
                        .order_by(Attendee.id)).all()
    return [attendee_dict(a) for a in rows]


@dataclass(frozen=True)
class Quorum:
    met: bool
    chair_present: bool
    rw: int
    lmk: int
    rule: dict
    by_unsur: dict[str, int]

    def explain(self) -> str:
        parts = [("pimpinan rapat hadir" if self.chair_present else "pimpinan rapat (Lurah) belum tercatat hadir")
                 if self.rule["chair"] else None,
                 f"perwakilan RW {self.rw}/{self.rule['min_rw']}", f"LMK {self.lmk}/{self.rule['min_lmk']}"]
        return ("Kuorum terpenuhi: " if self.met else "Kuorum BELUM terpenuhi: ") + ", ".join(p for p in parts if p)


def quorum(meeting_id: int, *, actor: Actor, session: Session) -> Quorum:
    meeting = get_meeting(meeting_id, actor=actor, session=session)
    rule = settings_for(meeting.kelurahan_kode, session=session)["quorum"]
    people = attendees(meeting_id, actor=actor, session=session)
    by_unsur: dict[str, int] = {}
    for p in people:
        by_unsur[p["unsur"] or "Lainnya"] = by_unsur.get(p["unsur"] or "Lainnya", 0) + 1
    chair = any(p["is_chair"] for p in people)
    rw = sum(1 for p in people if p["unsur"] == "Ketua RW")
    lmk = sum(1 for p in people if p["unsur"] == "LMK")
    met = (chair or not rule["chair"]) and rw >= rule["min_rw"] and lmk >= rule["min_lmk"]
    return Quorum(met, chair, rw, lmk, rule, dict(sorted(by_unsur.items())))


def _open_meeting(meeting_id: int, actor: Actor, session: Session) -> Musyawarah:
    """The meeting, locked: adding or deciding must not race with the Lurah closing it."""
    meeting = get_meeting(meeting_id, actor=actor, session=session, lock=True)
    require(actor, Action.MEETING_RECORD, meeting.kelurahan_kode)
    if meeting.status != "draft":
        raise InvalidInput("Musyawarah sudah ditutup: kehadiran dan keputusan tidak dapat diubah lagi. Keputusan "
                           "yang berbeda memerlukan musyawarah lanjutan.", code="meeting_closed")
    return meeting


# --- photos and closing --------------------------------------------------------------------------------------


def add_photo(meeting_id: int, data: bytes, filename: str, caption: str, *, actor: Actor, session: Session) -> dict:
    """A documentation photo: content checked, the original kept, an EXIF-free copy for display."""
    from core import photos

    meeting = get_meeting(meeting_id, actor=actor, session=session)
    require(actor, Action.MEETING_RECORD, meeting.kelurahan_kode)
    checked = photos.analyse(data)
    if not checked.readable:
        raise InvalidInput(f"{filename}: {checked.messages['unreadable']}", code="unreadable", field="foto")
    original = filestore.save(data, media_type=checked.media_type, purpose="meeting_photo", actor=actor,
                              session=session, original_name=filename, wilayah_kode=meeting.kelurahan_kode)
    display = filestore.save(checked.display_jpeg, media_type="image/jpeg", purpose="meeting_photo_display",
                             actor=actor, session=session, original_name=filename, wilayah_kode=meeting.kelurahan_kode)
    photo = MeetingPhoto(musyawarah_id=meeting.id, file_id=original.id, thumbnail_id=display.id,
                         caption=(caption or "").strip()[:200], created_by=actor.username)
    session.add(photo)
    session.flush()
    audit.record(session, actor, "meeting.photo_added", object_type="meeting_photo", object_id=photo.id,
                 wilayah_kode=meeting.kelurahan_kode, after={"sha256": original.sha256, "keterangan": photo.caption})
    return {"id": photo.id, "caption": photo.caption, "display_sha256": display.sha256}


def photos(meeting_id: int, *, actor: Actor, session: Session) -> list[dict]:
    from core.models import StoredFile

    get_meeting(meeting_id, actor=actor, session=session)
    rows = session.exec(select(MeetingPhoto, StoredFile).join(StoredFile, StoredFile.id == MeetingPhoto.thumbnail_id)
                        .where(MeetingPhoto.musyawarah_id == meeting_id).order_by(MeetingPhoto.id)).all()
    return [{"id": p.id, "caption": p.caption, "display_sha256": f.sha256} for p, f in rows]


def close_meeting(meeting_id: int, *, confirm_without_quorum: bool, actor: Actor, session: Session) -> dict:
    """The Lurah closes the meeting: attendance and decisions are frozen from now on."""
    from core.proposals import undecided_count

    meeting = get_meeting(meeting_id, actor=actor, session=session, lock=True)
    require(actor, Action.MEETING_CLOSE, meeting.kelurahan_kode)
    if meeting.status != "draft":
        raise InvalidInput("Musyawarah ini sudah ditutup.", code="meeting_closed")
    missing = [label for f, label in (("tanggal", "tanggal"), ("jam_mulai", "jam mulai"), ("tempat", "tempat"),
                                      ("ketua", "pimpinan rapat"), ("notulis", "notulis")) if not getattr(meeting, f)]
    if missing:
        raise InvalidInput("Lengkapi dulu: " + ", ".join(missing) + ".", code="meeting_incomplete", field=missing[0])
    if not attendees(meeting_id, actor=actor, session=session):
        raise InvalidInput("Belum ada peserta yang tercatat hadir.", code="no_attendees", field="peserta")
    open_items = undecided_count(meeting_id, session=session)
    if open_items:
        raise InvalidInput(f"Masih ada {open_items} usulan tanpa keputusan. Putuskan (disepakati, tidak disepakati "
                           "atau ditunda) sebelum menutup.", code="undecided_items", field="keputusan")
    q = quorum(meeting_id, actor=actor, session=session)
    if not q.met and not confirm_without_quorum:
        raise InvalidInput(q.explain() + ". Centang konfirmasi untuk menutup tanpa kuorum (akan tercatat).",
                           code="quorum_not_met", field="kuorum")
    meeting.status = "closed"
    meeting.closed_without_quorum = not q.met
    meeting.closed_by, meeting.closed_at = actor.username, utcnow()
    if not meeting.jam_selesai:
        meeting.jam_selesai = meeting.closed_at.astimezone(WIB).strftime("%H:%M")
    meeting.version += 1
    session.add(meeting)
    audit.record(session, actor, "meeting.closed", object_type="musyawarah", object_id=meeting.uuid,
                 wilayah_kode=meeting.kelurahan_kode,
                 after={"kuorum": q.met, "tanpa_kuorum_dikonfirmasi": not q.met, "peserta": sum(q.by_unsur.values())})
    return meeting_dict(meeting)
