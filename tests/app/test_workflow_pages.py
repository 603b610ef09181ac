"""The batch workflow screens through AppTest: Pengajuan (Lurah/operator: blockers, waiving a verification, the
confirmation before submitting), Tinjau pengajuan (Camat: the queue, returning items with a reason, forwarding,
returning the whole batch), Pengesahan (Walikota: ratifying, finalising the pengesahan), Hasil pengesahan (the
counts against plain SQL) and the Lurah's home after a return.

The batches are built through the core services; dataframe row selection is set through the table's key in
session state (``{"selection": {"rows": [...]}}``), the way AppTest offers it. Everything runs against the SQLite
test database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from core import db, documents, meetings, proposals, workflow
from core.access import Actor
from core.demo_register import nik_for
from core.timefmt import WIB, utcnow
from tests.app.conftest import screen_text

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

KAYUMANIS, PALMERIAM, MATRAMAN, JAKTIM = "31.75.01.1003", "31.75.01.1004", "31.75.01", "31.75"
PENGAJUAN, TINJAU, PENGESAHAN, HASIL = ("pages/pengajuan.py", "pages/tinjau_pengajuan.py", "pages/pengesahan.py",
                                        "pages/hasil_pengesahan.py")
MEMBERS = (2, 3, 1)  # three agreed new families
WAIVER = "Keluarga dikenal baik oleh Ketua RT/RW setempat"
RETURN_REASON = "KK belum diperbarui di Dukcapil"
SCAN = b"%PDF-1.4\n% pindaian bertanda tangan (uji)\n%%EOF\n"


def _month(offset: int) -> str:
    today = utcnow().astimezone(WIB).date()
    n = today.year * 12 + today.month - 1 + offset
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


PERIODE = _month(1)  # next month: never after the default cut-off, so never late


# --- the cast and the batch ---------------------------------------------------------------------------------------

@dataclass
class People:
    operator: Actor
    lurah: Actor
    camat: Actor
    walikota: Actor
    dinsos: Actor


@pytest.fixture
def people(sqlite_only, make_account) -> People:
    def make(username, role, kode, nama):
        return make_account(sqlite_only, username, role, kode, nama=nama)

    return People(operator=make("operator.x", "operator", KAYUMANIS, "Operator Satu"),
                  lurah=make("lurah.x", "lurah", KAYUMANIS, "Lurah Satu"),
                  camat=make("camat.x", "camat", MATRAMAN, "Camat Satu"),
                  walikota=make("walikota.x", "walikota", JAKTIM, "Staf Walikota"),
                  dinsos=make("dinsos.x", "dinsos", JAKTIM, "Staf Dinsos"))


@dataclass
class Batch:
    meeting_id: int
    batch_id: int
    items: list[int]  # agreed items in agenda order
    kks: list[str]


def _closed_meeting(p: People, periode: str = PERIODE, kinds: tuple[str, ...] = ("baru",) * len(MEMBERS)
                    ) -> tuple[int, list[int], list[str]]:
    """A closed musyawarah of Kayu Manis with three agreed families not in the register (of the given kinds)."""
    with db.session_scope() as s:
        mid = meetings.create_meeting(KAYUMANIS, periode, actor=p.operator, session=s)["id"]
    with db.session_scope() as s:
        for fieldname, value in (("tanggal", date(int(periode[:4]), int(periode[5:]), 3)), ("jam_mulai", "09.00"),
                                 ("ketua", "Hendra Gunawan"), ("notulis", "Sari Wulandari")):
            old = getattr(meetings.get_meeting(mid, actor=p.operator, session=s), fieldname)
            meetings.update_meeting_field(mid, fieldname, old, value, actor=p.operator, session=s)
        for nama, unsur in (("Hendra Gunawan", "Lurah"), ("Agus Salim", "Ketua RW"), ("H. Abdul Rahman", "LMK")):
            meetings.add_attendee(mid, {"nama": nama, "unsur": unsur}, actor=p.operator, session=s)
    ids, kks = [], []
    relations = ["KEPALA KELUARGA", "ISTRI", "ANAK"]
    for serial, (n, jenis) in enumerate(zip(MEMBERS, kinds), start=1):
        kk = f"3175011705{80 + serial:02d}{7000 + serial:04d}"
        members = [{"nik": nik_for("317501", date(1980 + j, 5, 17), j == 1, 300 * serial + j),
                    "nama": f"Warga {serial}-{j}", "hubungan": relations[j], "jenis_kelamin": "P" if j == 1 else "L",
                    "tanggal_lahir": date(1980 + j, 5, 17)} for j in range(n)]
        with db.session_scope() as s:
            item = proposals.add_new_family(mid, no_kk=kk, alamat=f"Jl. Kayu Manis No. {serial}", rt="1", rw="2",
                                            members=members, jenis=jenis, programs=["PKH"], actor=p.operator,
                                            session=s)
        with db.session_scope() as s:
            proposals.set_decision(item["id"], "disepakati", "", seen="", actor=p.operator, session=s)
        ids.append(item["id"])
        kks.append(kk)
    with db.session_scope() as s:
        meetings.close_meeting(mid, confirm_without_quorum=False, actor=p.lurah, session=s)
    return mid, ids, kks


def _batch(p: People, *, waive: bool = True, finalise: bool = True, kinds: tuple[str, ...] | None = None) -> Batch:
    mid, ids, kks = _closed_meeting(p, kinds=kinds or ("baru",) * len(MEMBERS))
    if waive:
        with db.session_scope() as s:
            batch = workflow.ensure_batch(s.get(meetings.Musyawarah, mid), s)
            for item in workflow.missing_verifications(batch, s):
                workflow.waive_verification(item.id, WAIVER, actor=p.lurah, session=s)
    if finalise:
        for doc_type in ("berita_acara", "sptjm", "bast_kelurahan"):
            with db.session_scope() as s:
                doc = documents.finalise(doc_type, {"meeting_id": mid}, actor=p.lurah, session=s)
            with db.session_scope() as s:
                documents.upload_scan(doc["id"], SCAN + doc_type.encode(), f"{doc_type}.pdf", actor=p.operator,
                                      session=s)
    with db.session_scope() as s:
        bid = workflow.batch_id_for_meeting(mid, actor=p.lurah, session=s)
    return Batch(mid, bid, ids, kks)


def _act(actor: Actor, bid: int, action: str, **kwargs) -> None:
    with db.session_scope() as s:
        workflow.act(bid, action, actor=actor, session=s, **kwargs)


def _submitted(p: People, **kwargs) -> Batch:
    b = _batch(p, **kwargs)
    _act(p.lurah, b.batch_id, "ajukan")
    return b


def _forwarded(p: People) -> Batch:
    b = _submitted(p)
    _act(p.camat, b.batch_id, "teruskan")
    return b


# --- page helpers -------------------------------------------------------------------------------------------------

def _open(logged_in, actor, page: str):
    at = logged_in(actor)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert not _errors(at), _errors(at)
    return at


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def _press(at, key: str):
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def _keys(at) -> set[str]:
    return {b.key for b in at.button}


def _select(at, key: str, *rows: int):
    """Select rows of the table whose widget key is ``key`` or starts with ``key.`` (keys follow the content)."""
    state = at._session_state.filtered_state  # the tester view has no listing of its keys
    keys = [k for k in state if k == key or k.startswith(key + ".")]
    assert len(keys) == 1, (key, sorted(state))
    at.session_state[keys[0]] = {"selection": {"rows": list(rows), "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    return at


def _status_box(at) -> str:
    [box] = [m.value for m in [*at.info, *at.success, *at.error] if m.value.startswith("Status: ")]
    return box


def _markdown(at) -> list[str]:
    return [m.value for m in at.markdown]


def _sql(query: str, **params):
    with db.get_engine().connect() as conn:
        return conn.execute(sa.text(query), params).all()


def _batch_state(bid: int) -> str:
    return _sql("SELECT state FROM batch WHERE id = :b", b=bid)[0][0]


def _item_states(ids: list[int]) -> dict[int, tuple[str, str | None, str | None]]:
    rows = _sql("SELECT id, status, status_level, status_reason FROM proposal WHERE id IN ("
                + ",".join(str(int(i)) for i in ids) + ")")
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


# --- Pengajuan (kelurahan) ----------------------------------------------------------------------------------------

def test_pengajuan_lists_the_blockers_of_a_batch_not_ready(people, logged_in):
    """Guards the submission preconditions on screen: documents not final and families not verified are each
    named, and neither the confirmation nor the submit button can be used while they stand."""
    _batch(people, waive=False, finalise=False)
    at = _open(logged_in, people.lurah, PENGAJUAN)
    assert "Draf di kelurahan" in _status_box(at)
    blockers = [m for m in _markdown(at) if m.startswith("- :red[✗]")]
    text = "\n".join(blockers)
    assert "3 dari 3 keluarga belum diverifikasi" in text, blockers
    for label in ("Berita Acara", "SPTJM", "BAST"):
        assert any(label in b and "belum difinalkan" in b for b in blockers), (label, blockers)
    assert at.checkbox(key="submit_ok").disabled
    assert at.button(key="submit_go").disabled
    assert "Kecualikan verifikasi lapangan (3 keluarga belum dikunjungi)" in [e.label for e in at.expander]


def test_lurah_waives_a_verification_with_a_reason(people, logged_in):
    """Guards the waiver on Pengajuan: a reason under 10 characters is refused and nothing is stored; with a
    proper reason the family's waiver is stored and the blocker's count drops by one."""
    b = _batch(people, waive=False)
    at = _open(logged_in, people.lurah, PENGAJUAN)
    first = b.items[0]
    at.selectbox(key="waive_pick").set_value(first)
    at.text_input(key="waive_reason").input("ok saja")
    _press(at, "waive_go")
    assert any("minimal 10 karakter" in e for e in _errors(at)), _errors(at)
    assert _sql("SELECT verification_waiver FROM proposal WHERE id = :i", i=first)[0][0] in (None, "")

    at.text_input(key="waive_reason").input(WAIVER)
    _press(at, "waive_go")
    assert not _errors(at), _errors(at)
    assert _sql("SELECT verification_waiver FROM proposal WHERE id = :i", i=first)[0][0] == WAIVER
    text = "\n".join(_markdown(at))
    assert "2 dari 3 keluarga belum diverifikasi" in text
    assert len(at.selectbox(key="waive_pick").options) == 2  # the waived family is no longer offered


def test_submit_needs_the_confirmation_and_lands_at_the_camat(people, logged_in):
    """Guards the last step of the kelurahan: with every precondition met the button stays disabled until the
    Lurah ticks the confirmation; then "Ajukan ke Camat" submits (status "Diajukan ke Camat", in the database
    too) and offers the withdrawal instead of the submit button."""
    b = _batch(people)
    at = _open(logged_in, people.lurah, PENGAJUAN)
    assert "- :green[✓] Semua syarat terpenuhi." in _markdown(at)
    assert not at.checkbox(key="submit_ok").disabled
    assert at.button(key="submit_go").disabled
    at.checkbox(key="submit_ok").check().run()
    assert not at.button(key="submit_go").disabled
    _press(at, "submit_go")
    assert not _errors(at), _errors(at)
    assert "Diajukan ke Camat" in _status_box(at)
    assert _batch_state(b.batch_id) == "diajukan"
    assert "submit_go" not in _keys(at)
    assert "withdraw_go" in _keys(at)


def test_operator_cannot_submit(people, logged_in):
    """Guards "only the Lurah submits": an operator on a ready batch sees no confirmation, no submit button and
    no waiver form, only the note that the Lurah submits."""
    _batch(people, waive=False)
    at = _open(logged_in, people.operator, PENGAJUAN)
    assert "submit_go" not in _keys(at) and "waive_go" not in _keys(at)
    assert not [c for c in at.checkbox if c.key == "submit_ok"]
    assert "Pengajuan dilakukan oleh Lurah." in [c.value for c in at.caption]


# --- Tinjau pengajuan (Camat) -------------------------------------------------------------------------------------

def _camat_on_batch(logged_in, p: People, b: Batch):
    at = _open(logged_in, p.camat, TINJAU)
    [queue] = [d.value for d in at.dataframe if "Kelurahan" in d.value.columns]
    assert list(queue["Kelurahan"]) == ["Kayu Manis"]
    assert list(queue["Periode"]) == [PERIODE]
    assert list(queue["Status"]) == ["Diajukan ke Camat"]
    assert list(queue["KK"]) == [3] and list(queue["Jiwa"]) == [sum(MEMBERS)]
    _select(at, "queue_table", 0)
    assert [h.value for h in at.subheader] == [f"Kel. Kayu Manis · periode {PERIODE} · Diajukan ke Camat"]
    return at


def test_camat_returns_one_item_and_forwards_the_rest(people, logged_in):
    """Guards the Camat's review: the queue lists the submitted batch; a return reason under 5 characters is
    refused ("minimal 5"); with a proper reason the item is marked on screen, and forwarding leaves exactly that
    item "dikembalikan" (level camat, with the reason) and the others "diteruskan"."""
    b = _submitted(people)
    at = _camat_on_batch(logged_in, people, b)
    items_key = f"items.{b.batch_id}"
    _select(at, items_key, 1)
    assert "**1 usulan dipilih**" in _markdown(at)
    assert at.selectbox(key=f"what.{b.batch_id}").value == "kembalikan"
    at.text_input(key=f"why.{b.batch_id}").input("tdk")
    _press(at, f"apply.{b.batch_id}")
    assert any("minimal 5" in e for e in _errors(at)), _errors(at)

    at.text_input(key=f"why.{b.batch_id}").input(RETURN_REASON)
    _press(at, f"apply.{b.batch_id}")
    assert not _errors(at), _errors(at)
    [table] = [d.value for d in at.dataframe if "Keputusan Anda" in d.value.columns]
    assert list(table["Keputusan Anda"]) == ["diteruskan", f"Dikembalikan: {RETURN_REASON}", "diteruskan"]
    assert "**Teruskan** 2 usulan; 1 dikembalikan ke kelurahan." in _markdown(at)

    _press(at, "forward_go")
    assert not _errors(at), _errors(at)
    assert _batch_state(b.batch_id) == "diteruskan"
    states = _item_states(b.items)
    assert states[b.items[1]] == ("dikembalikan", "camat", RETURN_REASON)
    assert states[b.items[0]][0] == "diteruskan" and states[b.items[2]][0] == "diteruskan"


def test_camat_return_of_the_whole_batch_needs_a_reason(people, logged_in):
    """Guards "Kembalikan seluruh pengajuan": without a reason it is refused with the reason message and the batch
    stays with the Camat; with one the batch goes back to the kelurahan."""
    b = _submitted(people)
    at = _camat_on_batch(logged_in, people, b)
    _press(at, "return_all_go")
    assert any("alasan" in e.lower() and "minimal 5" in e for e in _errors(at)), _errors(at)
    assert _batch_state(b.batch_id) == "diajukan"

    at.text_input(key="return_all_reason").input(RETURN_REASON)
    _press(at, "return_all_go")
    assert not _errors(at), _errors(at)
    assert _batch_state(b.batch_id) == "dikembalikan"


def _second_submitted_batch(make_account, engine) -> int:
    """Palmeriam (same kecamatan, listed after Kayu Manis): a period without musyawarah, submitted."""
    lurah_pm = make_account(engine, "lurah.pm", "lurah", PALMERIAM, nama="Lurah Dua")
    with db.session_scope() as s:
        meeting = meetings.record_not_held(PALMERIAM, PERIODE, "Aula kelurahan dipakai posko banjir", actor=lurah_pm,
                                           session=s)
    for doc_type in ("sptjm", "bast_kelurahan"):
        with db.session_scope() as s:
            doc = documents.finalise(doc_type, {"meeting_id": meeting["id"]}, actor=lurah_pm, session=s)
        with db.session_scope() as s:
            documents.upload_scan(doc["id"], SCAN + doc_type.encode(), f"{doc_type}.pdf", actor=lurah_pm, session=s)
    with db.session_scope() as s:
        bid = workflow.batch_id_for_meeting(meeting["id"], actor=lurah_pm, session=s)
    _act(lurah_pm, bid, "ajukan")
    return bid


def test_after_forwarding_no_other_batch_is_opened_unasked(people, logged_in, make_account, sqlite_only):
    """Guards the Camat against acting on a batch she never chose: after forwarding Kayu Manis (row 0), Palmeriam
    moves up to row 0; the page must ask for a choice again instead of opening Palmeriam with its forward button."""
    b = _submitted(people)
    other = _second_submitted_batch(make_account, sqlite_only)
    at = _open(logged_in, people.camat, TINJAU)
    [queue] = [d.value for d in at.dataframe if "Kelurahan" in d.value.columns]
    assert list(queue["Kelurahan"]) == ["Kayu Manis", "Palmeriam"]
    _select(at, "queue_table", 0)
    _press(at, "forward_go")
    assert _batch_state(b.batch_id) == "diteruskan"
    assert _batch_state(other) == "diajukan"
    assert "Pilih satu pengajuan pada tabel untuk meninjaunya." in [c.value for c in at.caption], \
        [h.value for h in at.subheader]
    assert "forward_go" not in _keys(at)


def test_filtering_the_items_does_not_move_the_selection_to_another_family(people, logged_in):
    """Guards the reviewer against returning the wrong family: after choosing the first family (a new one) and
    then filtering the table to "Prioritas program", the page must not present the prioritas family as chosen
    (its evidence open, "Terapkan" ready to return it)."""
    b = _submitted(people, kinds=("baru", "baru", "prioritas_program"))
    at = _camat_on_batch(logged_in, people, b)
    _select(at, f"items.{b.batch_id}", 0)
    assert "Bukti lapangan: WARGA 1-0" in [e.label for e in at.expander]
    at.multiselect(key=f"f.jenis.{b.batch_id}").set_value(["prioritas_program"]).run()
    assert not at.exception, at.exception
    assert "Bukti lapangan: WARGA 3-0" not in [e.label for e in at.expander]
    assert "**1 usulan dipilih**" not in _markdown(at)


# --- Pengesahan and Hasil pengesahan (kota) -----------------------------------------------------------------------

def test_walikota_ratifies_and_finalises_the_pengesahan(people, logged_in):
    """Guards the Walikota's path: the forwarded batch is listed for its period; "Sahkan" ratifies the batch and
    every forwarded item; then the pengesahan is finalised (only after the check box) and listed with its
    number and the ratified KK count."""
    b = _forwarded(people)
    at = _open(logged_in, people.walikota, PENGESAHAN)
    at.text_input(key="kota_period").input(PERIODE).run()
    assert not at.exception, at.exception
    [queue] = [d.value for d in at.dataframe if "Kecamatan" in d.value.columns]
    assert list(queue["Kelurahan"]) == ["Kayu Manis"]
    assert list(queue["Status"]) == ["Diteruskan ke Walikota/Bupati"]
    _select(at, "kota_queue", 0)
    assert "Kel. Kayu Manis · Diteruskan ke Walikota/Bupati" in [h.value for h in at.subheader]
    _press(at, "ratify_go")
    assert not _errors(at), _errors(at)
    assert _batch_state(b.batch_id) == "disahkan"
    assert {s for s, _, _ in _item_states(b.items).values()} == {"disahkan"}
    assert "ratify_go" not in _keys(at)

    assert at.button(key="peng_fin").disabled
    at.checkbox(key="peng_ok").check().run()
    _press(at, "peng_fin")
    assert not _errors(at), _errors(at)
    [(nomor, kode)] = _sql("SELECT nomor, verification_code FROM document "
                           "WHERE doc_type = 'pengesahan' AND status = 'final'")
    assert f"**Pengesahan** Nomor {nomor} · 3 KK · {sum(MEMBERS)} jiwa · kode `{kode}`" in _markdown(at)
    assert "peng_fin" not in _keys(at)


def test_hasil_pengesahan_counts_match_the_database(people, logged_in):
    """Guards the result page of Dinas Sosial: the KK and jiwa it reports for the period equal an independent
    count of the ratified items' families and members, with one item returned by the Walikota left out."""
    b = _forwarded(people)
    _act(people.walikota, b.batch_id, "sahkan", item_actions={b.items[0]: ("kembalikan", "Foto rumah belum ada")})
    at = _open(logged_in, people.dinsos, HASIL)
    at.text_input(key="result_period").input(PERIODE).run()
    assert not at.exception, at.exception
    [(kk, jiwa)] = _sql(
        "SELECT COUNT(DISTINCT p.no_kk), COUNT(DISTINCT m.nik) FROM proposal p "
        "JOIN batch b ON b.musyawarah_id = p.musyawarah_id JOIN proposalmember m ON m.proposal_id = p.id "
        "WHERE b.state = 'disahkan' AND b.periode = :periode AND p.status = 'disahkan'", periode=PERIODE)
    assert (kk, jiwa) == (2, MEMBERS[1] + MEMBERS[2])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Kelurahan disahkan"] == "1"
    assert metrics["KK disahkan"] == str(kk)
    assert metrics["Jiwa disahkan"] == str(jiwa)
    assert [d.proto.label for d in at.get("download_button")][-2:] == ["Unduh XLSX (format SIKS-NG)", "Unduh CSV"]


# --- Beranda of the Lurah -----------------------------------------------------------------------------------------

def test_lurah_home_shows_the_camats_return_reasons(people, logged_in):
    """Guards the Lurah's inbox: an item the Camat returned while forwarding the rest is announced on the home
    page with the Camat's reason (the KK masked)."""
    b = _submitted(people)
    _act(people.camat, b.batch_id, "teruskan", item_actions={b.items[1]: ("kembalikan", RETURN_REASON)})
    at = logged_in(people.lurah)
    assert [t.value for t in at.title] == ["Selamat datang, Lurah Satu"]
    kk = b.kks[1]
    notes = [w.value for w in at.warning if RETURN_REASON in w.value]
    assert len(notes) == 1, [w.value for w in at.warning]
    assert "WARGA 2-0" in notes[0] and "dikembalikan oleh Camat" in notes[0], notes
    assert kk not in notes[0] and kk[:4] in notes[0] and kk[-4:] in notes[0], notes  # masked KK


def test_lurah_home_shows_the_reason_of_a_whole_batch_return(people, logged_in):
    """Guards the inbox after "Kembalikan seluruh pengajuan": the home page says the period's batch came back
    from the Camat, with her reason, and links to Pengajuan."""
    b = _submitted(people)
    _act(people.camat, b.batch_id, "kembalikan", reason=RETURN_REASON)
    at = logged_in(people.lurah)
    assert f"Pengajuan {PERIODE} dikembalikan Camat: {RETURN_REASON}" in [e.value for e in at.error]
    assert "Buka Pengajuan" in screen_text(at)
