"""Roche Cedex HiRes (through allotropy).

Plain functions, no database; the sample exports are in tests/instrument_files/.
"""

from qc.instrument_files import parse_instrument_file
from tests.instrument_parsers.samples import parse_sample, sample_bytes, utc


def test_cedex_hires():
    parsed = parse_sample("cedex_hires.csv")
    assert parsed.instrument_serial == "5120337"  # Cedex ID
    assert [r.sample_id for r in parsed.rows] == ["CNK-260009-D07", "CNK-260009-D10"]
    first, second = parsed.rows
    assert first.viable_cells_per_ml == 1_953_512.25
    assert first.total_cells_per_ml == 2_111_945.75
    assert first.viability_pct == 92.4976
    assert first.measured_at == utc(2026, 1, 26, 8, 21, 44)  # Date finished
    assert first.extra["sample_draw_time"] == "2026-01-26T07:58:10+00:00"
    assert first.extra["batch_identifier"] == "BR-2601"
    assert second.viable_cells_per_ml == 2_496_530.5
    assert second.measured_at == utc(2026, 1, 29, 8, 30, 5)


def test_cedex_hires_with_empty_system_description():
    text = sample_bytes("cedex_hires.csv").decode("utf-8").replace("QC lab Cedex", "")
    parsed = parse_instrument_file(text.encode(), "cedex.csv")
    assert len(parsed.rows) == 2
