"""The access matrix: every role × every action × (own wilayah, a neighbour, another kota), as designed.

The expected table below is written out by hand from the design, on purpose: it must not be derived from
``core.access.ROLE_ACTIONS``, so that a slip in the code (an action given to the wrong role, the admin seeing
families, a scope check by plain string prefix) shows up here as a failing cell. No database is needed.
"""

from __future__ import annotations

import csv

import pytest
import sqlalchemy as sa

from core.access import Action, Actor, Role, in_scope, may, require, role_label, scope_filter
from core.config import REFERENCE_DIR
from core.errors import AccessDenied

# --- the design, as literal data --------------------------------------------------------------------------

ALL_ACTIONS = (
    "wilayah.view", "account.manage", "office.manage", "audit.view", "family.view", "register.import",
    "meeting.record", "meeting.close", "verification.assign", "verification.record", "flag.waive",
    "document.draft", "document.finalise", "batch.submit", "batch.review", "batch.ratify", "result.export",
    "kota.settings",
)

_OPERATOR = {
    "wilayah.view", "family.view", "register.import", "meeting.record", "verification.assign",
    "verification.record", "document.draft",
}

EXPECTED: dict[str, set[str]] = {
    "operator": set(_OPERATOR),
    "lurah": _OPERATOR | {"meeting.close", "flag.waive", "document.finalise", "batch.submit"},
    "petugas": {"wilayah.view", "family.view", "verification.record"},
    "camat": {"wilayah.view", "family.view", "batch.review", "document.draft", "document.finalise"},
    "walikota": {"wilayah.view", "family.view", "batch.ratify", "document.draft", "document.finalise", "kota.settings",
                 "result.export"},
    "dinsos": {"wilayah.view", "family.view", "result.export"},
    "auditor": {"wilayah.view", "family.view", "audit.view"},
    "admin": {"wilayah.view", "account.manage", "office.manage"},
}

# Where each role sits, and the wilayah each test context points at.
#   own        : the actor's own wilayah
#   neighbour  : another wilayah of the same level next door
#   other_kota : a kelurahan in another kota (Jakarta Pusat)
KAYU_MANIS = "31.75.01.1003"  # kelurahan Kayu Manis, kecamatan Matraman, Kota Jakarta Timur
PLACEMENT: dict[str, dict[str, str]] = {
    "operator": {"own": KAYU_MANIS, "neighbour": "31.75.01.1004", "other_kota": "31.71.01.1001"},
    "lurah": {"own": KAYU_MANIS, "neighbour": "31.75.01.1004", "other_kota": "31.71.01.1001"},
    "petugas": {"own": KAYU_MANIS, "neighbour": "31.75.01.1004", "other_kota": "31.71.01.1001"},
    "camat": {"own": "31.75.01", "neighbour": "31.75.02", "other_kota": "31.71.01.1001"},
    "walikota": {"own": "31.75", "neighbour": "31.74", "other_kota": "31.71.01.1001"},
    "dinsos": {"own": "31.75", "neighbour": "31.74", "other_kota": "31.71.01.1001"},
    "auditor": {"own": "31.75", "neighbour": "31.74", "other_kota": "31.71.01.1001"},
    # The admin's own wilayah is the province: all of Jakarta is "own". There is no neighbouring province in
    # the reference data, so the "neighbour" is Jawa Barat (32), outside Jakarta, which must be denied;
    # "deep" is a kelurahan far beneath the province, and another kota is still inside the province.
    "admin": {"own": "31", "deep": KAYU_MANIS, "neighbour": "32", "other_kota": "31.71.01.1001"},
}


def _expected_allowed(role: str, action: str, where: str) -> bool:
    if action not in EXPECTED[role]:
        return False
    if role == "admin":
        return where in ("own", "deep", "other_kota")
    return where == "own"


def _actor(role: str) -> Actor:
    return Actor(username=f"{role}.uji", nama=f"Uji {role}", role=Role(role), wilayah_kode=PLACEMENT[role]["own"])


CELLS = [
    pytest.param(role, action, where, id=f"{role}-{action}-{where}")
    for role in EXPECTED
    for action in ALL_ACTIONS
    for where in PLACEMENT[role]
]


# --- the matrix -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role,action,where", CELLS)
def test_access_cell(role, action, where):
    """Guards every single permission: a role gaining or losing an action, or reaching outside its wilayah."""
    actor = _actor(role)
    kode = PLACEMENT[role][where]
    expected = _expected_allowed(role, action, where)
    assert may(actor, Action(action), kode) is expected, (
        f"{role} di {actor.wilayah_kode}: {action} pada {kode} seharusnya {'boleh' if expected else 'ditolak'}")
    if expected:
        assert require(actor, Action(action), kode) is None
    else:
        with pytest.raises(AccessDenied) as info:
            require(actor, Action(action), kode)
        assert info.value.exit_code == 3
        assert info.value.code == "access_denied"
        assert "tidak berwenang" in info.value.message


def test_matrix_covers_every_action_and_role():
    """Guards against an action or role being added to the code without anyone deciding who may use it."""
    assert {a.value for a in Action} == set(ALL_ACTIONS)
    assert {r.value for r in Role} == set(EXPECTED)
    for role, actions in EXPECTED.items():
        assert actions <= set(ALL_ACTIONS), role


def test_admin_never_sees_family_data_anywhere():
    """Guards the privacy rule: the administrator manages accounts but never reads families' personal data."""
    admin = _actor("admin")
    for kode in ("31", "31.75", "31.75.01", KAYU_MANIS, "31.01.01.1001"):
        assert not may(admin, Action.FAMILY_VIEW, kode)
        with pytest.raises(AccessDenied, match="Administrator tidak berwenang melihat data keluarga"):
            require(admin, Action.FAMILY_VIEW, kode)


# --- children and scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kode,expected", [
    pytest.param(KAYU_MANIS, True, id="kelurahan-of-own-kecamatan"),
    pytest.param("31.75.01.1001", True, id="another-kelurahan-of-own-kecamatan"),
    pytest.param("31.75.02.1001", False, id="kelurahan-of-neighbouring-kecamatan"),
    pytest.param("31.71.01.1001", False, id="kelurahan-in-another-kota"),
    pytest.param("31.75", False, id="own-kota-above"),
    pytest.param("31", False, id="province-above"),
])
def test_camat_acts_on_kelurahan_of_his_kecamatan_only(kode, expected):
    """Guards the camat's reach: his kecamatan's kelurahan, never the neighbour's nor the level above."""
    camat = _actor("camat")
    assert may(camat, Action.BATCH_REVIEW, kode) is expected
    assert may(camat, Action.FAMILY_VIEW, kode) is expected


@pytest.mark.parametrize("kode,expected", [
    pytest.param("31.75.01", True, id="kecamatan-in-own-kota"),
    pytest.param(KAYU_MANIS, True, id="kelurahan-in-own-kota"),
    pytest.param("31.74.01.1001", False, id="kelurahan-in-neighbouring-kota"),
])
def test_walikota_reaches_down_to_kelurahan_of_his_kota(kode, expected):
    """Guards the walikota's reach: everything beneath his kota and nothing of the next kota."""
    assert may(_actor("walikota"), Action.BATCH_RATIFY, kode) is expected


@pytest.mark.parametrize("scope,kode,expected", [
    pytest.param("31.75.01", "31.75.01", True, id="itself"),
    pytest.param("31.75.01", "31.75.01.1003", True, id="child"),
    pytest.param("31.75.01", "31.75.010", False, id="longer-sibling-code"),
    pytest.param("31.75.01", "31.75.011.1001", False, id="child-of-longer-sibling"),
    pytest.param("31.75.01", "31.75.0", False, id="shorter-code"),
    pytest.param("31.75.01", "31.75", False, id="parent"),
    pytest.param("31.7", "31.75", False, id="partial-segment"),
    pytest.param("31.75", "31.750.01", False, id="kota-vs-longer-kota"),
    pytest.param("3", "31", False, id="digit-prefix"),
    pytest.param("31", "31.01.01.1001", True, id="province-includes-kabupaten"),
])
def test_scope_uses_dotted_prefixes(scope, kode, expected):
    """Guards against plain string-prefix scope checks that would let 31.75.01 reach 31.75.010…"""
    assert in_scope(scope, kode) is expected
    actor = Actor(username="x", nama="x", role=Role.CAMAT, wilayah_kode=scope)
    assert may(actor, Action.WILAYAH_VIEW, kode) is expected


def test_scope_filter_sql_matches_in_scope():
    """Guards the SQL form of the scope rule: lists must not show rows that in_scope would refuse."""
    codes = ["31", "31.75", "31.75.0", "31.75.01", "31.75.01.1003", "31.75.010", "31.75.011.1001",
             "31.75.02.1001", "31.750.01"]
    meta = sa.MetaData()
    table = sa.Table("kode_uji", meta, sa.Column("kode", sa.String, primary_key=True))
    engine = sa.create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            meta.create_all(conn)
            conn.execute(table.insert(), [{"kode": c} for c in codes])
            for scope in ("31.75.01", "31.75", "31"):
                got = set(conn.execute(sa.select(table.c.kode).where(scope_filter(table.c.kode, scope))).scalars())
                assert got == {c for c in codes if in_scope(scope, c)}, scope
            got = set(conn.execute(sa.select(table.c.kode).where(scope_filter(table.c.kode, "31.75.01"))).scalars())
            assert got == {"31.75.01", "31.75.01.1003"}
    finally:
        engine.dispose()


# --- messages ---------------------------------------------------------------------------------------------


def test_require_explains_a_missing_role_permission_in_indonesian():
    """Guards the message a user reads when their role may not do something at all."""
    with pytest.raises(AccessDenied) as info:
        require(_actor("operator"), Action.BATCH_RATIFY, KAYU_MANIS)
    assert info.value.exit_code == 3
    assert info.value.message == "Peran Operator Kelurahan tidak berwenang mengesahkan usulan."


def test_require_explains_an_out_of_scope_request_in_indonesian():
    """Guards the message a user reads when the action is theirs but the wilayah is not."""
    with pytest.raises(AccessDenied) as info:
        require(_actor("lurah"), Action.FAMILY_VIEW, "31.75.01.1004")
    assert info.value.exit_code == 3
    assert "di luar wilayah Anda" in info.value.message
    assert KAYU_MANIS in info.value.message
    assert "melihat data keluarga" in info.value.message


# --- labels -----------------------------------------------------------------------------------------------


def _tingkat(kode: str) -> str:
    with open(REFERENCE_DIR / "wilayah_dki_jakarta.csv", newline="", encoding="utf-8") as fh:
        return next(row["tingkat"] for row in csv.DictReader(fh) if row["kode"] == kode)


@pytest.mark.parametrize("role,kode,label", [
    pytest.param("walikota", "31.01", "Bupati", id="walikota-kepulauan-seribu-is-bupati"),
    pytest.param("walikota", "31.75", "Walikota", id="walikota-jakarta-timur"),
    pytest.param("walikota", "31.71", "Walikota", id="walikota-jakarta-pusat"),
    pytest.param("dinsos", "31.01", "Dinas Sosial", id="dinsos-kabupaten-unchanged"),
    pytest.param("camat", "31.01.01", "Camat", id="camat-in-kabupaten-unchanged"),
])
def test_role_label_follows_kota_or_kabupaten(role, kode, label):
    """Guards Kepulauan Seribu: its head is a Bupati, every other kota has a Walikota."""
    assert role_label(role, _tingkat(kode)) == label
