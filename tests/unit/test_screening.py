"""Pre-screening primitives (core.screening): the column-wise NIK/KK checks against python-stdnum, masking,
the century of a NIK's birth date, and the table of flag codes and severities from the specification.

No database: these are pure functions. The property tests hold ``nik_valid`` to the oracle
``stdnum.id.nik.is_valid`` on NIKs built on the national structure (valid and invalid parts alike) and on
mutations of valid NIKs.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.id import nik as stdnum_nik

from core import screening
from core.access import Role
from core.screening import BLOCKING, RULES, WARNING, birth_date_with_century, kk_valid, mask_nik, nik_valid

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fast(values: list[str]) -> list[bool]:
    return [bool(v) for v in nik_valid(pd.Series(values, dtype=object)).tolist()]


def _oracle(values: list[str]) -> list[bool]:
    return [bool(stdnum_nik.is_valid(v)) for v in values]


# --- generated NIKs ---------------------------------------------------------------------------------------

structured_nik = st.builds(
    lambda prov, rest, day, month, yy, serial: f"{prov:02d}{rest:04d}{day:02d}{month:02d}{yy:02d}{serial:04d}",
    st.integers(0, 99),  # province, including codes that do not exist
    st.integers(0, 9999),  # kota/kabupaten + kecamatan
    st.integers(0, 99),  # day (women +40; 00, 32-40, 72-80 impossible, 81-99 wraps)
    st.integers(0, 19),  # month, including 00 and 13-19
    st.integers(0, 99),  # two-digit year
    st.integers(0, 9999),  # serial
)


def _valid_nik(prov: str, rest: int, born: date, female: bool, serial: int) -> str:
    day = born.day + (40 if female else 0)
    return f"{prov}{rest:04d}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


valid_nik = st.builds(
    _valid_nik,
    st.sampled_from(["31", "32", "33", "35", "36", "51", "73", "94"]),
    st.integers(0, 9999),
    st.dates(min_value=date(1920, 1, 1), max_value=date(2026, 12, 31)),
    st.booleans(),
    st.integers(0, 9999),
)

ASCII_EXTRA = st.sampled_from(list("abcxyzABXE+,;/'*#_ 0123456789-."))


@st.composite
def mutated_nik(draw) -> str:
    """A valid NIK damaged as spreadsheets and typists damage them (ASCII only)."""
    value = draw(valid_nik)
    kind = draw(st.sampled_from(["digit", "truncate", "extra", "separators", "swap", "insert_digit"]))
    if kind == "digit":
        i = draw(st.integers(0, 15))
        value = value[:i] + draw(st.sampled_from("0123456789")) + value[i + 1:]
    elif kind == "truncate":
        value = value[:draw(st.integers(0, 15))]
    elif kind == "extra":
        i = draw(st.integers(0, 16))
        value = value[:i] + draw(st.text(ASCII_EXTRA, min_size=1, max_size=3)) + value[i:]
    elif kind == "separators":
        out = []
        for ch in value:
            out.append(ch)
            if draw(st.integers(0, 3)) == 0:
                out.append(draw(st.sampled_from([" ", "-", ".", "  ", " - "])))
        if draw(st.booleans()):
            out.insert(0, " ")
        value = "".join(out)
    elif kind == "swap":
        i = draw(st.integers(0, 14))
        value = value[:i] + value[i + 1] + value[i] + value[i + 2:]
    else:
        i = draw(st.integers(0, 16))
        value = value[:i] + draw(st.sampled_from("0123456789")) + value[i:]
    return value


@PROPERTY
@given(st.lists(structured_nik, min_size=1, max_size=40))
def test_nik_valid_agrees_with_stdnum_on_structured_niks(values):
    """Guards the column-wise NIK check against drifting from python-stdnum's verdict (date, province)."""
    assert _fast(values) == _oracle(values)


@PROPERTY
@given(st.lists(st.one_of(mutated_nik(), valid_nik), min_size=1, max_size=40))
def test_nik_valid_agrees_with_stdnum_on_mutated_niks(values):
    """Guards the check on damaged input: changed digits, truncation, extra characters, spaces/dashes/dots."""
    assert _fast(values) == _oracle(values)


@pytest.mark.parametrize("value", [
    "3175014507150012",  # woman born 05/07/2015
    "3175010107150012",  # man born 01/07/2015
    "3175012902000012",  # 29/02/2000: leap year
    "3175012902960012",  # 29/02/1996
    "3175019902150012",  # day 99 wraps to 19 (stdnum takes day % 40)
    "3175 0145 0715 0012", "3175-0145-0715-0012", "31.75.01.450715.0012",
])
def test_nik_valid_accepts_what_stdnum_accepts(value):
    """Guards concrete edge cases (children born after 2000, leap days, separators) against false nik_invalid."""
    assert stdnum_nik.is_valid(value)
    assert _fast([value]) == [True]


@pytest.mark.parametrize("value", [
    "3175012902010012",  # 29/02/2001 and 1901: no such day
    "3175013102150012",  # 31/02
    "3175010013150012",  # month 13
    "3175010000150012",  # day 00
    "3175018002150012",  # day 80 → 0
    "0075010107150012",  # province 00
    "317501010715001",  # 15 digits
    "31750101071500123",  # 17 digits
    "3175010107150O12",  # letter O
    "3.17501E+15",  # Excel float
    "",
])
def test_nik_valid_rejects_what_stdnum_rejects(value):
    """Guards concrete invalid NIKs (impossible dates, unknown province, wrong length) against slipping through."""
    assert not stdnum_nik.is_valid(value)
    assert _fast([value]) == [False]


def test_nik_valid_keeps_the_index_and_handles_missing_values():
    """Guards the column-wise API: result aligned to the input index; NaN/None are invalid, not a crash."""
    series = pd.Series(["3175014507150012", None, float("nan"), "x"], index=[10, 20, 30, 40], dtype=object)
    result = nik_valid(series)
    assert list(result.index) == [10, 20, 30, 40]
    assert result.tolist() == [True, False, False, False]


@pytest.mark.parametrize("value", [
    "3175\u00a0014507150012",  # no-break space (copied from a web page or PDF)
    "3175\u2013014507150012",  # en dash
    "3175\u00b7014507150012",  # middle dot
    "\t3175014507150012",
    "3175014507150012\n",
])
def test_nik_valid_agrees_with_stdnum_on_unicode_separators(value):
    """Guards against refusing (nik_invalid, blocking) a NIK that stdnum accepts after compacting separators."""
    assert stdnum_nik.is_valid(value)
    assert _fast([value]) == [True]


@pytest.mark.parametrize("value", ["317501450715001\u0663", "3175014507150\u0660\u0661\u0662"])
def test_nik_valid_rejects_non_ascii_digits(value):
    """Guards against storing NIKs made of non-ASCII digits that stdnum (and Dukcapil) reject."""
    assert not stdnum_nik.is_valid(value)
    assert _fast([value]) == [False]


# --- No KK ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("3175012345670012", True),
    ("3275010101200001", True),  # Jawa Barat: valid KK, only a non_dki warning elsewhere
    ("3175-0123-4567-0012", True),  # separators are compacted
    ("0075012345670012", False),  # province 00 does not exist
    ("9975012345670012", False),  # province 99 does not exist
    ("317501234567001", False),  # 15 digits
    ("31750123456700123", False),  # 17 digits
    ("3.17501E+15", False),
    ("KK3175012345670", False),
    ("", False),
])
def test_kk_valid(value, expected):
    """Guards kk_invalid: a No KK is 16 digits whose province code exists."""
    assert bool(kk_valid(pd.Series([value]))[0]) is expected


@PROPERTY
@given(st.text(st.sampled_from(list("0123456789 -.ab")), max_size=20))
def test_kk_valid_is_sixteen_digits_with_known_province(value):
    """Guards kk_valid against accepting anything but 16 digits with a real province (after compacting)."""
    digits = value.replace(" ", "").replace("-", "").replace(".", "")
    expected = len(digits) == 16 and digits.isdigit() and digits[:2] in screening.province_codes()
    assert bool(kk_valid(pd.Series([value]))[0]) is expected


# --- masking and birth date -------------------------------------------------------------------------------


def test_mask_nik():
    """Guards result lists from showing a full NIK: the first 4 and last 4 digits only."""
    assert mask_nik("3175012345670012") == "3175••••••••0012"
    assert "12345670" not in mask_nik("3175012345670012")


def test_mask_nik_never_returns_a_short_number_in_clear():
    """Guards masking of malformed numbers: nothing of a non-16-digit value is shown."""
    assert mask_nik("31750123") == "••••••••"
    assert not any(ch.isdigit() for ch in mask_nik("317501234567001"))


@pytest.mark.parametrize("nik, recorded, expected", [
    ("3175010107150012", date(2015, 7, 1), date(2015, 7, 1)),  # a child born 2015, not 1915
    ("3175014107150012", date(2015, 7, 1), date(2015, 7, 1)),  # a girl: day + 40
    ("3175010107150012", date(1915, 7, 1), date(1915, 7, 1)),  # a centenarian really born 1915
    ("3175010203010012", date(2001, 3, 2), date(2001, 3, 2)),
    ("3175011208500012", date(1950, 8, 12), date(1950, 8, 12)),
    ("3175011208500012", None, date(1950, 8, 12)),  # 2050 is in the future: 1950
    ("3175010107150012", None, date(2015, 7, 1)),  # no recorded date: the recent century
])
def test_birth_date_with_century(nik, recorded, expected):
    """Guards the century of a NIK's birth date: taken from the recorded date, not stdnum's 19yy guess."""
    assert birth_date_with_century(nik, recorded) == expected


def test_stdnum_alone_would_put_a_2015_child_in_1915():
    """Guards the reason birth_date_with_century exists: stdnum's own guess is a century off."""
    assert stdnum_nik.get_birth_date("3175010107150012").year == 1915
    assert birth_date_with_century("3175010107150012", date(2015, 7, 1)).year == 2015


def test_birth_date_with_century_rejects_malformed():
    """Guards against a crash or a made-up date for a malformed NIK or impossible date."""
    assert birth_date_with_century("3.17501E+15", None) is None
    assert birth_date_with_century("3175013102150012", date(2015, 2, 28)) is None


# --- the flag table ---------------------------------------------------------------------------------------

SPEC_TABLE = {
    "nik_invalid": BLOCKING, "nik_excel_float": BLOCKING, "kk_invalid": BLOCKING, "nik_in_two_kk": BLOCKING,
    "desil_conflict": BLOCKING, "kecamatan_unknown": WARNING, "non_dki": WARNING, "age_implausible": WARNING,
    "dup_other_kelurahan": WARNING, "exclusion_hint": WARNING,
}


@pytest.mark.parametrize("code, severity", sorted(SPEC_TABLE.items()))
def test_rule_table_matches_the_specification(code, severity):
    """Guards the stable codes and severities of the issue's flag table."""
    assert code in RULES
    rule = RULES[code]
    assert rule.code == code
    assert rule.severity == severity
    assert rule.title and rule.resolution  # Indonesian text for people


def test_only_the_lurah_may_waive_nik_in_two_kk():
    """Guards the waiver rule: nik_in_two_kk is waivable by the Lurah (with a reason), not by the operator."""
    rule = RULES["nik_in_two_kk"]
    assert Role.LURAH in rule.waivable_by
    assert Role.OPERATOR not in rule.waivable_by
    for code in ("nik_invalid", "nik_excel_float", "kk_invalid", "desil_conflict"):
        assert not RULES[code].waivable_by, code


def test_dup_other_kelurahan_needs_a_note_from_kelurahan_staff():
    """Guards 'warning that needs a note': operator/Lurah close dup_other_kelurahan with a note."""
    assert {Role.OPERATOR, Role.LURAH} <= RULES["dup_other_kelurahan"].note_by
