"""The musyawarah screens through AppTest: Musyawarah (autosave of the record, the version check between two tabs,
quorum and closing), Daftar hadir (quick entry, quorum banner, an attendee without a name), Tambah usulan (families
from the register), Agenda usulan (the running tally against an independent count, a decision stored the moment it
is taken), the projector view, and a reload that finds everything that was entered.

Dataframe row selection is set through the table's key in session state (the way AppTest offers for selections:
``{"selection": {"rows": [...], ...}}``). Everything runs against the SQLite test database.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import db, meetings, proposals, register
from core.demo_register import generate, to_csv
from core.models import Family, Person
from tests.app.conftest import screen_text, seed_login, titles

KAYUMANIS = "31.75.01.1003"
MUSYAWARAH, HADIR, TAMBAH, USULAN, LAYAR = ("pages/musyawarah.py", "pages/rapat_hadir.py", "pages/rapat_tambah.py",
                                            "pages/rapat_usulan.py", "pages/rapat_layar.py")


@pytest.fixture(autouse=True)
def _empty_register_through_the_fts_triggers(sqlite_only):
    """Same workaround as tests/app/test_register_pages.py: delete the persons while the FTS index is still
    consistent, so the next test's reset_database does not trip over person_fts ("database disk image is
    malformed")."""
    yield
    with sqlite_only.begin() as conn:
        conn.execute(sa.text("DELETE FROM person"))


# --- helpers ---------------------------------------------------------------------------------------------------

@pytest.fixture
def people(sqlite_only, make_account):
    """(operator, lurah) of Kayu Manis, with 12 families of Kayu Manis in the register."""
    operator = make_account(sqlite_only, "operator.x", "operator", KAYUMANIS, nama="Operator Satu")
    lurah = make_account(sqlite_only, "lurah.x", "lurah", KAYUMANIS, nama="Lurah Satu")
    with db.session_scope(sqlite_only) as s:
        result = register.import_extract(to_csv(generate(KAYUMANIS, 12, seed=11)), "ekstrak.csv", KAYUMANIS,
                                         actor=operator, session=s)
    assert result.imported, result.blocking
    return operator, lurah


def _meeting(actor, periode: str = "2027-01") -> int:
    with db.session_scope() as s:
        return meetings.create_meeting(KAYUMANIS, periode, actor=actor, session=s)["id"]


def _stored(meeting_id: int, actor, field: str):
    with db.session_scope() as s:
        return getattr(meetings.get_meeting(meeting_id, actor=actor, session=s), field)


def _families() -> list[int]:
    with db.session_scope() as s:
        return list(s.exec(select(Family.id).where(Family.kelurahan_kode == KAYUMANIS).order_by(Family.id)).all())


def _items(meeting_id: int, actor) -> list[dict]:
    with db.session_scope() as s:
        return proposals.list_proposals(meeting_id, actor=actor, session=s)


def _attendees(meeting_id: int, actor) -> list[dict]:
    with db.session_scope() as s:
        return meetings.attendees(meeting_id, actor=actor, session=s)


def _open(logged_in, actor, page: str):
    at = logged_in(actor)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def _has_button(at, key: str) -> bool:
    return any(b.key == key for b in at.button)


def _quorum_banner(at) -> str:
    [banner] = [m.value for m in [*at.success, *at.warning] if "Kuorum" in m.value]
    return banner


def _add_attendee(at, nama: str, unsur: str, jabatan: str = ""):
    at.text_input(key="att_nama").input(nama)
    at.selectbox(key="att_unsur").select(unsur)
    at.text_input(key="att_jabatan").input(jabatan)
    [submit] = [b for b in at.button if b.label == "Tambah"]
    submit.click().run()
    assert not at.exception, at.exception
    return at


def _select_row(at, table_key: str, *rows: int):
    at.session_state[table_key] = {"selection": {"rows": list(rows), "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    return at


# --- Musyawarah ------------------------------------------------------------------------------------------------

def test_opening_a_meeting_through_the_page(people, logged_in):
    """Guards: the "Buka musyawarah" button (key meeting_new) creates the period's draft meeting and the page then
    works on it (its record fields appear, filled with the defaults)."""
    operator, _ = people
    at = _open(logged_in, operator, MUSYAWARAH)
    assert "Belum ada musyawarah" in screen_text(at)
    at.text_input(key="new_period").input("2027-01")
    at.button(key="meeting_new").click().run()
    assert not at.exception, at.exception
    assert not _errors(at), _errors(at)
    with db.session_scope() as s:
        [m] = meetings.list_meetings(KAYUMANIS, actor=operator, session=s)
    assert (m["periode"], m["status"], m["kind"]) == ("2027-01", "draft", "held")
    assert at.text_input(key=f"mt{m['id']}.tempat").value == m["tempat"] != ""

    at.text_input(key="new_period").input("2027-1")  # a malformed period: a clear message, nothing stored
    at.button(key="meeting_new").click().run()
    assert any("YYYY-MM" in e for e in _errors(at)), _errors(at)
    with db.session_scope() as s:
        assert len(meetings.list_meetings(KAYUMANIS, actor=operator, session=s)) == 1


def test_a_field_is_stored_the_moment_it_is_typed(people, logged_in):
    """Guards "no save button to forget": typing into an autosave field (tempat, jam, tanggal) stores it in the
    database with that very run, and a refused value (a malformed time) is reported and not stored."""
    operator, _ = people
    mid = _meeting(operator)
    at = _open(logged_in, operator, MUSYAWARAH)
    assert not any(b.label.lower().startswith("simpan") and "foto" not in b.label.lower() for b in at.button)

    at.text_input(key=f"mt{mid}.tempat").input("Balai Warga RW 03").run()
    assert not at.exception and not _errors(at), _errors(at)
    assert _stored(mid, operator, "tempat") == "Balai Warga RW 03"
    at.text_input(key=f"mt{mid}.jam_mulai").input("09.30").run()
    assert _stored(mid, operator, "jam_mulai") == "09:30"
    at.date_input(key=f"mt{mid}.tanggal").set_value(date(2027, 1, 14)).run()
    assert _stored(mid, operator, "tanggal") == date(2027, 1, 14)
    at.text_area(key=f"mt{mid}.notulen").input("Rapat dibuka pukul 09.30.").run()
    assert _stored(mid, operator, "notulen") == "Rapat dibuka pukul 09.30."

    at.text_input(key=f"mt{mid}.jam_selesai").input("jam dua").run()
    assert not at.exception
    assert any("JJ.MM" in e for e in _errors(at)), _errors(at)
    assert _stored(mid, operator, "jam_selesai") == ""


def test_two_tabs_changing_the_same_field_do_not_overwrite_each_other(people, logged_in, new_app):
    """Guards the version check between two users on one musyawarah: the second writer, whose change was made on
    top of a value that is no longer stored, is told "pengguna lain" and the first writer's value stays; a field
    the second tab had not touched shows the other user's new value."""
    operator, lurah = people
    mid = _meeting(operator)
    mine = _open(logged_in, operator, MUSYAWARAH)
    other = _open(logged_in, lurah, MUSYAWARAH)
    original = mine.text_input(key=f"mt{mid}.tempat").value

    other.text_input(key=f"mt{mid}.tempat").input("Aula RW 05").run()
    assert not _errors(other)
    assert _stored(mid, operator, "tempat") == "Aula RW 05"

    mine.text_input(key=f"mt{mid}.tempat").input("Balai Warga RW 03").run()
    assert not mine.exception
    errors = _errors(mine)
    assert any("pengguna lain" in e for e in errors), errors
    assert _stored(mid, operator, "tempat") == "Aula RW 05"
    assert mine.text_input(key=f"mt{mid}.tempat").value == "Aula RW 05"  # now shows what is stored
    assert original != "Aula RW 05"

    other.text_input(key=f"mt{mid}.notulis").input("Sari").run()
    mine.run()
    assert mine.text_input(key=f"mt{mid}.notulis").value == "Sari"


def test_lurah_sees_the_quorum_and_closes_operator_cannot(people, logged_in):
    """Guards the closing controls: the lurah sees the quorum status and "Tutup musyawarah"; the operator sees
    neither the button nor can close; after closing the page says it is closed and locked fields are disabled."""
    operator, lurah = people
    mid = _meeting(operator)
    as_operator = _open(logged_in, operator, MUSYAWARAH)
    assert not _has_button(as_operator, "meeting_close")
    assert "Musyawarah ditutup oleh Lurah." in screen_text(as_operator)

    as_lurah = _open(logged_in, lurah, MUSYAWARAH)
    assert _has_button(as_lurah, "meeting_close")
    assert "Kuorum BELUM terpenuhi" in _quorum_banner(as_lurah)

    with db.session_scope() as s:
        for field, old, new in (("tanggal", None, "2027-01-14"), ("jam_mulai", "", "09.00"),
                                ("ketua", "", "Lurah Satu"), ("notulis", "", "Sari")):
            meetings.update_meeting_field(mid, field, old, new, actor=operator, session=s)
        for nama, unsur in (("Lurah Satu", "Lurah"), ("Ketua RW 01", "Ketua RW"), ("H. Abdul", "LMK")):
            meetings.add_attendee(mid, {"nama": nama, "unsur": unsur}, actor=operator, session=s)
    as_lurah.run()
    assert _quorum_banner(as_lurah).startswith("Kuorum terpenuhi")
    as_lurah.button(key="meeting_close").click().run()
    assert not as_lurah.exception and not _errors(as_lurah), _errors(as_lurah)
    assert _stored(mid, lurah, "status") == "closed"
    assert "Ditutup oleh lurah.x" in screen_text(as_lurah)
    assert not _has_button(as_lurah, "meeting_close")
    assert as_lurah.text_input(key=f"mt{mid}.notulis").disabled
    assert not as_lurah.text_input(key=f"mt{mid}.tempat").disabled  # a correction of data stays possible


def test_closing_an_incomplete_meeting_says_what_is_missing(people, logged_in):
    """Guards the Bad-input rule for closing: pressing "Tutup musyawarah" on a meeting without date, notulis or
    attendees must give the clear message ("Lengkapi dulu: …"), keep the meeting open — not the generic
    "kesalahan yang tidak terduga"."""
    operator, lurah = people
    mid = _meeting(operator)
    at = _open(logged_in, lurah, MUSYAWARAH)
    at.button(key="meeting_close").click().run()
    assert _stored(mid, lurah, "status") == "draft"
    errors = _errors(at)
    assert not any("tidak terduga" in e for e in errors), errors
    assert any("Lengkapi dulu" in e for e in errors), errors


# --- Daftar hadir ----------------------------------------------------------------------------------------------

def test_attendance_entry_and_quorum_banner(people, logged_in):
    """Guards the attendance form: each "Tambah" stores one attendee with its unsur, the counts by unsur follow,
    and the quorum banner turns from BELUM to met only once Lurah, Ketua RW and LMK are all present."""
    operator, _ = people
    mid = _meeting(operator)
    at = _open(logged_in, operator, HADIR)
    assert "Kuorum BELUM terpenuhi" in _quorum_banner(at)
    assert "Belum ada peserta." in screen_text(at)

    _add_attendee(at, "Hendra Gunawan", "Lurah", "Lurah Kayu Manis")
    assert [(p["nama"], p["unsur"], p["is_chair"]) for p in _attendees(mid, operator)] == [
        ("Hendra Gunawan", "Lurah", True)]
    assert "BELUM" in _quorum_banner(at)
    _add_attendee(at, "Ketua RW 03", "Ketua RW")
    assert "BELUM" in _quorum_banner(at)
    _add_attendee(at, "H. Abdul Rahman", "LMK", "Ketua LMK")
    banner = _quorum_banner(at)
    assert banner.startswith("Kuorum terpenuhi") and "BELUM" not in banner, banner
    assert "Ketua RW: 1" in screen_text(at) and "LMK: 1" in screen_text(at)
    assert [p["nama"] for p in _attendees(mid, operator)] == ["Hendra Gunawan", "Ketua RW 03", "H. Abdul Rahman"]
    assert list(at.dataframe[0].value["Nama"]) == ["Hendra Gunawan", "Ketua RW 03", "H. Abdul Rahman"]
    assert "3 peserta" in [h.value for h in at.subheader]


def test_attendee_without_a_name_is_refused(people, logged_in):
    """Guards the Bad-input rule "an attendee without a name → a clear message, nothing stored"."""
    operator, _ = people
    mid = _meeting(operator)
    at = _open(logged_in, operator, HADIR)
    _add_attendee(at, "   ", "Ketua RW", "Ketua RW 04")
    assert any("Nama peserta wajib diisi" in e for e in _errors(at)), _errors(at)
    assert _attendees(mid, operator) == []
    assert "BELUM" in _quorum_banner(at)


# --- Tambah usulan ---------------------------------------------------------------------------------------------

def test_adding_families_from_the_register(people, logged_in):
    """Guards the pre-list: the selected register rows (and only those) become agenda items of this meeting,
    with the chosen type and programme."""
    operator, _ = people
    mid = _meeting(operator)
    at = _open(logged_in, operator, TAMBAH)
    table = at.dataframe(key="pre_table").value if hasattr(at, "dataframe") else None
    assert table is not None and len(table) == 12
    _select_row(at, "pre_table", 1, 4)
    at.multiselect(key="reg_programs").set_value(["PKH"])
    at.button(key="pre_add").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    items = _items(mid, operator)
    assert sorted(i["nama_kepala"] for i in items) == sorted(table["Kepala keluarga"].iloc[[1, 4]])
    assert all(i["jenis"] == "baru" and i["programs"] == ["PKH"] for i in items)


# --- Agenda usulan ---------------------------------------------------------------------------------------------

def _agenda(operator, mid: int) -> list[int]:
    """Five items: three whole families, one nonaktif for one member, one with two members (prioritas)."""
    fams = _families()
    with db.session_scope() as s:
        niks = {f: list(s.exec(select(Person.nik).where(Person.family_id == f).order_by(Person.id)).all())
                for f in fams[:5]}
        ids = [proposals.add_from_register(mid, f, jenis="baru", programs=["PKH"], actor=operator, session=s)["id"]
               for f in fams[:3]]
        ids.append(proposals.add_from_register(mid, fams[3], jenis="nonaktif", alasan_nonaktif="meninggal",
                                               member_niks=niks[fams[3]][:1], actor=operator, session=s)["id"])
        ids.append(proposals.add_from_register(mid, fams[4], jenis="prioritas_program", programs=["PIP"],
                                               member_niks=niks[fams[4]][:2], actor=operator, session=s)["id"])
    return ids


def _independent_count(family_ids: list[int], partial: dict[int, int]) -> tuple[int, int]:
    """KK and jiwa straight from the register tables: all active members, or the first ``partial[f]`` ones."""
    with db.session_scope() as s:
        kks = set(s.exec(select(Family.no_kk).where(Family.id.in_(family_ids))).all())
        jiwa = 0
        for f in family_ids:
            members = s.exec(select(Person.nik).where(Person.family_id == f, Person.status == "aktif")).all()
            jiwa += min(len(members), partial.get(f, len(members)))
    return len(kks), jiwa


def test_tally_matches_an_independent_count(people, logged_in):
    """Guards the always-visible tally: "N usulan · K KK · J jiwa" counts distinct families and the affected
    members only (a nonaktif for one member counts one jiwa), as an independent count from the register says."""
    operator, _ = people
    mid = _meeting(operator)
    _agenda(operator, mid)
    fams = _families()[:5]
    kk, jiwa = _independent_count(fams, {fams[3]: 1, fams[4]: 2})
    assert kk == 5 and jiwa > 5
    at = _open(logged_in, operator, USULAN)
    assert f"5 usulan · {kk} KK · {jiwa} jiwa" in screen_text(at)
    assert len(at.dataframe[0].value) == 5
    assert "Pilih satu baris" in screen_text(at)


def test_a_decision_is_stored_the_moment_it_is_taken(people, logged_in, new_app):
    """Guards decisions without a save button: selecting an item and choosing its decision stores it at once (and
    the tally by decision follows); a second tab that decided the same item differently meanwhile is refused with
    a message and does not overwrite it."""
    operator, lurah = people
    mid = _meeting(operator)
    ids = _agenda(operator, mid)
    at = _open(logged_in, operator, USULAN)
    _select_row(at, "agenda_table", 1)
    assert at.radio(key=f"dec{ids[1]}").value == ""
    at.radio(key=f"dec{ids[1]}").set_value("disepakati").run()
    assert not at.exception and not _errors(at), _errors(at)
    assert {i["id"]: i["keputusan"] for i in _items(mid, operator)}[ids[1]] == "disepakati"
    assert "Disepakati: 1 KK" in screen_text(at)
    assert at.dataframe[0].value["Keputusan"].iloc[1] == "Disepakati"

    other = _open(logged_in, lurah, USULAN)
    _select_row(other, "agenda_table", 2)
    _select_row(at, "agenda_table", 2)
    other.radio(key=f"dec{ids[2]}").set_value("ditunda").run()
    at.radio(key=f"dec{ids[2]}").set_value("tidak_disepakati").run()
    assert any("pengguna lain" in e for e in _errors(at)), _errors(at)
    assert {i["id"]: i["keputusan"] for i in _items(mid, operator)}[ids[2]] == "ditunda"


# --- Layar proyektor -------------------------------------------------------------------------------------------

def test_projector_view_shows_the_current_item_and_the_tally(people, logged_in):
    """Guards the projector view: it renders without error, shows the running tally in large type and the item
    chosen on Agenda usulan with its decision."""
    operator, _ = people
    mid = _meeting(operator)
    ids = _agenda(operator, mid)
    fams = _families()[:5]
    kk, jiwa = _independent_count(fams, {fams[3]: 1, fams[4]: 2})
    at = _open(logged_in, operator, LAYAR)
    assert not at.error
    assert f"### 5 usulan · {kk} KK · {jiwa} jiwa" in [m.value for m in at.markdown]
    assert "## Pilih usulan di halaman Agenda usulan" in [m.value for m in at.markdown]

    at.switch_page(USULAN).run()
    _select_row(at, "agenda_table", 0)
    at.radio(key=f"dec{ids[0]}").set_value("disepakati").run()
    at.switch_page(LAYAR).run()
    assert not at.exception and not at.error
    shown = [m.value for m in at.markdown]
    [item] = [i for i in _items(mid, operator) if i["id"] == ids[0]]
    assert f"# No. 1 · {item['nama_kepala']}" in shown
    assert "## Keputusan: **Disepakati**" in shown


# --- Reload ----------------------------------------------------------------------------------------------------

def test_a_reload_loses_nothing(people, logged_in, new_app):
    """Guards "a browser refresh loses nothing": after fields, attendees and a decision were entered through the
    pages, a brand-new session of the same user (a refresh) shows all of them."""
    operator, _ = people
    ids = None
    at = _open(logged_in, operator, MUSYAWARAH)
    at.text_input(key="new_period").input("2027-01")
    at.button(key="meeting_new").click().run()
    with db.session_scope() as s:
        [m] = meetings.list_meetings(KAYUMANIS, actor=operator, session=s)
    mid = m["id"]
    at.text_input(key=f"mt{mid}.tempat").input("Balai Warga RW 03").run()
    at.text_input(key=f"mt{mid}.notulis").input("Sari Wulandari").run()
    at.text_input(key=f"mt{mid}.jam_mulai").input("09.15").run()
    at.switch_page(HADIR).run()
    _add_attendee(at, "Hendra Gunawan", "Lurah")
    _add_attendee(at, "Ketua RW 02", "Ketua RW")
    ids = _agenda(operator, mid)
    at.switch_page(USULAN).run()
    _select_row(at, "agenda_table", 3)
    at.radio(key=f"dec{ids[3]}").set_value("ditunda").run()
    at.text_input(key=f"note{ids[3]}").input("Menunggu surat kematian").run()
    assert not _errors(at), _errors(at)

    fresh = seed_login(new_app(), operator)
    fresh.run()
    fresh.switch_page(MUSYAWARAH).run()
    assert not fresh.exception
    assert titles(fresh) == ["Musyawarah kelurahan"]
    assert fresh.text_input(key=f"mt{mid}.tempat").value == "Balai Warga RW 03"
    assert fresh.text_input(key=f"mt{mid}.notulis").value == "Sari Wulandari"
    assert fresh.text_input(key=f"mt{mid}.jam_mulai").value == "09.15"
    fresh.switch_page(HADIR).run()
    assert list(fresh.dataframe[0].value["Nama"]) == ["Hendra Gunawan", "Ketua RW 02"]
    fresh.switch_page(USULAN).run()
    assert list(fresh.dataframe[0].value["Keputusan"]) == ["—", "—", "—", "Ditunda", "—"]
    _select_row(fresh, "agenda_table", 3)
    assert fresh.radio(key=f"dec{ids[3]}").value == "ditunda"
    assert fresh.text_input(key=f"note{ids[3]}").value == "Menunggu surat kematian"


# --- The musyawarah chosen ---------------------------------------------------------------------------------------

def test_the_chosen_meeting_is_kept_across_the_meeting_screens(people, logged_in):
    """Guards the meeting selector: after choosing an older open musyawarah on one meeting screen, the next
    meeting screen must work on the same one — not silently on another meeting."""
    operator, _ = people
    older, newer = _meeting(operator, "2026-12"), _meeting(operator, "2027-01")
    at = _open(logged_in, operator, MUSYAWARAH)
    assert at.selectbox(key="meeting_id").value == newer
    at.selectbox(key="meeting_id").select(older).run()
    assert at.text_input(key=f"mt{older}.tempat") is not None
    at.switch_page(HADIR).run()
    assert not at.exception
    assert at.selectbox(key="meeting_id").value == older
