"""Flow-cytometry gate statistics: own parser (csv module; allotropy does not cover it).

FlowKit's gating report: sample, gate_path, gate_name, [gate_type, quadrant_parent, parent,]
count, absolute_percent, relative_percent[, level]. FlowKit's gate_path is the tuple of the
gate's ancestors, written by pandas as "('root', 'Lymphocytes')"; slash form
("/root/Lymphocytes") is accepted too. ParsedRow.gate_path is the full path including the
gate itself ("/root/Lymphocytes/CD56+CD3-/CAR+"); extra["parent_path"] the ancestors.
"""

from __future__ import annotations

import ast

from qc.instrument_files.common import (
    FORMAT_LABELS,
    InstrumentFileError,
    ParsedFile,
    ParsedRow,
    Source,
    drop_none,
)
from qc.instrument_files.tables import read_table

GATE_REPORT_COLUMNS = {
    "sample",
    "gate_path",
    "gate_name",
    "count",
    "absolute_percent",
    "relative_percent",
}


def _gate_parts(raw: str, where: str) -> list[str]:
    value = raw.strip()
    if value.startswith("("):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError) as exc:
            raise InstrumentFileError(f"{where}: gate_path {raw!r} is not a gate path") from exc
        if not isinstance(parsed, tuple) or not all(isinstance(p, str) for p in parsed):
            raise InstrumentFileError(f"{where}: gate_path {raw!r} is not a gate path")
        return [part for part in parsed if part]
    return [part.strip() for part in value.split("/") if part.strip()]


def _gate_row(index: int, record: dict[str, str], line: int, label: str) -> ParsedRow:
    where = f"{label}: row {index} (line {line})"
    gate_name = record["gate_name"].strip()
    parts = _gate_parts(record["gate_path"], where)
    if parts and parts[-1] == gate_name:  # a path that already ends with the gate
        parts = parts[:-1]
    count = float(record["count"])
    if not count.is_integer():
        raise InstrumentFileError(
            f"{where}: value {record['count']!r} in 'count' is not a whole number"
        )
    sample = record["sample"].strip()
    known = GATE_REPORT_COLUMNS | {"", "unnamed: 0"}  # "" / "Unnamed: 0": a pandas index column
    extra = drop_none(
        {
            "count": int(count),
            "absolute_percent": float(record["absolute_percent"])
            if record["absolute_percent"].strip()
            else None,
            "parent_path": "/" + "/".join(parts) if parts else "",
            "fcs_file": sample if sample.lower().endswith(".fcs") else None,
            **{k: v.strip() for k, v in record.items() if k not in known},
            "line": line,
        }
    )
    return ParsedRow(
        row=index,
        sample_id=sample,
        measured_at=None,
        total_cells_per_ml=None,
        viable_cells_per_ml=None,
        viability_pct=None,
        extra=extra,
        gate_path="/" + "/".join([*parts, gate_name]),
        gate_name=gate_name,
        percent=float(record["relative_percent"]),
    )


def parse_flow_gate_stats(source: Source) -> ParsedFile:
    fmt = "flow_gate_stats"
    label = FORMAT_LABELS[fmt]
    table = read_table(
        source.text,
        label,
        required=sorted(GATE_REPORT_COLUMNS),
        not_empty=["sample", "gate_name", "count", "relative_percent"],
        numbers=["count", "absolute_percent", "relative_percent"],
        lower_header=True,
    )
    rows = [
        _gate_row(index, record, line, label)
        for index, (record, line) in enumerate(zip(table.records, table.lines, strict=True), 1)
    ]
    return ParsedFile(fmt, label, "", rows, [])
