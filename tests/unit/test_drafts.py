"""Drafts of unsaved form input (core.drafts): what is collected, and per-user save/load/discard on both backends.

A user notices: after a refresh or a timeout the form comes back as typed (dates included), only for him, and
a discarded draft stays gone.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from core import drafts
from core.access import Actor, Role

OPERATOR = Actor(username="operator.kayumanis", nama="Sari", role=Role.OPERATOR, wilayah_kode="31.75.01.1003")
LURAH = Actor(username="lurah.kayumanis", nama="Hendra", role=Role.LURAH, wilayah_kode="31.75.01.1003")


def test_collect_keeps_only_draftable_keys_grouped_by_form():
    """Guards the key convention: only ``f.<form>.<field>`` is kept, grouped by form; other widgets never are."""
    values = {
        "f.akun.nama": "Sari Wulandari",
        "f.akun.telepon": "0812 3456 7890",
        "f.kantor.alamat": "Jl. Kayu Manis VIII No. 1",
        "f.kantor.tags": ["a", "b"],
        "login.password": "rahasia-sekali",
        "f.akun": "no field part",
        "f..nama": "no form part",
        "akun.nama": "no prefix",
        "FormSubmitter:akun": True,
    }
    forms = drafts.collect(values)
    assert forms == {
        "akun": {"f.akun.nama": "Sari Wulandari", "f.akun.telepon": "0812 3456 7890"},
        "kantor": {"f.kantor.alamat": "Jl. Kayu Manis VIII No. 1", "f.kantor.tags": ["a", "b"]},
    }


def test_collect_skips_values_that_are_not_json():
    """Guards against a file upload or other object breaking the autosave: such values are skipped."""
    forms = drafts.collect({
        "f.kunjungan.catatan": "Rumah semi permanen",
        "f.kunjungan.foto": object(),
        "f.kunjungan.bytes": b"\x89PNG",
        "f.kunjungan.nested": {"a": 1},
        "f.kunjungan.jumlah": 4,
        "f.kunjungan.kosong": None,
    })
    assert forms == {"kunjungan": {"f.kunjungan.catatan": "Rumah semi permanen", "f.kunjungan.jumlah": 4,
                                   "f.kunjungan.kosong": None}}


def test_dates_round_trip_through_save_and_load(scope):
    """Guards date inputs: a date comes back as a date and a datetime as the same datetime, not as text."""
    visited = date(2026, 11, 28)
    stamp = datetime(2026, 11, 28, 8, 45, tzinfo=timezone.utc)
    forms = drafts.collect({"f.kunjungan.tanggal": visited, "f.kunjungan.waktu": stamp,
                            "f.kunjungan.catatan": "Ada lansia"})
    with scope() as session:
        drafts.save("kunjungan", forms["kunjungan"], actor=OPERATOR, session=session)
    with scope() as session:
        loaded = drafts.load("kunjungan", actor=OPERATOR, session=session)
    assert loaded["values"] == {"f.kunjungan.tanggal": visited, "f.kunjungan.waktu": stamp,
                                "f.kunjungan.catatan": "Ada lansia"}
    assert type(loaded["values"]["f.kunjungan.tanggal"]) is date
    assert loaded["reason"] == "autosave"
    assert loaded["updated_at"] is not None


def test_save_load_overwrite_and_discard_per_form(scope):
    """Guards the draft life cycle: a later save replaces the earlier one; discard removes only that form."""
    with scope() as session:
        drafts.save("akun", {"f.akun.nama": "Sari"}, actor=OPERATOR, session=session)
        drafts.save("kantor", {"f.kantor.alamat": "Jl. Matraman"}, actor=OPERATOR, session=session)
    with scope() as session:
        drafts.save("akun", {"f.akun.nama": "Sari Wulandari"}, actor=OPERATOR, session=session, reason="timeout")
    with scope() as session:
        loaded = drafts.load("akun", actor=OPERATOR, session=session)
        assert sorted(drafts.pending_forms(actor=OPERATOR, session=session)) == ["akun", "kantor"]
    assert loaded["values"] == {"f.akun.nama": "Sari Wulandari"}
    assert loaded["reason"] == "timeout"

    with scope() as session:
        drafts.discard("akun", actor=OPERATOR, session=session)
    with scope() as session:
        assert drafts.load("akun", actor=OPERATOR, session=session) is None
        assert drafts.load("kantor", actor=OPERATOR, session=session)["values"] == {"f.kantor.alamat": "Jl. Matraman"}
        assert drafts.pending_forms(actor=OPERATOR, session=session) == ["kantor"]
        drafts.discard("akun", actor=OPERATOR, session=session)  # discarding twice is harmless


def test_other_users_draft_is_not_visible(scope):
    """Guards privacy of drafts: another user never sees, nor discards, someone else's unsaved input."""
    with scope() as session:
        drafts.save("akun", {"f.akun.nama": "Sari"}, actor=OPERATOR, session=session)
    with scope() as session:
        assert drafts.load("akun", actor=LURAH, session=session) is None
        assert drafts.pending_forms(actor=LURAH, session=session) == []
        drafts.discard("akun", actor=LURAH, session=session)
        drafts.save("akun", {"f.akun.nama": "Hendra"}, actor=LURAH, session=session)
    with scope() as session:
        assert drafts.load("akun", actor=OPERATOR, session=session)["values"] == {"f.akun.nama": "Sari"}
        assert drafts.load("akun", actor=LURAH, session=session)["values"] == {"f.akun.nama": "Hendra"}
