"""Any export: the sample files themselves, format detection, decoding, and broken or
unreadable files.

Plain functions, no database; the sample exports are in tests/instrument_files/.
"""

import contextlib

import pytest

from qc.instrument_files import (
    FORMAT_LABELS,
    InstrumentFileError,
    decode,
    detect_format,
    parse_instrument_file,
)
from tests.instrument_parsers.samples import SAMPLES, parse_sample, sample_bytes


def test_sample_files_carry_the_real_file_traps():
    utf8 = sample_bytes("vicell_blu_summary_utf8.csv")
    assert "Average diameter (\u03bcm)".encode() in utf8  # Greek mu
    utf16 = sample_bytes("vicell_blu_summary_utf16le.csv")
    assert utf16.startswith(b"\xff\xfe")
    assert "Average diameter (\u00b5m)".encode("utf-16-le") in utf16  # micro sign
    assert sample_bytes("nucleoview_nc200.csv").rstrip().endswith(b"//[5E0C3A7B]")
    nc_view = sample_bytes("nc_view_multi.csv")
    assert nc_view.startswith(b"\xef\xbb\xbf")
    assert b",274 000," in nc_view
    assert b"Warning: Foreign object detected" in nc_view
    assert b"Sample identifer" in sample_bytes("cedex_hires.csv")
    assert b"RunDate : 12 Feb 2026  8:14:29 AM" in sample_bytes("vicell_xr_sample.txt")


@pytest.mark.parametrize(("name", "expected"), sorted(SAMPLES.items()))
def test_every_sample_file_is_detected_and_counted(name, expected):
    fmt, count = expected
    assert detect_format(decode(sample_bytes(name)), name) == fmt
    parsed = parse_sample(name)
    assert parsed.format == fmt
    assert parsed.format_label == FORMAT_LABELS[fmt]
    assert len(parsed.rows) == count
    assert [row.row for row in parsed.rows] == list(range(1, count + 1))
    for row in parsed.rows:
        assert row.measured_at is None or row.measured_at.tzinfo is not None


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("broken_truncated.csv", ["row 2 (line 3)", "only 6 of 33 columns", "truncated"]),
        ("broken_garbage.csv", ["unreadable encoding", "not UTF-8 or UTF-16", "0x93"]),
        (
            "broken_unknown_header.csv",
            ["unknown instrument file format", "'Patient,Collected", *FORMAT_LABELS.values()],
        ),
        (
            "broken_text_in_number.csv",
            ["row 2 (line 3)", "value 'abc' in 'Viability (%)' is not a number"],
        ),
        ("broken_header_only.csv", ["Vi-CELL BLU summary", "no measurements"]),
    ],
)
def test_broken_sample_files(name, fragments):
    with pytest.raises(InstrumentFileError) as caught:
        parse_sample(name)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize("data", [b"", b"  \r\n\n"])
def test_empty_file(data):
    with pytest.raises(InstrumentFileError, match="empty"):
        parse_instrument_file(data, "empty.csv")


def test_error_is_a_value_error():
    assert issubclass(InstrumentFileError, ValueError)


def test_excel_workbooks_are_named():
    with pytest.raises(InstrumentFileError, match=r"\.xlsx.*export it as CSV"):
        parse_instrument_file(b"PK\x03\x04" + b"\x00" * 40, "counts.xlsx")
    with pytest.raises(InstrumentFileError, match=r"\.xls\).*export it as CSV"):
        parse_instrument_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "counts.xls")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_truncated_copies_raise_only_instrument_file_error(name):
    data = sample_bytes(name)
    for cut in sorted({len(data) * k // 9 for k in range(1, 9)}):
        with contextlib.suppress(InstrumentFileError):
            parse_instrument_file(data[:cut], name)


def test_decode_variants():
    text = "Sample ID,Viability (%)\r\nCNK-260001-D07,95.5 µ\r\n"
    assert decode(text.encode("utf-8")) == text
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode(b"\xff\xfe" + text.encode("utf-16-le")) == text
    assert decode(b"\xfe\xff" + text.encode("utf-16-be")) == text
    assert decode(text.encode("utf-16-le")) == text  # no BOM: NUL in every other byte
    assert decode(text.encode("utf-16-be")) == text
    assert decode(text.encode("cp1252")) == text  # a lone 0xB5 micro sign


def test_decode_rejects_binary():
    with pytest.raises(InstrumentFileError, match="unreadable encoding"):
        decode(sample_bytes("broken_garbage.csv"))
    with pytest.raises(InstrumentFileError, match="NUL bytes"):
        decode(b"Sample ID\x00\x00\x00,1\n")
    with pytest.raises(InstrumentFileError, match="empty"):
        decode(b"")


def test_cp1252_file_is_parsed_with_a_warning():
    text = sample_bytes("vicell_blu_summary_utf8.csv").decode().replace("\u03bc", "\u00b5")
    parsed = parse_instrument_file(text.encode("cp1252"), "export.csv")
    assert len(parsed.rows) == 3
    assert parsed.warnings == ["the file is not UTF-8 or UTF-16; it was read as Windows-1252"]
