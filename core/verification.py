"""Field verification: who visits which family, and what the visit found.

The operator or Lurah assigns families (usually a musyawarah's proposals) to a petugas or kelurahan staff; a
petugas sees and records only what is assigned to them. Which proposals need a verification before submission
is a per-kota rule (default: baru; perbaikan of address or members; nonaktif except meninggal and data_ganda).
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlmodel import Session, select

from core import audit, wilayah
from core.access import Action, Actor, Role, require
from core.errors import AccessDenied, InvalidInput, NotFound, StaleEdit
from core.models import Assignment, Family, Flag, KotaSetting, Person, Proposal, User, Visit
from core.timefmt import utcnow
from core.verification_codes import ASET, BPS_CRITERIA, HASIL, KONDISI, NIK_STATUS, POOR_THRESHOLD, REKOMENDASI

DEFAULT_RULE = {"baru": True, "perbaikan_fields": ["alamat", "rt", "rw", "anggota"],
                "nonaktif_except": ["meninggal", "data_ganda"], "prioritas_program": False}
VISIT_FIELDS = ("tanggal", "hasil", "kondisi", "kriteria_bps", "anggota_hadir", "status_nik", "rekomendasi", "catatan")


def rule_for(kelurahan_kode: str, *, session: Session) -> dict:
    row = session.get(KotaSetting, wilayah.kota_code(kelurahan_kode))
    stored = json.loads(row.settings).get("verifikasi", {}) if row else {}
    return {**DEFAULT_RULE, **stored}


def rule_version(kota_kode: str, *, session: Session) -> int:
    row = session.get(KotaSetting, kota_kode)
    return row.version if row else 0


def update_rule(kota_kode: str, rule: dict, *, expected_version: int, actor: Actor, session: Session) -> dict:
    """The Walikota's/Bupati's office decides which proposals need a field visit before submission."""
    require(actor, Action.KOTA_SETTINGS, kota_kode)
    place = wilayah.get(session, kota_kode)
    if place.tingkat not in ("kota", "kabupaten"):
        raise InvalidInput("Aturan verifikasi ditetapkan per kota/kabupaten.", code="not_a_kota", field="kota")
    row = session.get(KotaSetting, kota_kode, with_for_update=True, populate_existing=True)
    if (row.version if row else 0) != expected_version:
        raise StaleEdit("Aturan ini baru saja diubah pengguna lain. Muat ulang lalu ulangi.")
    from core.proposals import NONAKTIF_REASONS, PERBAIKAN_FIELDS

    clean = {"baru": bool(rule.get("baru", True)), "prioritas_program": bool(rule.get("prioritas_program", False)),
             "perbaikan_fields": [f for f in rule.get("perbaikan_fields", []) if f in PERBAIKAN_FIELDS],
             "nonaktif_except": [r for r in rule.get("nonaktif_except", []) if r in NONAKTIF_REASONS]}
    settings = json.loads(row.settings) if row else {}
    before = settings.get("verifikasi", DEFAULT_RULE)
    settings["verifikasi"] = clean
    if row is None:
        row = KotaSetting(kota_kode=kota_kode, settings="{}", version=0)
    row.settings, row.version, row.updated_at = json.dumps(settings), row.version + 1, utcnow()
    session.add(row)
    audit.record(session, actor, "kota.verification_rule", object_type="kota_setting", object_id=kota_kode,
                 wilayah_kode=kota_kode, before=before, after=clean)
    return clean


def needs_verification(proposal: dict, rule: dict) -> bool:
    jenis = proposal["jenis"]
    if jenis == "baru":
        return bool(rule["baru"])
    if jenis == "perbaikan":
        return any(c.get("field") in rule["perbaikan_fields"] for c in proposal["perubahan"])
    if jenis == "nonaktif":
        return proposal["alasan_nonaktif"] not in rule["nonaktif_except"]
    return bool(rule.get("prioritas_program"))


def _check_officer(username: str, kelurahan_kode: str, session: Session) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.is_active:
        raise InvalidInput(f"Petugas {username!r} tidak dikenal atau nonaktif.", code="unknown_officer",
                           field="petugas")
    if user.wilayah_kode != kelurahan_kode or user.role not in (Role.PETUGAS, Role.OPERATOR, Role.LURAH):
        raise InvalidInput(f"{user.nama} bukan petugas atau staf kelurahan ini.", code="officer_wrong_place",
                           field="petugas")
    return user


def assign(kelurahan_kode: str, officer: str, *, family_ids: list[int] = (), proposal_ids: list[int] = (),
           actor: Actor, session: Session) -> list[dict]:
    """Give families (from the register or a musyawarah's proposals) to an officer; all or none."""
    require(actor, Action.VERIFICATION_ASSIGN, kelurahan_kode)
    _check_officer(officer, kelurahan_kode, session)
    targets: list[tuple[int | None, int | None, str]] = []
    for pid in proposal_ids:
        item = session.get(Proposal, pid)
        if item is None or item.kelurahan_kode != kelurahan_kode:
            raise InvalidInput("Usulan tidak ditemukan di kelurahan ini.", code="unknown_proposal", field="usulan")
        targets.append((item.family_id, item.id, item.no_kk))
    for fid in family_ids:
        family = session.get(Family, fid)
        if family is None or family.kelurahan_kode != kelurahan_kode:
            raise InvalidInput("Keluarga di luar kelurahan ini.", code="family_outside_kelurahan", field="keluarga")
        targets.append((family.id, None, family.no_kk))
    if not targets:
        raise InvalidInput("Pilih minimal satu keluarga atau usulan.", code="nothing_selected", field="keluarga")
    created = []
    for family_id, proposal_id, no_kk in targets:
        open_one = session.exec(select(Assignment).where(
            Assignment.no_kk == no_kk, Assignment.kelurahan_kode == kelurahan_kode,
            Assignment.status == "ditugaskan")).first()
        if open_one:
            open_one.officer = officer  # a reassignment, not a second visit order
            session.add(open_one)
            row = open_one
        else:
            row = Assignment(kelurahan_kode=kelurahan_kode, family_id=family_id, proposal_id=proposal_id, no_kk=no_kk,
                             officer=officer, assigned_by=actor.username)
            session.add(row)
        session.flush()
        audit.record(session, actor, "verification.assigned", object_type="assignment", object_id=row.uuid,
                     wilayah_kode=kelurahan_kode, after={"petugas": officer, "no_kk": no_kk})
        created.append(assignment_dict(row, session))
    return created


def assignment_dict(a: Assignment, session: Session) -> dict:
    head = ""
    if a.family_id:
        people = session.exec(select(Person.nama, Person.hubungan).where(Person.family_id == a.family_id)).all()
        head = next((n for n, h in people if "kepala" in (h or "").lower()), people[0][0] if people else "")
    elif a.proposal_id:
        head = session.get(Proposal, a.proposal_id).nama_kepala
    family = session.get(Family, a.family_id) if a.family_id else None
    visit = session.exec(select(Visit).where(Visit.assignment_id == a.id).order_by(Visit.id.desc())).first()
    locked = False
    if a.proposal_id:
        from core.models import Batch

        proposal = session.get(Proposal, a.proposal_id)
        batch = session.exec(select(Batch).where(Batch.musyawarah_id == proposal.musyawarah_id)).first()
        locked = batch is not None and batch.state != "draft"
    return {"terkunci": locked, "id": a.id, "uuid": a.uuid, "kelurahan_kode": a.kelurahan_kode, "family_id": a.family_id,
            "proposal_id": a.proposal_id, "no_kk": a.no_kk, "kepala": head, "petugas": a.officer, "status": a.status,
            "alamat": family.alamat if family else "", "rt": family.rt if family else "",
            "rw": family.rw if family else "", "desil": family.desil if family else None,
            "visit_id": visit.id if visit else None, "visit_status": visit.status if visit else None}


def list_assignments(*, actor: Actor, session: Session, kelurahan_kode: str | None = None) -> list[dict]:
    """A petugas sees only their own; kelurahan staff see the kelurahan's; reviewers read their wilayah's."""
    if Role(actor.role) == Role.PETUGAS:
        rows = session.exec(select(Assignment).where(Assignment.officer == actor.username,
                                                     Assignment.status != "dibatalkan").order_by(Assignment.id)).all()
    else:
        kode = kelurahan_kode or actor.wilayah_kode
        require(actor, Action.FAMILY_VIEW, kode)
        rows = session.exec(select(Assignment).where(Assignment.kelurahan_kode == kode,
                                                     Assignment.status != "dibatalkan").order_by(Assignment.id)).all()
    return [assignment_dict(a, session) for a in rows]


def _assignment_for(assignment_id: int, actor: Actor, session: Session) -> Assignment:
    row = session.get(Assignment, assignment_id)
    if row is None:
        raise NotFound("Penugasan tidak ditemukan.", code="unknown_assignment")
    require(actor, Action.VERIFICATION_RECORD, row.kelurahan_kode)
    if Role(actor.role) == Role.PETUGAS and row.officer != actor.username:
        raise AccessDenied("Keluarga ini tidak ditugaskan kepada Anda.")
    return row


def ensure_open(assignment: Assignment, session: Session) -> None:
    """A visit belonging to a submitted batch is evidence already handed on: it is read-only until a revision."""
    if assignment.proposal_id is None:
        return
    from core.models import Proposal
    from core.workflow import ensure_editable

    proposal = session.get(Proposal, assignment.proposal_id)
    if proposal is not None:
        ensure_editable(proposal.musyawarah_id, session, "Verifikasi lapangan keluarga ini")


def start_visit(assignment_id: int, *, actor: Actor, session: Session, tanggal: date | None = None) -> dict:
    row = _assignment_for(assignment_id, actor, session)
    ensure_open(row, session)
    existing = session.exec(select(Visit).where(Visit.assignment_id == row.id, Visit.status == "draft")).first()
    if existing:
        return visit_dict(existing)
    visit = Visit(assignment_id=row.id, officer=actor.username, tanggal=tanggal or date.today())
    session.add(visit)
    session.flush()
    audit.record(session, actor, "verification.visit_started", object_type="visit", object_id=visit.uuid,
                 wilayah_kode=row.kelurahan_kode, after={"tanggal": visit.tanggal})
    return visit_dict(visit)


def visit_dict(v: Visit) -> dict:
    return {"id": v.id, "uuid": v.uuid, "assignment_id": v.assignment_id, "officer": v.officer, "tanggal": v.tanggal,
            "hasil": v.hasil, "kondisi": json.loads(v.kondisi), "kriteria_bps": json.loads(v.kriteria_bps),
            "anggota_hadir": v.anggota_hadir, "status_nik": json.loads(v.status_nik), "rekomendasi": v.rekomendasi,
            "catatan": v.catatan, "status": v.status, "version": v.version}


def _visit_for(visit_id: int, actor: Actor, session: Session) -> tuple[Visit, Assignment]:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound("Kunjungan tidak ditemukan.", code="unknown_visit")
    return visit, _assignment_for(visit.assignment_id, actor, session)


def get_visit(visit_id: int, *, actor: Actor, session: Session) -> dict:
    visit, _ = _visit_for(visit_id, actor, session)
    return visit_dict(visit)


def _clean(fieldname: str, value):
    if fieldname == "tanggal":
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date) or value > date.today():
            raise InvalidInput("Tanggal kunjungan tidak valid atau di masa depan.", code="date_invalid", field=fieldname)
        return value
    if fieldname == "hasil" and value not in ("", *HASIL):
        raise InvalidInput("Hasil kunjungan tidak dikenal.", code="hasil_invalid", field=fieldname)
    if fieldname == "rekomendasi" and value not in ("", *REKOMENDASI):
        raise InvalidInput("Rekomendasi tidak dikenal.", code="rekomendasi_invalid", field=fieldname)
    if fieldname == "kondisi":
        for key, code in (value or {}).items():
            if key == "aset":
                if any(a not in ASET for a in code):
                    raise InvalidInput("Aset tidak dikenal.", code="aset_invalid", field="aset")
            elif key == "luas_lantai":
                if code not in (None, "") and (not isinstance(code, (int, float)) or not 0 < code < 5000):
                    raise InvalidInput("Luas lantai dalam m², antara 1 dan 5.000.", code="luas_invalid",
                                       field="luas_lantai")
            elif key not in KONDISI or (code and code not in KONDISI[key][1]):
                raise InvalidInput(f"Isian kondisi {key} tidak dikenal.", code="kondisi_invalid", field=key)
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if fieldname == "kriteria_bps":
        numbers = sorted(set(int(n) for n in value or []))
        if any(not 1 <= n <= len(BPS_CRITERIA) for n in numbers):
            raise InvalidInput("Nomor kriteria BPS 1 sampai 14.", code="kriteria_invalid", field=fieldname)
        return json.dumps(numbers)
    if fieldname == "status_nik":
        if any(v not in NIK_STATUS for v in (value or {}).values()):
            raise InvalidInput("Status NIK tidak dikenal.", code="nik_status_invalid", field=fieldname)
        return json.dumps(value or {}, sort_keys=True)
    if fieldname == "anggota_hadir":
        if not isinstance(value, int) or not 0 <= value <= 50:
            raise InvalidInput("Jumlah anggota yang hadir 0 sampai 50.", code="count_invalid", field=fieldname)
        return value
    return (value or "").strip() if isinstance(value, str) else value


def update_visit(visit_id: int, changes: dict, *, expected_version: int, actor: Actor, session: Session) -> dict:
    visit, assignment = _visit_for(visit_id, actor, session)
    ensure_open(assignment, session)
    session.refresh(visit, with_for_update=True)
    if visit.status != "draft":
        raise InvalidInput("Kunjungan sudah diselesaikan.", code="visit_finished")
    if visit.version != expected_version:
        raise StaleEdit("Kunjungan ini baru saja diubah pengguna lain. Muat ulang lalu ulangi.")
    before = visit_dict(visit)
    for fieldname, value in changes.items():
        if fieldname not in VISIT_FIELDS:
            raise InvalidInput(f"Kolom {fieldname} tidak dikenal.", code="field_unknown", field=fieldname)
        setattr(visit, fieldname, _clean(fieldname, value))
    visit.version += 1
    visit.updated_at = utcnow()
    session.add(visit)
    old, new = audit.diff(before, visit_dict(visit), VISIT_FIELDS)
    audit.record(session, actor, "verification.visit_updated", object_type="visit", object_id=visit.uuid,
                 wilayah_kode=assignment.kelurahan_kode, before=old, after=new)
    return visit_dict(visit)


def finish_visit(visit_id: int, *, actor: Actor, session: Session) -> dict:
    """Close the visit; adds the exclusion/inclusion hints for the meeting and the reviewers."""
    from core.evidence import visit_flags

    visit, assignment = _visit_for(visit_id, actor, session)
    ensure_open(assignment, session)
    if visit.status != "draft":
        raise InvalidInput("Kunjungan sudah diselesaikan.", code="visit_finished")
    if not visit.hasil:
        raise InvalidInput("Isi hasil kunjungan.", code="hasil_missing", field="hasil")
    if visit.hasil == "ditemukan" and not visit.rekomendasi:
        raise InvalidInput("Isi rekomendasi petugas.", code="rekomendasi_missing", field="rekomendasi")
    visit.status = "selesai"
    visit.version += 1
    assignment.status = "selesai"
    session.add(visit)
    session.add(assignment)
    hints = targeting_hints(visit, assignment, session)
    for code, message in hints.items():
        session.add(Flag(code=code, severity="warning", kelurahan_kode=assignment.kelurahan_kode,
                         family_id=assignment.family_id, proposal_id=assignment.proposal_id, message=message,
                         source="verification"))
    evidence = visit_flags(visit.id, session=session)
    audit.record(session, actor, "verification.visit_finished", object_type="visit", object_id=visit.uuid,
                 wilayah_kode=assignment.kelurahan_kode,
                 after={"hasil": visit.hasil, "rekomendasi": visit.rekomendasi, "petunjuk": list(hints),
                        "temuan_foto": sorted({c for f in evidence for c in f["codes"]})})
    return visit_dict(visit)


def targeting_hints(visit: Visit, assignment: Assignment, session: Session) -> dict[str, str]:
    """kandidat_exclusion_error / kandidat_inclusion_error: hints for the meeting; desil is never changed."""
    family = session.get(Family, assignment.family_id) if assignment.family_id else None
    criteria = len(json.loads(visit.kriteria_bps))
    assets = set(json.loads(visit.kondisi).get("aset", []))
    desil = family.desil if family else None
    hints = {}
    poor = criteria >= POOR_THRESHOLD or visit.rekomendasi == "layak"
    if poor and (desil is None or desil > 4):
        where = "belum ada di DTSEN" if desil is None else f"desil {desil}"
        hints["kandidat_exclusion_error"] = (f"Kondisi lapangan menunjukkan keluarga miskin ({criteria} dari 14 "
                                             f"kriteria BPS) tetapi {where}: kandidat exclusion error.")
    if desil is not None and desil <= 2 and (criteria <= 3 or "mobil" in assets):
        why = "memiliki mobil" if "mobil" in assets else f"hanya {criteria} kriteria BPS"
        hints["kandidat_inclusion_error"] = f"Desil {desil} tetapi {why}: kandidat inclusion error."
    return hints
