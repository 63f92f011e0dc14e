"""NIR parsing and identity checks, with property tests."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from objection.identity import NirError, age_band, check_identity, key_of, normalise, parse_nir
from objection.keys import Keyring, Sealer, check_config, parse_keys

TODAY = date(2026, 11, 24)

bodies = st.builds(
    lambda sex, yy, mm, dept, rest: f"{sex}{yy:02d}{mm:02d}{dept}{rest:06d}",
    st.sampled_from("123478"), st.integers(0, 99),
    st.one_of(st.integers(1, 12), st.integers(20, 42), st.integers(50, 99)),
    st.one_of(st.integers(1, 95).map(lambda d: f"{d:02d}"), st.sampled_from(["2A", "2B"])),
    st.integers(0, 999_999),
)


@given(bodies)
def test_every_well_formed_nir_with_its_key_parses(body):
    nir = f"{body}{key_of(body):02d}"
    assert parse_nir(nir).value == nir


@given(bodies, st.sampled_from([" ", ".", "-", "  "]))
def test_separators_are_accepted(body, separator):
    nir = f"{body}{key_of(body):02d}"
    spaced = separator.join([nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13],
                             nir[13:]])
    assert parse_nir(spaced.lower()).value == nir


@given(bodies, st.integers(1, 96))
def test_a_wrong_key_is_always_caught(body, shift):
    key = (key_of(body) + shift - 1) % 97 + 1
    if key == key_of(body):
        return
    with pytest.raises(NirError) as error:
        parse_nir(f"{body}{key:02d}")
    assert error.value.code == "key"


@given(bodies, st.integers(0, 12), st.sampled_from("0123456789"))
def test_a_single_changed_digit_is_caught(body, position, digit):
    nir = f"{body}{key_of(body):02d}"
    if nir[position] == digit or not nir[position].isdigit():
        return
    changed = nir[:position] + digit + nir[position + 1:]
    with pytest.raises(NirError):
        parse_nir(changed)


@given(st.text(max_size=40))
def test_garbage_never_crashes(text):
    try:
        parse_nir(text)
    except NirError as error:
        assert error.code in {"missing", "length", "format", "key", "month_code"}


def test_corsica_keys():
    assert parse_nir("1 85 05 2A 004 123 " + f"{key_of('185052A004123'):02d}").value.startswith(
        "185052A")
    assert key_of("185052B004123") == 97 - int("1850518004123") % 97


@pytest.mark.parametrize(("raw", "code"), [("", "missing"), ("12345", "length"),
                                           ("585037505612312", "format"),
                                           ("985037505612312", "format"),
                                           ("2850375056123" + "00", "key")])
def test_each_failure_has_its_code_and_french_message(raw, code):
    with pytest.raises(NirError) as error:
        parse_nir(raw)
    assert error.value.code == code
    assert error.value.message  # a French sentence


def _nir(sex="2", yy="85", mm="03"):
    body = f"{sex}{yy}{mm}75056123"
    return parse_nir(f"{body}{key_of(body):02d}")


def test_identity_checks():
    assert check_identity(_nir(), date(1985, 3, 14), "F", TODAY) == []
    assert check_identity(_nir(), date(1985, 3, 14), "M", TODAY) == ["sex"]
    assert check_identity(_nir(), date(1986, 3, 14), "F", TODAY) == ["year"]
    assert check_identity(_nir(), date(1985, 4, 14), "F", TODAY) == ["month"]
    assert "future" in check_identity(_nir(yy="27"), date(2027, 3, 1), "F", TODAY)
    assert "too_old" in check_identity(_nir(yy="85"), date(1885, 3, 1), "F", TODAY)


@pytest.mark.parametrize("month_code", ["20", "35", "42", "50", "99"])
def test_unknown_month_codes_accept_any_month(month_code):
    assert check_identity(_nir(mm=month_code), date(1985, 11, 2), "F", TODAY) == []


@pytest.mark.parametrize(("digit", "sex"), [("1", "M"), ("3", "M"), ("7", "M"), ("2", "F"),
                                            ("4", "F"), ("8", "F")])
def test_temporary_and_foreign_born_numbers(digit, sex):
    assert check_identity(_nir(sex=digit), date(1985, 3, 1), sex, TODAY) == []


@given(st.dates(min_value=date(1897, 1, 1), max_value=TODAY))
def test_age_band_is_coarse(birth):
    assert age_band(birth, TODAY) in {"0-17", "18-29", "30-44", "45-59", "60-74", "75+"}


def test_normalise():
    assert normalise(" 2 85-03.75 ") == "2850375"


def test_pseudonyms_are_keyed_and_rotate():
    old = Keyring(tuple(parse_keys("k1:" + "A" * 43 + "=")))
    rotated = Keyring(tuple(parse_keys("k2:" + "B" * 43 + "=,k1:" + "A" * 43 + "=")))
    key_id, digest = old.pseudonymise("285037505612345")
    assert key_id == "k1" and len(digest) == 64 and "285037505612345" not in digest
    assert rotated.pseudonymise("285037505612345")[0] == "k2"
    assert ("k1", digest) in rotated.candidates("285037505612345")


def test_sealing_round_trip_and_tamper_detection():
    sealer = Sealer(parse_keys("s1:" + "C" * 43 + "="))
    sealed = sealer.seal_text("Zorglubienne", "identity")
    assert b"Zorglubienne" not in sealed
    assert sealer.open_text(sealed, "identity") == "Zorglubienne"
    with pytest.raises(Exception):  # noqa: B017 - any authentication failure
        sealer.open_text(sealed[:-1] + bytes([sealed[-1] ^ 1]), "identity")


@pytest.mark.parametrize(("settings", "problem"), [
    ({"PSEUDONYM_KEYS": "garbage"}, "PSEUDONYM_KEYS: each key is written id:base64key"),
    ({"PSEUDONYM_KEYS": "k1:not*base64"}, "PSEUDONYM_KEYS: key 'k1' is not base64"),
    ({"PSEUDONYM_KEYS": "k1:QUFB"}, "PSEUDONYM_KEYS: key 'k1' must be at least 32 bytes"),
    ({"PSEUDONYM_KEYS": f"k1:{'A' * 43}=,k1:{'B' * 43}="},
     "PSEUDONYM_KEYS: each key id must appear once"),
    ({"IDENTITY_ENCRYPTION_KEYS": " , "}, "IDENTITY_ENCRYPTION_KEYS: no key configured"),
])
def test_key_settings_are_checked_before_start_up(settings, problem):
    good = {"PSEUDONYM_KEYS": f"k1:{'A' * 43}=", "IDENTITY_ENCRYPTION_KEYS": f"s1:{'C' * 43}="}
    assert check_config(good) == []
    assert check_config(good | settings) == [problem]


@pytest.mark.parametrize("month_code", ["00", "13", "19", "43", "49"])
def test_month_codes_never_issued_are_refused_with_their_own_message(month_code):
    body = f"285{month_code}75056123"
    with pytest.raises(NirError) as error:
        parse_nir(f"{body}{key_of(body):02d}")
    assert error.value.code == "month_code"
    assert month_code in error.value.message


@pytest.mark.parametrize("dash", ["\u2010", "\u2011", "\u2013", "\u2014", "\u2212", "\u00a0"])
def test_dashes_and_spaces_pasted_from_documents_are_accepted(dash):
    nir = _nir().value
    assert parse_nir(dash.join([nir[:1], nir[1:3], nir[3:5], nir[5:13], nir[13:]])).value == nir


people = st.tuples(st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
                   st.sampled_from(["F", "M"]), st.sampled_from(["", "temporary"]))


def _nir_of(birth: date, sex: str, kind: str):
    digit = {("F", ""): "2", ("M", ""): "1", ("F", "temporary"): "8",
             ("M", "temporary"): "7"}[(sex, kind)]
    body = f"{digit}{birth.year % 100:02d}{birth.month:02d}75056123"
    return parse_nir(f"{body}{key_of(body):02d}")


@given(people)
def test_a_number_that_matches_the_person_passes(person):
    birth, sex, kind = person
    assert check_identity(_nir_of(birth, sex, kind), birth, sex, TODAY) == []


@given(people, st.integers(1, 11))
def test_each_disagreement_is_reported_alone(person, months_later):
    birth, sex, kind = person
    nir = _nir_of(birth, sex, kind)
    other_sex = "M" if sex == "F" else "F"
    assert check_identity(nir, birth, other_sex, TODAY) == ["sex"]
    other_month = (birth.month + months_later - 1) % 12 + 1
    moved = birth.replace(month=other_month, day=min(birth.day, 28))
    if moved <= TODAY:
        assert check_identity(nir, moved, sex, TODAY) == ["month"]
    other_year = birth.replace(year=birth.year - 1, day=min(birth.day, 28))
    assert check_identity(nir, other_year, sex, TODAY) == ["year"]


@pytest.mark.parametrize("separator", [" ", ".", "-", "/", "_", "\u00a0", "\u2010", "\u2011",
                                       "\u2013", "\u2014", "\u2212", "\ufe63", "\uff0d"])
def test_every_separator_the_form_accepts_is_masked_in_logs(separator):
    from core.logs import mask_identifiers

    nir = _nir().value
    typed = separator.join([nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13],
                            nir[13:]])
    assert parse_nir(typed).value == nir  # the form takes it…
    assert mask_identifiers(f"saisi : {typed}.") == "saisi : [masqué]."  # …the logs hide it
