"""Beckman Coulter Vi-CELL: BLU summary CSV and XR text file (through allotropy), BLU detail
export (own parser).

Plain functions, no database; the sample exports are in tests/instrument_files/.
"""

import pytest

from qc.instrument_files import InstrumentFileError, allotropy_asm, parse_instrument_file, vicell
from qc.instrument_files.common import Source
from qc.instrument_files.decoding import decode_with_codec
from tests.instrument_parsers.samples import parse_sample, sample_bytes, utc


def test_vicell_blu_summary_utf8():
    parsed = parse_sample("vicell_blu_summary_utf8.csv")
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
    assert first.measured_at == utc(2026, 1, 14, 9, 5)
    assert first.extra["tag"] == "IPC day 7"
    assert first.extra["analyst"] == "jdoe"
    assert first.extra["average_diameter_um"] == 12.84
    assert first.extra["total_cell_count"] == 5212
    assert first.extra["viable_cell_count"] == 4987
    assert second.viable_cells_per_ml == 2_080_000.0
    assert second.total_cells_per_ml == 2_240_000.0
    assert second.measured_at == utc(2026, 1, 17, 14, 32)
    assert "tag" not in second.extra
    assert third.viable_cells_per_ml == 1_060_000.0
    assert third.viability_pct == 86.43
    assert third.extra["analyst"] == "asmith"


def test_vicell_blu_summary_utf16le_with_micro_sign():
    parsed = parse_sample("vicell_blu_summary_utf16le.csv")
    assert [r.sample_id for r in parsed.rows] == ["CNK-260003-D14", "CNK-260003-FP"]
    first, second = parsed.rows
    assert first.viable_cells_per_ml == 2_860_000.0
    assert first.total_cells_per_ml == 3_020_000.0
    assert first.viability_pct == 94.85
    assert first.measured_at == utc(2026, 2, 3, 10, 15)
    assert first.extra["dilution_factor"] == 2.0
    assert first.extra["average_diameter_um"] == 13.55  # the µ column was found
    assert second.viable_cells_per_ml == 3_380_000.0
    assert second.measured_at == utc(2026, 2, 3, 16, 40)
    assert second.extra["tag"] == "final product"


def test_utf16_file_goes_to_allotropy_as_is_with_its_encoding(monkeypatch):
    """When allotropy reads the summary (the reference reader, or a file the lean reader
    leaves to it), it gets the original bytes and their encoding."""
    calls = []
    real = allotropy_asm.run_allotropy

    def spy(vendor, payload, encoding, *args):
        calls.append((vendor, payload[:2], encoding))
        return real(vendor, payload, encoding, *args)

    monkeypatch.setattr(vicell, "run_allotropy", spy)
    data = sample_bytes("vicell_blu_summary_utf16le.csv")
    text, encoding = decode_with_codec(data)
    vicell.parse_vicell_blu_summary(Source(data, text, encoding, "x.csv"), reader="allotropy")
    assert calls == [("BECKMAN_VI_CELL_BLU", b"\xff\xfe", "utf-16")]
    calls.clear()
    parse_sample("vicell_blu_summary_utf16le.csv")
    assert calls == []  # the lean reader read it


def test_vicell_blu_summary_utf8_with_bom_and_utf16_big_endian():
    text = sample_bytes("vicell_blu_summary_utf8.csv").decode("utf-8")
    for data in (b"\xef\xbb\xbf" + text.encode(), b"\xfe\xff" + text.encode("utf-16-be")):
        parsed = parse_instrument_file(data, "export.csv")
        assert parsed.format == "vicell_blu_summary"
        assert [r.viable_cells_per_ml for r in parsed.rows] == [
            1_850_000.0,
            2_080_000.0,
            1_060_000.0,
        ]


def test_vicell_blu_summary_percent_strings_and_padding_are_cleaned():
    text = sample_bytes("vicell_blu_summary_utf8.csv").decode("utf-8")
    text = text.replace(",95.68,", ",95.68%,").replace(",92.99,", ", 92.99 %,")
    parsed = parse_instrument_file(text.encode(), "export.csv")
    assert [r.viability_pct for r in parsed.rows] == [95.68, 92.99, 86.43]
    assert parsed.rows[0].viable_cells_per_ml == 1_850_000.0


def test_vicell_blu_summary_without_a_file_name_or_with_another_extension():
    data = sample_bytes("vicell_blu_summary_utf8.csv")
    for filename in ("", "VICELL_EXPORT.CSV", "vicell-export.tsv"):
        parsed = parse_instrument_file(data, filename)
        assert len(parsed.rows) == 3


def test_vicell_xr_text():
    parsed = parse_sample("vicell_xr_sample.txt")
    assert parsed.instrument_serial == "XR4471023"
    (row,) = parsed.rows
    assert row.sample_id == "CNK-260005-D07"
    assert row.measured_at == utc(2026, 2, 12, 8, 14, 29)
    assert row.viable_cells_per_ml == 1_360_000.0
    assert row.total_cells_per_ml == 1_470_000.0
    assert row.viability_pct == 92.9
    assert row.extra["average_diameter_um"] == 12.6
    assert row.extra["dead_cell_count"] == 205
    assert "analyst" not in row.extra  # "User :" is empty in the file


def test_vicell_xr_text_utf16_with_bom():
    text = sample_bytes("vicell_xr_sample.txt").decode("utf-8")
    parsed = parse_instrument_file(b"\xff\xfe" + text.encode("utf-16-le"), "sample.txt")
    assert parsed.rows[0].viable_cells_per_ml == 1_360_000.0
    assert parsed.instrument_serial == "XR4471023"


def test_vicell_blu_detail_export():
    parsed = parse_sample("vicell_blu_detail_export.csv")
    (row,) = parsed.rows
    assert row.sample_id == "CNK-260004-D10"
    assert row.measured_at == utc(2026, 2, 11, 15, 7, 45)
    assert row.viable_cells_per_ml == 2_475_300.0  # the Total row, not an image row
    assert row.total_cells_per_ml == 2_652_700.0
    assert row.viability_pct == 93.3
    assert row.extra["images"] == 3
    assert row.extra["total_cell_count"] == 7104
    assert row.extra["average_diameter_um"] == 13.06
    assert row.extra["reagents"][0]["Lot number"] == "2407113"
    assert row.extra["analyst"] == "jdoe"


def test_vicell_blu_detail_export_without_total_row_is_truncated():
    lines = sample_bytes("vicell_blu_detail_export.csv").decode().splitlines()
    with pytest.raises(InstrumentFileError, match="no 'Total' result row.*truncated"):
        parse_instrument_file("\n".join(lines[:-2]).encode(), "detail.csv")


def test_missing_column_is_named():
    text = sample_bytes("vicell_blu_summary_utf8.csv").decode()
    text = text.replace("Analysis date/time", "Analysed")
    with pytest.raises(InstrumentFileError, match="missing column 'Analysis date/time'"):
        parse_instrument_file(text.encode(), "export.csv")


def test_empty_required_value_is_named():
    text = sample_bytes("vicell_blu_summary_utf8.csv").decode().replace(",1.06,", ",,")
    with pytest.raises(
        InstrumentFileError, match=r"row 3 \(line 4\): no value in 'Viable \(x10\^6\) cells/mL'"
    ):
        parse_instrument_file(text.encode(), "export.csv")


def test_allotropy_errors_become_instrument_file_errors():
    text = sample_bytes("vicell_blu_summary_utf8.csv").decode().replace("1/14/2026 9:05", "someday")
    with pytest.raises(InstrumentFileError, match="allotropy could not read the file.*someday"):
        parse_instrument_file(text.encode(), "export.csv")


def test_vicell_xr_bad_run_date_and_missing_line():
    text = sample_bytes("vicell_xr_sample.txt").decode()
    bad_date = text.replace("12 Feb 2026  8:14:29 AM", "2026-02-12 08:14")
    with pytest.raises(InstrumentFileError, match=r"row 1 \(line 7\): RunDate '2026-02-12 08:14'"):
        parse_instrument_file(bad_date.encode(), "xr.txt")
    no_viability = text.replace("Viability (%) : 92.9\r\n", "")
    with pytest.raises(InstrumentFileError, match=r"missing line 'Viability \(%\) : \.\.\.'"):
        parse_instrument_file(no_viability.encode(), "xr.txt")
    with pytest.raises(InstrumentFileError, match="no measurements"):
        parse_instrument_file(b"Vi-CELL XR 2.06.3\r\n\r\n", "xr.txt")
