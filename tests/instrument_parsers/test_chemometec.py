"""ChemoMetec: NucleoCounter NC-200 (NucleoView) and NC View (through allotropy).

Plain functions, no database; the sample exports are in tests/instrument_files/.
"""

from datetime import datetime, timedelta, timezone

import pytest

from qc.instrument_files import InstrumentFileError, parse_instrument_file
from tests.instrument_parsers.samples import parse_sample, sample_bytes, utc


def test_nucleoview_nc200_with_checksum_line():
    parsed = parse_sample("nucleoview_nc200.csv")
    assert parsed.instrument_serial == "9000201077701234"
    assert parsed.warnings == []
    (row,) = parsed.rows
    # the whole tail of the Image name, although the sample ID contains dashes
    assert row.sample_id == "CNK-260006-D07"
    assert row.measured_at == datetime(2026, 1, 13, 14, 22, 57, tzinfo=timezone(timedelta(hours=1)))
    assert row.measured_at == utc(2026, 1, 13, 13, 22, 57)
    assert row.viable_cells_per_ml == 1_620_000.0
    assert row.total_cells_per_ml == 1_770_000.0
    assert row.viability_pct == 91.4
    assert row.extra["dead_cells_per_ml"] == 152_000.0
    assert row.extra["checksum"] == "5E0C3A7B"
    assert row.extra["analyst"] == "jdoe"
    assert row.extra["image"] == "20260113-0042-c-CNK-260006-D07"


def test_nucleoview_nc200_without_checksum_line_keeps_its_last_value():
    text = sample_bytes("nucleoview_nc200.csv").decode("utf-8").replace("//[5E0C3A7B]", "")
    text = text.replace("csv file version;2", "Total (cells/ml);1.77E6;")
    text = text.replace("Total (cells/ml);1.77E6;\r\n ; ;", " ; ;", 1)
    parsed = parse_instrument_file(text.encode(), "nc200.csv")
    assert parsed.rows[0].total_cells_per_ml == 1_770_000.0
    assert parsed.warnings == [
        "ChemoMetec NucleoCounter NC-200 (NucleoView) CSV: no checksum line at the end of the file"
    ]


def test_nucleoview_nc200_utf16_and_short_image_name():
    text = sample_bytes("nucleoview_nc200.csv").decode("utf-8")
    text = text.replace("20260113-0042-c-CNK-260006-D07;", "CNK260006;")
    parsed = parse_instrument_file(b"\xff\xfe" + text.encode("utf-16-le"), "nc200.csv")
    assert parsed.rows[0].sample_id == "CNK260006"
    assert parsed.rows[0].viable_cells_per_ml == 1_620_000.0


def test_nc_view_thousands_spaces_and_warning_status():
    parsed = parse_sample("nc_view_multi.csv")
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
    assert first.measured_at == utc(2026, 1, 20)
    assert first.extra["measured_at_date_only"] is True
    assert first.extra["status"] == "OK"
    assert second.extra["status"] == "Warning: Foreign object detected"
    assert parsed.warnings == ["row 2 (CNK-260007-D10): Warning: Foreign object detected"]


def test_nc_view_sample_id_is_kept_verbatim():
    text = sample_bytes("nc_view_multi.csv").decode("utf-8-sig")
    text = text.replace("CNK-260007-D07", "NA").replace("CNK-260007-D10", "007")
    parsed = parse_instrument_file(text.encode(), "nc_view.csv")
    assert [r.sample_id for r in parsed.rows] == ["NA", "007", "CNK-260008-D07"]


def test_nc_view_name_without_date():
    text = sample_bytes("nc_view_multi.csv").decode("utf-8-sig").replace("20260120-00012", "run12")
    with pytest.raises(InstrumentFileError, match=r"row 2 \(line 3\): NAME 'run12'"):
        parse_instrument_file(text.encode(), "nc_view.csv")


def test_nc200_text_in_number():
    text = (
        sample_bytes("nucleoview_nc200.csv")
        .decode()
        .replace("Live (cells/ml);1.62E6;", "Live (cells/ml);n/a;")
    )
    with pytest.raises(
        InstrumentFileError, match=r"row 1 \(line 5\): value 'n/a' in 'Live \(cells/ml\)'"
    ):
        parse_instrument_file(text.encode(), "nc200.csv")


def test_nc200_without_viability_has_no_measurements():
    text = (
        sample_bytes("nucleoview_nc200.csv")
        .decode()
        .replace("Viability (%);91.4;", "Viability (%);;")
    )
    with pytest.raises(InstrumentFileError, match="no measurements"):
        parse_instrument_file(text.encode(), "nc200.csv")
