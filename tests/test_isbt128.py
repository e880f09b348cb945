"""Tests for carnk_mfg.isbt128: plain functions, no database or Django settings needed."""

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnk_mfg import isbt128
from carnk_mfg.isbt128 import (
    CHECK_ALPHABET,
    DIN,
    FACILITY_FIRST_CHARACTERS,
    DINError,
    check_character,
    check_value,
    computed_check_flags,
    parse_barcode,
    parse_din,
    validate_din,
    verify_check_character,
)

EXAMPLE = "G123498654321"
EXAMPLE_CHECK = "H"  # value 17
EXAMPLE_FLAGS = "77"  # 60 + 17


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=string.digits, min_size=n, max_size=n)


dins = st.builds(
    lambda first, fin, year, seq: first + fin + year + seq,
    st.sampled_from(FACILITY_FIRST_CHARACTERS),
    _digits(4),
    _digits(2),
    _digits(6),
)


def _allowed_at(position: int) -> str:
    """Characters a valid DIN may hold at ``position``."""
    return FACILITY_FIRST_CHARACTERS if position == 0 else string.digits


def _is_valid(din: str) -> bool:
    try:
        validate_din(din)
    except DINError:
        return False
    return True


def _error(func, *args) -> str:
    with pytest.raises(DINError) as info:
        func(*args)
    return str(info.value)


# --- worked example and basic API -------------------------------------------------


@pytest.mark.clause("ISBT 128 DIN")
def test_worked_example_check_character():
    assert check_character(EXAMPLE) == EXAMPLE_CHECK
    assert check_value(EXAMPLE) == 17


def test_computed_check_flags_for_example():
    assert computed_check_flags(EXAMPLE) == EXAMPLE_FLAGS
    assert DIN.from_text(EXAMPLE).computed_check_flags == EXAMPLE_FLAGS


def test_validate_din_normalizes_case_and_whitespace():
    assert validate_din("  g123498654321\n") == EXAMPLE


def test_verify_check_character_is_case_insensitive():
    assert verify_check_character(EXAMPLE.lower(), "h") == EXAMPLE


def test_din_fields_and_views():
    din = DIN(facility_code="g1234", year="98", sequence="654321")
    assert din.facility_code == "G1234"
    assert din.text == EXAMPLE
    assert str(din) == EXAMPLE
    assert din.check_character == EXAMPLE_CHECK
    assert din.eye_readable == "G1234 98 654321 H"
    assert din.barcode() == "=G12349865432100"
    assert din.barcode(EXAMPLE_FLAGS) == "=G12349865432177"


def test_din_is_frozen():
    din = DIN.from_text(EXAMPLE)
    with pytest.raises(AttributeError):
        din.year = "99"  # type: ignore[misc]


# --- error messages ---------------------------------------------------------------


@pytest.mark.clause("ISBT 128 DIN")
@pytest.mark.parametrize(
    ("din", "message"),
    [
        ("G12349865432", "DIN must be 13 characters, got 12"),
        ("G1234986543210", "DIN must be 13 characters, got 14"),
        ("", "DIN must be 13 characters, got 0"),
        ("O123498654321", "facility code must start with A–N, P–Z or 1–9, not 'O'"),
        ("o123498654321", "facility code must start with A–N, P–Z or 1–9, not 'O'"),
        ("0123498654321", "facility code must start with A–N, P–Z or 1–9, not '0'"),
        ("-123498654321", "facility code must start with A–N, P–Z or 1–9, not '-'"),
        ("G12A498654321", "facility code must end with four digits, got 'G12A4'"),
        ("G12349X654321", "year must be two digits, got '9X'"),
        ("G1234 8654321", "year must be two digits, got ' 8'"),
        ("G1234986543X1", "sequence number must be six digits, got '6543X1'"),
        # Non-ASCII digits pass str.isdigit() but are not ISBT 128 digits.
        ("G123498654３21", "sequence number must be six digits, got '654３21'"),
    ],
)
def test_validate_din_error_messages(din, message):
    assert _error(validate_din, din) == message


def test_non_string_din_is_rejected():
    assert _error(validate_din, 1234) == "DIN must be a string, got int"


@pytest.mark.clause("ISBT 128 DIN")
def test_wrong_check_character_names_expected():
    message = _error(verify_check_character, EXAMPLE, "X")
    assert message == "check character for G123498654321 is H, not X"


@pytest.mark.parametrize("check", ["", "HH", "?", "-"])
def test_malformed_check_character(check):
    assert _error(verify_check_character, EXAMPLE, check).startswith(
        "check character must be one of 0–9, A–Z or *"
    )


def test_din_constructor_reports_field_errors():
    assert _error(DIN, "G123", "98", "654321") == "facility code must be 5 characters, got 4"
    assert _error(DIN, "G1234", "9", "654321") == "year must be two digits, got '9'"
    assert _error(DIN, "G1234", "98", "65432") == "sequence number must be six digits, got '65432'"


# --- parse_din --------------------------------------------------------------------


def test_parse_din_plain_and_with_check():
    assert parse_din(EXAMPLE) == DIN.from_text(EXAMPLE)
    assert parse_din(EXAMPLE + "h") == DIN.from_text(EXAMPLE)


def test_parse_din_wrong_check():
    assert _error(parse_din, EXAMPLE + "X") == "check character for G123498654321 is H, not X"


@pytest.mark.parametrize("text", ["G12349865432", "G123498654321HH", "=G12349865432100"])
def test_parse_din_bad_length(text):
    assert _error(parse_din, text) == (
        f"DIN must be 13 characters, or 14 with the check character, got {len(text)}"
    )


# --- barcodes and flags -----------------------------------------------------------


def test_parse_barcode_plain_flags():
    din, flags = parse_barcode("=G12349865432100")
    assert din == DIN.from_text(EXAMPLE)
    assert flags == "00"


def test_parse_barcode_computed_check_flags():
    din, flags = parse_barcode("=G12349865432177\r\n")  # scanners often append CR/LF
    assert (din.text, flags) == (EXAMPLE, "77")


def test_parse_barcode_wrong_computed_flags():
    assert _error(parse_barcode, "=G12349865432178") == (
        "computed check flags for G123498654321 are 77, not 78"
    )


def test_parse_barcode_other_flags_are_returned_unchecked():
    # 01..59 and non-numeric flags carry no check information.
    assert parse_barcode("=G12349865432101")[1] == "01"
    assert parse_barcode("=G123498654321a1")[1] == "A1"


def test_parse_barcode_requires_prefix():
    assert _error(parse_barcode, "G12349865432100") == (
        "DIN barcode data must start with '=', got 'G'"
    )
    assert _error(parse_barcode, "") == "DIN barcode data must start with '=', got nothing"


def test_parse_barcode_requires_length():
    assert _error(parse_barcode, "=G123498654321").endswith("got 14")


def test_parse_barcode_reports_din_errors():
    assert _error(parse_barcode, "=O12349865432100") == (
        "facility code must start with A–N, P–Z or 1–9, not 'O'"
    )


def test_parse_barcode_bad_flag_characters():
    assert _error(parse_barcode, "=G1234986543210-") == (
        "flags must be two letters or digits, got '0-'"
    )


def test_barcode_refuses_mismatched_computed_flags():
    din = DIN.from_text(EXAMPLE)
    assert _error(din.barcode, "60") == "computed check flags for G123498654321 are 77, not 60"
    assert _error(din.barcode, "0") == "flags must be two letters or digits, got '0'"


# --- properties -------------------------------------------------------------------


@given(dins)
def test_check_character_in_alphabet(din):
    char = check_character(din)
    assert len(char) == 1
    assert char in CHECK_ALPHABET


@pytest.mark.clause("ISBT 128 DIN")
@given(dins)
def test_check_satisfies_mod37_2_congruence(din):
    # Independent oracle: with weights 2^k (check char weight 1), the weighted
    # sum of DIN + check is 1 mod 37 (ISO/IEC 7064 pure system verification).
    full = din + check_character(din)
    total = sum(CHECK_ALPHABET.index(c) * 2 ** (len(full) - 1 - i) for i, c in enumerate(full))
    assert total % 37 == 1


@given(dins)
def test_verify_accepts_computed_character(din):
    assert verify_check_character(din, check_character(din)) == din
    assert verify_check_character(din.lower(), check_character(din).lower()) == din


@given(dins)
def test_verify_rejects_every_other_character(din):
    expected = check_character(din)
    for wrong in CHECK_ALPHABET.replace(expected, ""):
        with pytest.raises(DINError, match=re.escape(f"is {expected}, not")):
            verify_check_character(din, wrong)


@given(dins)
def test_single_substitution_changes_check(din):
    # Exhaustive over every position and every legal replacement there.
    original = check_character(din)
    for i, current in enumerate(din):
        for replacement in _allowed_at(i):
            if replacement == current:
                continue
            mutated = din[:i] + replacement + din[i + 1 :]
            assert check_character(mutated) != original, (din, mutated)


@given(dins)
def test_adjacent_transposition_changes_check(din):
    original = check_character(din)
    for i in range(len(din) - 1):
        if din[i] == din[i + 1]:
            continue
        swapped = din[:i] + din[i + 1] + din[i] + din[i + 2 :]
        if not _is_valid(swapped):  # e.g. a facility letter moved out of position 0
            continue
        assert check_character(swapped) != original, (din, swapped)


@given(dins)
def test_parse_din_round_trips(din):
    parsed = parse_din(din)
    assert parsed.text == din
    assert parse_din(din + parsed.check_character) == parsed
    assert parse_din(parsed.eye_readable.replace(" ", "")) == parsed


@given(dins)
def test_barcode_round_trip_with_computed_flags(din):
    parsed = DIN.from_text(din)
    flags = computed_check_flags(din)
    assert flags == parsed.computed_check_flags
    assert 60 <= int(flags) <= 96
    assert parse_barcode(parsed.barcode(flags)) == (parsed, flags)


@given(dins)
def test_barcode_round_trip_with_plain_flags(din):
    parsed = DIN.from_text(din)
    assert parse_barcode(parsed.barcode()) == (parsed, "00")


@given(dins, st.integers(min_value=60, max_value=96))
def test_parse_barcode_rejects_other_computed_flags(din, flag_value):
    flags = f"{flag_value:02d}"
    data = "=" + din + flags
    if flags == computed_check_flags(din):
        assert parse_barcode(data)[1] == flags
    else:
        with pytest.raises(DINError, match="computed check flags"):
            parse_barcode(data)


# --- Chain of Identity identifiers (layout modelled on the DIN: carnk_mfg.isbt128) ---


@pytest.mark.clause("ISBT 128 ST-028 Chain of Identity")
@pytest.mark.parametrize(
    "identifier, check",
    # Check characters worked out by the weighted-sum form of ISO/IEC 7064 Mod 37-2
    # (sum of value x 2^position, plus the check, is 1 mod 37), not the code's recursion.
    [("G12342600000042", "1"), ("W04202600000001", "P")],
)
def test_a_chain_of_identity_identifier_and_its_check_character(identifier, check):
    assert isbt128.validate_coi(f" {identifier.lower()} ") == identifier
    assert isbt128.coi_check_character(identifier) == check
    assert isbt128.coi_from_scan(identifier + check) == identifier
    assert isbt128.coi_from_scan(f"{isbt128.coi_eye_readable(identifier)} {check}") == identifier


def test_a_new_chain_of_identity_identifier_is_facility_year_and_sequence():
    assert isbt128.coi_identifier("W0420", 2026, 1) == "W04202600000001"
    assert isbt128.coi_eye_readable("W04202600000001") == "W0420 26 00000001"
    with pytest.raises(isbt128.DINError, match="1 to 99999999"):
        isbt128.coi_identifier("W0420", 2026, 10**8)


@pytest.mark.parametrize(
    "text, says",
    [
        ("W042026000001", "is 15 characters"),
        ("O04202600000001", "facility code must start"),
        ("W04202600000A01", "eight digits"),
    ],
)
def test_a_malformed_chain_of_identity_identifier_says_what_is_wrong(text, says):
    with pytest.raises(isbt128.DINError, match=says):
        isbt128.validate_coi(text)


@pytest.mark.parametrize(
    "scan, says",
    [
        ("W04202600000001", "needs its check character"),
        ("W04202600000001C", "check character for W04202600000001 is P, not C"),
        ("W0420260000001P", "needs its check character"),  # 15 characters: no check
        ("", "got 0 characters"),
    ],
)
def test_a_chain_of_identity_scan_is_checked(scan, says):
    with pytest.raises(isbt128.DINError, match=says):
        isbt128.coi_from_scan(scan)
