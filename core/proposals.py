"""Proposals (agenda items) of a musyawarah: one family each, the members it affects, and the decision.

Proposals come from the register, from earlier periods (deferred, or returned/rejected upstream with a reason),
from imported usul/sanggah lists, or as families not yet in the register. Each is checked on entry (bad input
is refused whole, nothing stored) and screened; the meeting's decision is stored the moment it is taken.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
from sqlmodel import Session, select

from core import audit, screening
from core.access import Action, Actor, require, scope_filter
from core.errors import InvalidInput, NotFound, StaleEdit
from core.meetings import _open_meeting, get_meeting, settings_for
from core.models import Family, Flag, Musyawarah, Person, Proposal, ProposalMember, Wilayah
from core.timefmt import utcnow

JENIS = {"baru": "Usulan baru", "perbaikan": "Perbaikan data", "nonaktif": "Usulan nonaktif",
         "prioritas_program": "Prioritas program"}
NONAKTIF_REASONS = {"meninggal": "Meninggal", "pindah_dalam_negeri": "Pindah dalam negeri",
                    "pindah_luar_negeri": "Pindah luar negeri", "tidak_ditemukan": "Tidak ditemukan",
                    "mampu": "Mampu/sudah sejahtera", "data_ganda": "Data ganda",
                    "asn_tni_polri_bumn": "ASN/TNI/Polri/BUMN-BUMD", "nik_tidak_aktif": "NIK tidak aktif",
                    "lainnya": "Lainnya"}
SUMBER = {"musyawarah": "Musyawarah", "cek_bansos": "Cek Bansos (usul/sanggah)", "walk_in": "Datang ke kelurahan",
          "pksp": "Data PKSP", "sdm_pkh": "Ground check SDM PKH", "lainnya": "Lainnya"}
KEPUTUSAN = {"disepakati": "Disepakati", "tidak_disepakati": "Tidak disepakati", "ditunda": "Ditunda"}
PERBAIKAN_FIELDS = {"nik": "NIK", "no_kk": "No KK", "nama": "Nama", "alamat": "Alamat", "rt": "RT", "rw": "RW",
                    "tanggal_lahir": "Tanggal lahir", "jenis_kelamin": "Jenis kelamin",
                    "anggota": "Susunan anggota keluarga"}
ACTIVE = ("diusulkan", "diteruskan", "disahkan")  # states in which an item is still on its way or done


def _validate(jenis: str, alasan_nonaktif: str, programs: list[str], sumber: str, perubahan: list[dict],
              allowed_programs: list[str]) -> None:
    if jenis not in JENIS:
        raise InvalidInput("Pilih jenis usulan: baru, perbaikan, nonaktif atau prioritas program.",
                           code="jenis_invalid", field="jenis")
    if jenis == "nonaktif" and alasan_nonaktif not in NONAKTIF_REASONS:
        raise InvalidInput("Usulan nonaktif wajib memilih alasan (meninggal, pindah, mampu, data ganda, …).",
                           code="nonaktif_reason_missing", field="alasan_nonaktif")
    if jenis != "nonaktif" and alasan_nonaktif:
        raise InvalidInput("Alasan nonaktif hanya untuk usulan nonaktif.", code="nonaktif_reason_unexpected",
                           field="alasan_nonaktif")
    unknown = [p for p in programs if p not in allowed_programs]
    if unknown:
        raise InvalidInput(f"Program tidak ada dalam daftar kelurahan: {', '.join(unknown)}.", code="program_unknown",
                           field="programs")
    if jenis == "prioritas_program" and not programs:
        raise InvalidInput("Usulan prioritas program wajib memilih minimal satu program.", code="program_missing",
                           field="programs")
    if sumber not in SUMBER:
        raise InvalidInput("Sumber usulan tidak dikenal.", code="sumber_invalid", field="sumber")
    if jenis == "perbaikan":
        real = [c for c in perubahan if c.get("field") in PERBAIKAN_FIELDS
                and str(c.get("lama") or "").strip() != str(c.get("baru") or "").strip()]
        if not real:
            raise InvalidInput("Usulan perbaikan wajib menyebut minimal satu data yang berubah (lama → baru).",
                               code="perbaikan_without_change", field="perubahan")


def _check_duplicates(meeting: Musyawarah, jenis: str, no_kk: str, niks: list[str], session: Session) -> list[str]:
    """Refuse the same family or NIK with the same type in this period; return warnings for elsewhere."""
    same_period = session.exec(
        select(Proposal, ProposalMember.nik).join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
        .where(Proposal.kelurahan_kode == meeting.kelurahan_kode, Proposal.periode == meeting.periode,
               Proposal.status != "dibatalkan", Proposal.jenis == jenis,
               (Proposal.no_kk == no_kk) | ProposalMember.nik.in_(niks))).first()
    if same_period:
        raise InvalidInput(f"Keluarga/NIK ini sudah diusulkan sebagai {JENIS[jenis].lower()} pada periode "
                           f"{meeting.periode} (agenda no. {same_period[0].urutan}).", code="dup_proposal",
                           field="no_kk")
    elsewhere = session.exec(
        select(Wilayah.nama, Proposal.periode).join(Wilayah, Wilayah.kode == Proposal.kelurahan_kode)
        .join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
        .where(Proposal.kelurahan_kode != meeting.kelurahan_kode, Proposal.status.in_(ACTIVE),
               Proposal.keputusan != "tidak_disepakati", (Proposal.no_kk == no_kk) | ProposalMember.nik.in_(niks))
    ).all()
    return [f"Keluarga/NIK ini juga diusulkan di Kel. {nama} (periode {periode}). Pastikan domisili; beri catatan."
            for nama, periode in sorted(set(elsewhere))]


def _next_order(meeting_id: int, session: Session) -> int:
    orders = session.exec(select(Proposal.urutan).where(Proposal.musyawarah_id == meeting_id)).all()
    return (max(orders) if orders else 0) + 1


def add_from_register(meeting_id: int, family_id: int, *, jenis: str, member_niks: list[str] | None = None,
                      programs: list[str] | None = None, sumber: str = "musyawarah", alasan: str = "",
                      alasan_nonaktif: str = "", perubahan: list[dict] | None = None, origin_id: int | None = None,
                      actor: Actor, session: Session) -> dict:
    meeting = _open_meeting(meeting_id, actor, session)
    family = session.get(Family, family_id)
    if family is None:
        raise NotFound("Keluarga tidak ditemukan di register.", code="unknown_family")
    if family.kelurahan_kode != meeting.kelurahan_kode:
        raise InvalidInput("Keluarga ini terdaftar di kelurahan lain: usulan hanya untuk keluarga di kelurahan ini.",
                           code="family_outside_kelurahan", field="keluarga")
    people = session.exec(select(Person).where(Person.family_id == family.id, Person.status == "aktif")
                          .order_by(Person.id)).all()
    chosen = [p for p in people if member_niks is None or p.nik in member_niks]
    members = [{"nik": p.nik, "nama": p.nama, "jenis_kelamin": p.jenis_kelamin, "tanggal_lahir": p.tanggal_lahir,
                "hubungan": p.hubungan} for p in chosen]
    head = next((p.nama for p in people if "kepala" in (p.hubungan or "").lower()), people[0].nama if people else "")
    return _create(meeting, family, family.no_kk, head, family.alamat, family.rt, family.rw, family.desil, members,
                   jenis=jenis, programs=programs or [], sumber=sumber, alasan=alasan, alasan_nonaktif=alasan_nonaktif,
                   perubahan=perubahan or [], origin_id=origin_id, actor=actor, session=session)


def add_new_family(meeting_id: int, *, no_kk: str, alamat: str, rt: str, rw: str, members: list[dict],
                   jenis: str = "baru", programs: list[str] | None = None, sumber: str = "musyawarah",
                   alasan: str = "", actor: Actor, session: Session) -> dict:
    """A family not in the register (usually an exclusion error): NIK/KK validated, screening flags attached."""
    meeting = _open_meeting(meeting_id, actor, session)
    no_kk = "".join(ch for ch in (no_kk or "") if ch.isdigit() or ch.isalpha())
    if not bool(screening.kk_valid(pd.Series([no_kk])).iloc[0]):
        raise InvalidInput(f"No KK {no_kk or '(kosong)'} tidak valid: harus 16 angka dengan kode provinsi yang ada.",
                           code="kk_invalid", field="no_kk")
    clean = []
    for i, m in enumerate(members, start=1):
        nik = "".join(ch for ch in str(m.get("nik") or "") if not ch.isspace())
        nama = str(m.get("nama") or "").strip()
        if not nik and not nama:
            continue
        if not nama:
            raise InvalidInput(f"Anggota ke-{i}: nama wajib diisi.", code="member_name_missing", field="anggota")
        if not bool(screening.nik_valid(pd.Series([nik])).iloc[0]):
            raise InvalidInput(f"Anggota ke-{i} ({nama}): NIK {nik or '(kosong)'} tidak valid.", code="nik_invalid",
                               field="anggota")
        clean.append({"nik": nik, "nama": nama.upper(), "jenis_kelamin": m.get("jenis_kelamin") or "",
                      "tanggal_lahir": m.get("tanggal_lahir"), "hubungan": m.get("hubungan") or ""})
    if len({m["nik"] for m in clean}) != len(clean):
        raise InvalidInput("NIK yang sama dimasukkan dua kali.", code="nik_duplicate", field="anggota")
    existing = session.exec(select(Family).where(Family.kelurahan_kode == meeting.kelurahan_kode,
                                                 Family.no_kk == no_kk)).first()
    if existing is not None:
        raise InvalidInput("No KK ini sudah ada di register kelurahan: pilih keluarganya dari register.",
                           code="family_in_register", field="no_kk")
    head = next((m["nama"] for m in clean if "kepala" in m["hubungan"].lower()), clean[0]["nama"] if clean else "")
    rt_clean, rw_clean = (str(rt or "").strip().zfill(3)[:3], str(rw or "").strip().zfill(3)[:3])
    return _create(meeting, None, no_kk, head, (alamat or "").strip(), rt_clean, rw_clean, None, clean, jenis=jenis,
                   programs=programs or [], sumber=sumber, alasan=alasan, alasan_nonaktif="", perubahan=[],
                   origin_id=None, actor=actor, session=session)


def _create(meeting, family, no_kk, head, alamat, rt, rw, desil, members, *, jenis, programs, sumber, alasan,
            alasan_nonaktif, perubahan, origin_id, actor, session) -> dict:
    allowed = settings_for(meeting.kelurahan_kode, session=session)["programs"]
    _validate(jenis, alasan_nonaktif, programs, sumber, perubahan, allowed)
    if not members:
        raise InvalidInput("Pilih minimal satu anggota keluarga yang terdampak usulan.", code="no_member",
                           field="anggota")
    warnings = _check_duplicates(meeting, jenis, no_kk, [m["nik"] for m in members], session)
    item = Proposal(musyawarah_id=meeting.id, kelurahan_kode=meeting.kelurahan_kode, periode=meeting.periode,
                    urutan=_next_order(meeting.id, session), family_id=family.id if family else None, no_kk=no_kk,
                    nama_kepala=head, alamat=alamat, rt=rt, rw=rw, desil=desil, jenis=jenis,
                    alasan_nonaktif=alasan_nonaktif, programs=json.dumps(programs, ensure_ascii=False),
                    sumber=sumber, alasan=(alasan or "").strip(),
                    perubahan=json.dumps(perubahan, ensure_ascii=False, default=str), origin_id=origin_id,
                    created_by=actor.username)
    session.add(item)
    session.flush()
    for m in members:
        session.add(ProposalMember(proposal_id=item.id, **m))
    for message in warnings:
        session.add(Flag(code="dup_proposal", severity=screening.WARNING, kelurahan_kode=meeting.kelurahan_kode,
                         family_id=item.family_id, proposal_id=item.id, message=message, source="proposal"))
    if family is None:
        _screen_new_family(item, members, session)
    session.flush()
    audit.record(session, actor, "proposal.added", object_type="proposal", object_id=item.uuid,
                 wilayah_kode=meeting.kelurahan_kode,
                 after={"jenis": jenis, "no_kk": no_kk, "anggota": len(members), "sumber": sumber,
                        "asal": origin_id, "program": programs})
    return proposal_dict(item, session)


def _screen_new_family(item: Proposal, members: list[dict], session: Session) -> None:
    from core.register_check import _dki_kecamatan_prefixes

    prefixes = _dki_kecamatan_prefixes(session)
    for m in members:
        code = None
        if not m["nik"].startswith("31"):
            code, text = "non_dki", "KTP diterbitkan di luar DKI Jakarta. Bahas apakah keluarga berdomisili di sini."
        elif m["nik"][:6] not in prefixes:
            code, text = "kecamatan_unknown", f"Kode wilayah {m['nik'][:6]} bukan kecamatan di DKI Jakarta."
        if code:
            session.add(Flag(code=code, severity=screening.WARNING, kelurahan_kode=item.kelurahan_kode,
                             proposal_id=item.id, nik=m["nik"], message=text, source="proposal"))
        other = session.exec(select(Wilayah.nama).join(Family, Family.kelurahan_kode == Wilayah.kode)
                             .join(Person, Person.family_id == Family.id)
                             .where(Person.nik == m["nik"], Family.kelurahan_kode != item.kelurahan_kode)).first()
        if other:
            session.add(Flag(code="dup_other_kelurahan", severity=screening.WARNING,
                             kelurahan_kode=item.kelurahan_kode, proposal_id=item.id, nik=m["nik"],
                             message=f"NIK ini juga terdaftar di Kel. {other}. Pastikan domisili; beri catatan.",
                             source="proposal"))


def proposal_dict(p: Proposal, session: Session) -> dict:
    return proposal_dicts([p], session)[0]


def proposal_dicts(items: list[Proposal], session: Session) -> list[dict]:
    """Items with their members and open findings, loaded in three queries whatever the number of items."""
    ids = [p.id for p in items]
    family_ids = [p.family_id for p in items if p.family_id]
    members: dict[int, list] = {i: [] for i in ids}
    flags_by_proposal: dict[int, list] = {i: [] for i in ids}
    flags_by_family: dict[int, list] = {}
    for start in range(0, len(ids), 2000):
        chunk = ids[start:start + 2000]
        for m in session.exec(select(ProposalMember).where(ProposalMember.proposal_id.in_(chunk))
                              .order_by(ProposalMember.id)):
            members[m.proposal_id].append(m)
        for f in session.exec(select(Flag).where(Flag.proposal_id.in_(chunk), Flag.status == "open")):
            flags_by_proposal[f.proposal_id].append(f)
    for start in range(0, len(family_ids), 2000):
        for f in session.exec(select(Flag).where(Flag.family_id.in_(family_ids[start:start + 2000]),
                                                 Flag.source == "register", Flag.status == "open")):
            flags_by_family.setdefault(f.family_id, []).append(f)

    def flag_view(f: Flag) -> dict:
        return {"code": f.code, "severity": f.severity, "pesan": f.message,
                "judul": screening.RULES[f.code].title if f.code in screening.RULES else f.code}

    return [{
        "id": p.id, "uuid": p.uuid, "urutan": p.urutan, "musyawarah_id": p.musyawarah_id, "family_id": p.family_id,
        "no_kk": p.no_kk, "nama_kepala": p.nama_kepala, "alamat": p.alamat, "rt": p.rt, "rw": p.rw,
        "desil": p.desil, "jenis": p.jenis, "alasan_nonaktif": p.alasan_nonaktif, "programs": json.loads(p.programs),
        "sumber": p.sumber, "alasan": p.alasan, "perubahan": json.loads(p.perubahan), "keputusan": p.keputusan,
        "catatan_keputusan": p.catatan_keputusan, "status": p.status, "status_reason": p.status_reason,
        "origin_id": p.origin_id, "version": p.version,
        "anggota": [{"id": m.id, "nik": m.nik, "nama": m.nama, "jenis_kelamin": m.jenis_kelamin,
                     "tanggal_lahir": m.tanggal_lahir, "hubungan": m.hubungan} for m in members[p.id]],
        "temuan": [flag_view(f) for f in flags_by_proposal[p.id] + flags_by_family.get(p.family_id, [])],
    } for p in items]


def list_proposals(meeting_id: int, *, actor: Actor, session: Session, include_cancelled: bool = False) -> list[dict]:
    get_meeting(meeting_id, actor=actor, session=session)
    stmt = select(Proposal).where(Proposal.musyawarah_id == meeting_id)
    if not include_cancelled:
        stmt = stmt.where(Proposal.status != "dibatalkan")
    return proposal_dicts(list(session.exec(stmt.order_by(Proposal.urutan)).all()), session)


def _editable(proposal_id: int, actor: Actor, session: Session) -> tuple[Proposal, Musyawarah]:
    item = session.get(Proposal, proposal_id)
    if item is None:
        raise NotFound("Usulan tidak ditemukan.", code="unknown_proposal")
    meeting = _open_meeting(item.musyawarah_id, actor, session)
    session.refresh(item, with_for_update=True)  # compare-and-set against the committed value, row locked
    return item, meeting


def set_decision(proposal_id: int, keputusan: str, catatan: str, *, seen: str, actor: Actor,
                 session: Session) -> dict:
    """Record the meeting's decision; ``seen`` is the decision the user saw (refused if it changed meanwhile)."""
    item, meeting = _editable(proposal_id, actor, session)
    if keputusan not in KEPUTUSAN and keputusan != "":
        raise InvalidInput("Keputusan: disepakati, tidak disepakati atau ditunda.", code="decision_invalid",
                           field="keputusan")
    if item.keputusan != (seen or ""):
        raise StaleEdit(f"Keputusan agenda no. {item.urutan} baru saja diubah pengguna lain menjadi "
                        f"{KEPUTUSAN.get(item.keputusan, 'belum diputuskan')}. Keputusan Anda tidak disimpan.")
    before = {"keputusan": item.keputusan, "catatan": item.catatan_keputusan}
    item.keputusan, item.catatan_keputusan = keputusan, (catatan or "").strip()
    item.version += 1
    item.updated_at = utcnow()
    session.add(item)
    audit.record(session, actor, "proposal.decided", object_type="proposal", object_id=item.uuid,
                 wilayah_kode=meeting.kelurahan_kode, before=before,
                 after={"keputusan": keputusan, "catatan": item.catatan_keputusan})
    return proposal_dict(item, session)


EDITABLE = ("alasan", "sumber", "programs", "catatan_keputusan", "alasan_nonaktif")


def update_field(proposal_id: int, fieldname: str, old, new, *, actor: Actor, session: Session) -> dict:
    """Store one field of an item at once (compare-and-set against what the user saw)."""
    if fieldname not in EDITABLE:
        raise InvalidInput(f"Kolom {fieldname} tidak dapat diubah di sini.", code="field_unknown", field=fieldname)
    item, meeting = _editable(proposal_id, actor, session)
    stored = json.loads(item.programs) if fieldname == "programs" else getattr(item, fieldname)
    if stored == new:
        return proposal_dict(item, session)
    if stored != old:
        raise StaleEdit(f"Agenda no. {item.urutan}: isian ini baru saja diubah pengguna lain. Isian Anda tidak "
                        "disimpan; periksa lalu ulangi.")
    allowed = settings_for(meeting.kelurahan_kode, session=session)["programs"]
    programs = new if fieldname == "programs" else json.loads(item.programs)
    _validate(item.jenis, new if fieldname == "alasan_nonaktif" else item.alasan_nonaktif, programs,
              new if fieldname == "sumber" else item.sumber, json.loads(item.perubahan), allowed)
    setattr(item, fieldname, json.dumps(new, ensure_ascii=False) if fieldname == "programs" else (new or ""))
    item.version += 1
    item.updated_at = utcnow()
    session.add(item)
    audit.record(session, actor, "proposal.updated", object_type="proposal", object_id=item.uuid,
                 wilayah_kode=meeting.kelurahan_kode, before={fieldname: stored}, after={fieldname: new})
    return proposal_dict(item, session)


def cancel(proposal_id: int, reason: str, *, actor: Actor, session: Session) -> None:
    """Take an item entered by mistake off the agenda (kept as ``dibatalkan``), before the meeting closes."""
    item, meeting = _editable(proposal_id, actor, session)
    if len((reason or "").strip()) < 5:
        raise InvalidInput("Tulis alasan pembatalan.", code="reason_missing", field="alasan")
    item.status, item.status_reason = "dibatalkan", reason.strip()
    item.version += 1
    session.add(item)
    audit.record(session, actor, "proposal.cancelled", object_type="proposal", object_id=item.uuid,
                 wilayah_kode=meeting.kelurahan_kode, after={"alasan": reason.strip()})


def correct_member(member_id: int, changes: dict, *, actor: Actor, session: Session) -> dict:
    """After closing: correct a misspelt name or a birth date of an affected member (audited with a diff)."""
    member = session.get(ProposalMember, member_id)
    if member is None:
        raise NotFound("Anggota tidak ditemukan.", code="unknown_member")
    item = session.get(Proposal, member.proposal_id)
    meeting = get_meeting(item.musyawarah_id, actor=actor, session=session)
    require(actor, Action.MEETING_RECORD, meeting.kelurahan_kode)
    from core.workflow import ensure_editable

    ensure_editable(meeting.id, session, "Data anggota usulan ini")
    before = {"nama": member.nama, "tanggal_lahir": member.tanggal_lahir, "jenis_kelamin": member.jenis_kelamin}
    nama = str(changes.get("nama", member.nama) or "").strip()
    if not nama:
        raise InvalidInput("Nama wajib diisi.", code="member_name_missing", field="nama")
    member.nama = nama
    if "tanggal_lahir" in changes:
        member.tanggal_lahir = changes["tanggal_lahir"] if isinstance(changes["tanggal_lahir"], date) else None
    if changes.get("jenis_kelamin") in ("L", "P"):
        member.jenis_kelamin = changes["jenis_kelamin"]
    session.add(member)
    after = {"nama": member.nama, "tanggal_lahir": member.tanggal_lahir, "jenis_kelamin": member.jenis_kelamin}
    old, new = audit.diff(before, after, before.keys())
    audit.record(session, actor, "proposal.corrected", object_type="proposal", object_id=item.uuid,
                 wilayah_kode=meeting.kelurahan_kode, before=old, after=new)
    return {"id": member.id, **after}


def undecided_count(meeting_id: int, *, session: Session) -> int:
    return len(session.exec(select(Proposal.id).where(Proposal.musyawarah_id == meeting_id,
                                                      Proposal.status != "dibatalkan", Proposal.keputusan == "")).all())


# --- the pre-list --------------------------------------------------------------------------------------------


def carried_over(kelurahan_kode: str, periode: str, *, actor: Actor, session: Session) -> list[dict]:
    """Items from earlier periods to discuss again: deferred, or returned/rejected upstream (with reasons)."""
    require(actor, Action.MEETING_RECORD, kelurahan_kode)
    continued = set(session.exec(select(Proposal.origin_id).where(Proposal.origin_id.is_not(None),
                                                                  Proposal.status != "dibatalkan")).all())
    rows = session.exec(select(Proposal).where(
        Proposal.kelurahan_kode == kelurahan_kode, Proposal.periode < periode,
        (Proposal.keputusan == "ditunda") | Proposal.status.in_(["dikembalikan", "ditolak"]))
        .order_by(Proposal.periode, Proposal.urutan)).all()
    pending = [p for p in rows if p.id not in continued]
    return [d | {"periode": p.periode} for p, d in zip(pending, proposal_dicts(pending, session))]


def carry_over(meeting_id: int, origin_id: int, *, actor: Actor, session: Session) -> dict:
    origin = session.get(Proposal, origin_id)
    if origin is None:
        raise NotFound("Usulan asal tidak ditemukan.", code="unknown_proposal")
    data = proposal_dict(origin, session)
    meeting = _open_meeting(meeting_id, actor, session)
    if origin.kelurahan_kode != meeting.kelurahan_kode:
        raise InvalidInput("Usulan asal dari kelurahan lain.", code="family_outside_kelurahan", field="asal")
    reason = origin.status_reason or origin.catatan_keputusan
    alasan = f"{origin.alasan} [lanjutan periode {origin.periode}: {reason}]".strip() if reason else origin.alasan
    if origin.family_id:
        return add_from_register(meeting_id, origin.family_id, jenis=origin.jenis,
                                 member_niks=[m["nik"] for m in data["anggota"]], programs=data["programs"],
                                 sumber=origin.sumber, alasan=alasan, alasan_nonaktif=origin.alasan_nonaktif,
                                 perubahan=data["perubahan"], origin_id=origin.id, actor=actor, session=session)
    return _create(meeting, None, origin.no_kk, origin.nama_kepala, origin.alamat, origin.rt, origin.rw, None,
                   [{k: m[k] for k in ("nik", "nama", "jenis_kelamin", "tanggal_lahir", "hubungan")}
                    for m in data["anggota"]], jenis=origin.jenis, programs=data["programs"], sumber=origin.sumber,
                   alasan=alasan, alasan_nonaktif=origin.alasan_nonaktif, perubahan=data["perubahan"],
                   origin_id=origin.id, actor=actor, session=session)


def register_candidates(kelurahan_kode: str, *, rw: str = "", desil: list[int] | None = None,
                        flag_codes: list[str] | None = None, limit: int = 300, actor: Actor,
                        session: Session) -> list[dict]:
    """Families from the register to put on the agenda, filtered by RW, desil or open screening flags."""
    require(actor, Action.MEETING_RECORD, kelurahan_kode)
    stmt = select(Family).where(scope_filter(Family.kelurahan_kode, kelurahan_kode), Family.status == "aktif")
    if rw:
        stmt = stmt.where(Family.rw == rw.strip().zfill(3))
    if desil:
        stmt = stmt.where(Family.desil.in_(desil))
    if flag_codes:
        flagged = select(Flag.family_id).where(Flag.code.in_(flag_codes), Flag.status == "open",
                                               Flag.family_id.is_not(None))
        stmt = stmt.where(Family.id.in_(flagged))
    families = session.exec(stmt.order_by(Family.rw, Family.rt, Family.id).limit(limit)).all()
    heads = {}
    if families:
        for fid, nama, hub in session.exec(select(Person.family_id, Person.nama, Person.hubungan)
                                           .where(Person.family_id.in_([f.id for f in families]))):
            if fid not in heads or "kepala" in (hub or "").lower():
                heads[fid] = nama
    return [{"family_id": f.id, "no_kk": screening.mask_nik(f.no_kk), "kepala": heads.get(f.id, ""),
             "alamat": f.alamat, "rt": f.rt, "rw": f.rw, "desil": f.desil} for f in families]
