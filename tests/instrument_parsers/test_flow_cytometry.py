"""Flow-cytometry gate statistics (FlowKit gating report; own parser).

Plain functions, no database; the sample exports are in tests/instrument_files/.
"""

import pytest

from qc.instrument_files import InstrumentFileError, parse_instrument_file
from tests.instrument_parsers.samples import parse_sample


def test_flow_gate_statistics():
    parsed = parse_sample("flow_gate_stats.csv")
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
