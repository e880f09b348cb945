"""Tests for qc.instrument_files: plain functions, no database.

The sample exports in tests/instrument_files/ follow the instruments' real layouts
(/work/shared/INSTRUMENT_FORMATS.md and allotropy's test data) with our own contents.
"""

import contextlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from qc import instrument_files
from qc.instrument_files import (
    FORMAT_LABELS,
    InstrumentFileError,
    ParsedFile,
    decode,
    detect_format,
    parse_instrument_file,
)

FILES = Path(__file__).parent / "instrument_files"


def _bytes(name: str) -> bytes:
    return (FILES / name).read_bytes()


def _parse(name: str) -> ParsedFile:
    return parse_instrument_file(_bytes(name), name)


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


SAMPLES = {
    "vicell_blu_summary_utf8.csv": ("vicell_blu_summary", 3),
    "vicell_blu_summary_utf16le.csv": ("vicell_blu_summary", 2),
    "vicell_blu_detail_export.csv": ("vicell_blu_detail", 1),
    "vicell_xr_sample.txt": ("vicell_xr_text", 1),
    "nucleoview_nc200.csv": ("nucleoview_nc200", 1),
    "nc_view_multi.csv": ("nc_view", 3),
    "cedex_hires.csv": ("cedex_hires", 2),
    "flow_gate_stats.csv": ("flow_gate_stats", 4),
}


# ---------------------------------------------------------------- the sample files themselves


def test_sample_files_carry_the_real_file_traps():
    utf8 = _bytes("vicell_blu_summary_utf8.csv")
    assert "Average diameter (\u03bcm)".encode() in utf8  # Greek mu
    utf16 = _bytes("vicell_blu_summary_utf16le.csv")
    assert utf16.startswith(b"\xff\xfe")
    assert "Average diameter (\u00b5m)".encode("utf-16-le") in utf16  # micro sign
    assert _bytes("nucleoview_nc200.csv").rstrip().endswith(b"//[5E0C3A7B]")
    nc_view = _bytes("nc_view_multi.csv")
    assert nc_view.startswith(b"\xef\xbb\xbf")
    assert b",274 000," in nc_view
    assert b"Warning: Foreign object detected" in nc_view
    assert b"Sample identifer" in _bytes("cedex_hires.csv")
    assert b"RunDate : 12 Feb 2026  8:14:29 AM" in _bytes("vicell_xr_sample.txt")


@pytest.mark.parametrize(("name", "expected"), sorted(SAMPLES.items()))
def test_every_sample_file_is_detected_and_counted(name, expected):
    fmt, count = expected
    assert detect_format(decode(_bytes(name)), name) == fmt
    parsed = _parse(name)
    assert parsed.format == fmt
    assert parsed.format_label == FORMAT_LABELS[fmt]
    assert len(parsed.rows) == count
    assert [row.row for row in parsed.rows] == list(range(1, count + 1))
    for row in parsed.rows:
        assert row.measured_at is None or row.measured_at.tzinfo is not None


# ---------------------------------------------------------------- formats read through allotropy


def test_vicell_blu_summary_utf8():
    parsed = _parse("vicell_blu_summary_utf8.csv")
    assert parsed.instrument_serial == ""
    assert parsed.warnings == []
    assert [r.sample_id for r in parsed.rows] == [
        "CNK-260001-D07",
        "CNK-260001-D10",
        "CNK-260002-D07",
    ]
    first, second, third = parsed.rows
    # Viable (x10^6) cells/mL 1.85 -> cells/mL
    assert first.viable_cells_per_ml == 1_850_000.0
    assert first.total_cells_per_ml == 1_940_000.0
    assert first.viability_pct == 95.68
    assert first.measured_at == _utc(2026, 1, 14, 9, 5)
    assert first.extra["tag"] == "IPC day 7"
    assert first.extra["analyst"] == "jdoe"
    assert first.extra["average_diameter_um"] == 12.84
    assert first.extra["total_cell_count"] == 5212
    assert first.extra["viable_cell_count"] == 4987
    assert second.viable_cells_per_ml == 2_080_000.0
    assert second.total_cells_per_ml == 2_240_000.0
    assert second.measured_at == _utc(2026, 1, 17, 14, 32)
    assert "tag" not in second.extra
    assert third.viable_cells_per_ml == 1_060_000.0
    assert third.viability_pct == 86.43
    assert third.extra["analyst"] == "asmith"


def test_vicell_blu_summary_utf16le_with_micro_sign():
    parsed = _parse("vicell_blu_summary_utf16le.csv")
    assert [r.sample_id for r in parsed.rows] == ["CNK-260003-D14", "CNK-260003-FP"]
    first, second = parsed.rows
    assert first.viable_cells_per_ml == 2_860_000.0
    assert first.total_cells_per_ml == 3_020_000.0
    assert first.viability_pct == 94.85
    assert first.measured_at == _utc(2026, 2, 3, 10, 15)
    assert first.extra["dilution_factor"] == 2.0
    assert first.extra["average_diameter_um"] == 13.55  # the µ column was found
    assert second.viable_cells_per_ml == 3_380_000.0
    assert second.measured_at == _utc(2026, 2, 3, 16, 40)
    assert second.extra["tag"] == "final product"


def test_utf16_file_goes_to_allotropy_as_is_with_its_encoding(monkeypatch):
    calls = []
    real = instrument_files._run_allotropy

    def spy(vendor, payload, encoding, *args):
        calls.append((vendor, payload[:2], encoding))
        return real(vendor, payload, encoding, *args)

    monkeypatch.setattr(instrument_files, "_run_allotropy", spy)
    _parse("vicell_blu_summary_utf16le.csv")
    assert calls == [("BECKMAN_VI_CELL_BLU", b"\xff\xfe", "utf-16")]


def test_vicell_blu_summary_utf8_with_bom_and_utf16_big_endian():
    text = _bytes("vicell_blu_summary_utf8.csv").decode("utf-8")
    for data in (b"\xef\xbb\xbf" + text.encode(), b"\xfe\xff" + text.encode("utf-16-be")):
        parsed = parse_instrument_file(data, "export.csv")
        assert parsed.format == "vicell_blu_summary"
        assert [r.viable_cells_per_ml for r in parsed.rows] == [
            1_850_000.0,
            2_080_000.0,
            1_060_000.0,
        ]


def test_vicell_blu_summary_percent_strings_and_padding_are_cleaned():
    text = _bytes("vicell_blu_summary_utf8.csv").decode("utf-8")
    text = text.replace(",95.68,", ",95.68%,").replace(",92.99,", ", 92.99 %,")
    parsed = parse_instrument_file(text.encode(), "export.csv")
    assert [r.viability_pct for r in parsed.rows] == [95.68, 92.99, 86.43]
    assert parsed.rows[0].viable_cells_per_ml == 1_850_000.0


def test_vicell_blu_summary_without_a_file_name_or_with_another_extension():
    data = _bytes("vicell_blu_summary_utf8.csv")
    for filename in ("", "VICELL_EXPORT.CSV", "vicell-export.tsv"):
        parsed = parse_instrument_file(data, filename)
        assert len(parsed.rows) == 3


def test_vicell_xr_text():
    parsed = _parse("vicell_xr_sample.txt")
    assert parsed.instrument_serial == "XR4471023"
    (row,) = parsed.rows
    assert row.sample_id == "CNK-260005-D07"
    assert row.measured_at == _utc(2026, 2, 12, 8, 14, 29)
    assert row.viable_cells_per_ml == 1_360_000.0
    assert row.total_cells_per_ml == 1_470_000.0
    assert row.viability_pct == 92.9
    assert row.extra["average_diameter_um"] == 12.6
    assert row.extra["dead_cell_count"] == 205
    assert "analyst" not in row.extra  # "User :" is empty in the file


def test_vicell_xr_text_utf16_with_bom():
    text = _bytes("vicell_xr_sample.txt").decode("utf-8")
    parsed = parse_instrument_file(b"\xff\xfe" + text.encode("utf-16-le"), "sample.txt")
    assert parsed.rows[0].viable_cells_per_ml == 1_360_000.0
    assert parsed.instrument_serial == "XR4471023"


def test_nucleoview_nc200_with_checksum_line():
    parsed = _parse("nucleoview_nc200.csv")
    assert parsed.instrument_serial == "9000201077701234"
    assert parsed.warnings == []
    (row,) = parsed.rows
    # the whole tail of the Image name, although the sample ID contains dashes
    assert row.sample_id == "CNK-260006-D07"
    assert row.measured_at == datetime(2026, 1, 13, 14, 22, 57, tzinfo=timezone(timedelta(hours=1)))
    assert row.measured_at == _utc(2026, 1, 13, 13, 22, 57)
    assert row.viable_cells_per_ml == 1_620_000.0
    assert row.total_cells_per_ml == 1_770_000.0
    assert row.viability_pct == 91.4
    assert row.extra["dead_cells_per_ml"] == 152_000.0
    assert row.extra["checksum"] == "5E0C3A7B"
    assert row.extra["analyst"] == "jdoe"
    assert row.extra["image"] == "20260113-0042-c-CNK-260006-D07"


def test_nucleoview_nc200_without_checksum_line_keeps_its_last_value():
    text = _bytes("nucleoview_nc200.csv").decode("utf-8").replace("//[5E0C3A7B]", "")
    text = text.replace("csv file version;2", "Total (cells/ml);1.77E6;")
    text = text.replace("Total (cells/ml);1.77E6;\r\n ; ;", " ; ;", 1)
    parsed = parse_instrument_file(text.encode(), "nc200.csv")
    assert parsed.rows[0].total_cells_per_ml == 1_770_000.0
    assert parsed.warnings == [
        "ChemoMetec NucleoCounter NC-200 (NucleoView) CSV: no checksum line at the end of the file"
    ]


def test_nucleoview_nc200_utf16_and_short_image_name():
    text = _bytes("nucleoview_nc200.csv").decode("utf-8")
    text = text.replace("20260113-0042-c-CNK-260006-D07;", "CNK260006;")
    parsed = parse_instrument_file(b"\xff\xfe" + text.encode("utf-16-le"), "nc200.csv")
    assert parsed.rows[0].sample_id == "CNK260006"
    assert parsed.rows[0].viable_cells_per_ml == 1_620_000.0


def test_nc_view_thousands_spaces_and_warning_status():
    parsed = _parse("nc_view_multi.csv")
    assert parsed.instrument_serial == "9002020104405511"
    assert [r.sample_id for r in parsed.rows] == [
        "CNK-260007-D07",
        "CNK-260007-D10",
        "CNK-260008-D07",
    ]
    first, second, third = parsed.rows
    assert first.total_cells_per_ml == 274_000.0  # "274 000"
    assert first.viable_cells_per_ml == 251_000.0
    assert first.viability_pct == 91.6
    assert second.total_cells_per_ml == 1_530_000.0  # "1 530 000"
    assert second.viable_cells_per_ml == 1_410_000.0
    assert third.viable_cells_per_ml == 962_000.0  # "9.62E+05"
    # NAME "20260120-00011" carries the run date only
    assert first.measured_at == _utc(2026, 1, 20)
    assert first.extra["measured_at_date_only"] is True
    assert first.extra["status"] == "OK"
    assert second.extra["status"] == "Warning: Foreign object detected"
    assert parsed.warnings == ["row 2 (CNK-260007-D10): Warning: Foreign object detected"]


def test_nc_view_sample_id_is_kept_verbatim():
    text = _bytes("nc_view_multi.csv").decode("utf-8-sig")
    text = text.replace("CNK-260007-D07", "NA").replace("CNK-260007-D10", "007")
    parsed = parse_instrument_file(text.encode(), "nc_view.csv")
    assert [r.sample_id for r in parsed.rows] == ["NA", "007", "CNK-260008-D07"]


def test_cedex_hires():
    parsed = _parse("cedex_hires.csv")
    assert parsed.instrument_serial == "5120337"  # Cedex ID
    assert [r.sample_id for r in parsed.rows] == ["CNK-260009-D07", "CNK-260009-D10"]
    first, second = parsed.rows
    assert first.viable_cells_per_ml == 1_953_512.25
    assert first.total_cells_per_ml == 2_111_945.75
    assert first.viability_pct == 92.4976
    assert first.measured_at == _utc(2026, 1, 26, 8, 21, 44)  # Date finished
    assert first.extra["sample_draw_time"] == "2026-01-26T07:58:10+00:00"
    assert first.extra["batch_identifier"] == "BR-2601"
    assert second.viable_cells_per_ml == 2_496_530.5
    assert second.measured_at == _utc(2026, 1, 29, 8, 30, 5)


def test_cedex_hires_with_empty_system_description():
    text = _bytes("cedex_hires.csv").decode("utf-8").replace("QC lab Cedex", "")
    parsed = parse_instrument_file(text.encode(), "cedex.csv")
    assert len(parsed.rows) == 2


# ---------------------------------------------------------------- own parsers


def test_vicell_blu_detail_export():
    parsed = _parse("vicell_blu_detail_export.csv")
    (row,) = parsed.rows
    assert row.sample_id == "CNK-260004-D10"
    assert row.measured_at == _utc(2026, 2, 11, 15, 7, 45)
    assert row.viable_cells_per_ml == 2_475_300.0  # the Total row, not an image row
    assert row.total_cells_per_ml == 2_652_700.0
    assert row.viability_pct == 93.3
    assert row.extra["images"] == 3
    assert row.extra["total_cell_count"] == 7104
    assert row.extra["average_diameter_um"] == 13.06
    assert row.extra["reagents"][0]["Lot number"] == "2407113"
    assert row.extra["analyst"] == "jdoe"


def test_vicell_blu_detail_export_without_total_row_is_truncated():
    lines = _bytes("vicell_blu_detail_export.csv").decode().splitlines()
    with pytest.raises(InstrumentFileError, match="no 'Total' result row.*truncated"):
        parse_instrument_file("\n".join(lines[:-2]).encode(), "detail.csv")


def test_flow_gate_statistics():
    parsed = _parse("flow_gate_stats.csv")
    assert parsed.instrument_serial == ""
    assert {r.sample_id for r in parsed.rows} == {"CNK-260010-FP_CAR.fcs"}
    assert [r.gate_name for r in parsed.rows] == ["Lymphocytes", "Singlets", "CD56+CD3-", "CAR+"]
    car = parsed.rows[3]
    assert car.gate_path == "/root/Lymphocytes/Singlets/CD56+CD3-/CAR+"
    assert car.gate_path.endswith("/CD56+CD3-/CAR+")
    assert car.percent == 59.9539  # % CAR+ of CD56+CD3-
    assert car.extra["count"] == 21590
    assert car.extra["absolute_percent"] == 43.18
    assert car.extra["parent_path"] == "/root/Lymphocytes/Singlets/CD56+CD3-"
    assert car.extra["fcs_file"] == "CNK-260010-FP_CAR.fcs"
    assert car.measured_at is None
    assert car.viable_cells_per_ml is None
    assert parsed.rows[0].gate_path == "/root/Lymphocytes"


def test_flow_gate_statistics_slash_paths_percent_signs_and_extra_columns():
    data = (
        b"sample,gate_path,gate_name,count,absolute_percent,relative_percent,fcs_sha256\n"
        b"CNK-260011-FP.fcs,/root/Lymphocytes/CD56+CD3-,CAR+,1200,40.5%,61.25%,ab12\n"
        b"CNK-260011-FP.fcs,root/Lymphocytes/CD56+CD3-/CAR+,CAR+,1200,40.5,61.25,ab12\n"
    )
    parsed = parse_instrument_file(data, "gates.csv")
    for row in parsed.rows:
        assert row.gate_path == "/root/Lymphocytes/CD56+CD3-/CAR+"
        assert row.percent == 61.25
        assert row.extra["fcs_sha256"] == "ab12"


def test_flow_gate_statistics_count_must_be_a_number():
    data = (
        b"sample,gate_path,gate_name,count,absolute_percent,relative_percent\n"
        b"s.fcs,/root,CAR+,many,40.5,61.25\n"
    )
    with pytest.raises(InstrumentFileError, match=r"row 1 \(line 2\): value 'many' in 'count'"):
        parse_instrument_file(data, "gates.csv")


# ---------------------------------------------------------------- broken files


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
        _parse(name)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize("data", [b"", b"  \r\n\n"])
def test_empty_file(data):
    with pytest.raises(InstrumentFileError, match="empty"):
        parse_instrument_file(data, "empty.csv")


def test_error_is_a_value_error():
    assert issubclass(InstrumentFileError, ValueError)


def test_missing_column_is_named():
    text = _bytes("vicell_blu_summary_utf8.csv").decode()
    text = text.replace("Analysis date/time", "Analysed")
    with pytest.raises(InstrumentFileError, match="missing column 'Analysis date/time'"):
        parse_instrument_file(text.encode(), "export.csv")


def test_empty_required_value_is_named():
    text = _bytes("vicell_blu_summary_utf8.csv").decode().replace(",1.06,", ",,")
    with pytest.raises(
        InstrumentFileError, match=r"row 3 \(line 4\): no value in 'Viable \(x10\^6\) cells/mL'"
    ):
        parse_instrument_file(text.encode(), "export.csv")


def test_allotropy_errors_become_instrument_file_errors():
    text = _bytes("vicell_blu_summary_utf8.csv").decode().replace("1/14/2026 9:05", "someday")
    with pytest.raises(InstrumentFileError, match="allotropy could not read the file.*someday"):
        parse_instrument_file(text.encode(), "export.csv")


def test_nc_view_name_without_date():
    text = _bytes("nc_view_multi.csv").decode("utf-8-sig").replace("20260120-00012", "run12")
    with pytest.raises(InstrumentFileError, match=r"row 2 \(line 3\): NAME 'run12'"):
        parse_instrument_file(text.encode(), "nc_view.csv")


def test_nc200_text_in_number():
    text = (
        _bytes("nucleoview_nc200.csv")
        .decode()
        .replace("Live (cells/ml);1.62E6;", "Live (cells/ml);n/a;")
    )
    with pytest.raises(
        InstrumentFileError, match=r"row 1 \(line 5\): value 'n/a' in 'Live \(cells/ml\)'"
    ):
        parse_instrument_file(text.encode(), "nc200.csv")


def test_nc200_without_viability_has_no_measurements():
    text = _bytes("nucleoview_nc200.csv").decode().replace("Viability (%);91.4;", "Viability (%);;")
    with pytest.raises(InstrumentFileError, match="no measurements"):
        parse_instrument_file(text.encode(), "nc200.csv")


def test_vicell_xr_bad_run_date_and_missing_line():
    text = _bytes("vicell_xr_sample.txt").decode()
    bad_date = text.replace("12 Feb 2026  8:14:29 AM", "2026-02-12 08:14")
    with pytest.raises(InstrumentFileError, match=r"row 1 \(line 7\): RunDate '2026-02-12 08:14'"):
        parse_instrument_file(bad_date.encode(), "xr.txt")
    no_viability = text.replace("Viability (%) : 92.9\r\n", "")
    with pytest.raises(InstrumentFileError, match=r"missing line 'Viability \(%\) : \.\.\.'"):
        parse_instrument_file(no_viability.encode(), "xr.txt")
    with pytest.raises(InstrumentFileError, match="no measurements"):
        parse_instrument_file(b"Vi-CELL XR 2.06.3\r\n\r\n", "xr.txt")


def test_excel_workbooks_are_named():
    with pytest.raises(InstrumentFileError, match=r"\.xlsx.*export it as CSV"):
        parse_instrument_file(b"PK\x03\x04" + b"\x00" * 40, "counts.xlsx")
    with pytest.raises(InstrumentFileError, match=r"\.xls\).*export it as CSV"):
        parse_instrument_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "counts.xls")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_truncated_copies_raise_only_instrument_file_error(name):
    data = _bytes(name)
    for cut in sorted({len(data) * k // 9 for k in range(1, 9)}):
        with contextlib.suppress(InstrumentFileError):
            parse_instrument_file(data[:cut], name)


# ---------------------------------------------------------------- decoding


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
        decode(_bytes("broken_garbage.csv"))
    with pytest.raises(InstrumentFileError, match="NUL bytes"):
        decode(b"Sample ID\x00\x00\x00,1\n")
    with pytest.raises(InstrumentFileError, match="empty"):
        decode(b"")


def test_cp1252_file_is_parsed_with_a_warning():
    text = _bytes("vicell_blu_summary_utf8.csv").decode().replace("\u03bc", "\u00b5")
    parsed = parse_instrument_file(text.encode("cp1252"), "export.csv")
    assert len(parsed.rows) == 3
    assert parsed.warnings == ["the file is not UTF-8 or UTF-16; it was read as Windows-1252"]
