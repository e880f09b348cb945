"""What every instrument parser shares: the result types, the error, the format names, and the
small text and number helpers."""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


class InstrumentFileError(ValueError):
    """The file cannot be read; the message says what is wrong with it."""


@dataclass(frozen=True)
class ParsedRow:
    row: int  # 1-based index of the measurement in the file
    sample_id: str
    measured_at: datetime | None  # timezone-aware
    total_cells_per_ml: float | None
    viable_cells_per_ml: float | None
    viability_pct: float | None
    extra: dict[str, Any] = field(default_factory=dict)
    # Flow-cytometry gate statistics rows carry these instead of counts:
    gate_path: str = ""  # full path of the gate, e.g. "/root/Lymphocytes/CD56+CD3-/CAR+"
    gate_name: str = ""  # e.g. "CAR+"
    percent: float | None = None  # relative_percent: % of the parent gate


@dataclass(frozen=True)
class ParsedFile:
    format: str
    format_label: str
    instrument_serial: str
    rows: list[ParsedRow]
    warnings: list[str]


FORMAT_LABELS: dict[str, str] = {
    "vicell_blu_summary": "Beckman Coulter Vi-CELL BLU summary CSV",
    "vicell_blu_detail": "Beckman Coulter Vi-CELL BLU detail export CSV",
    "vicell_xr_text": "Beckman Coulter Vi-CELL XR sample text file",
    "nucleoview_nc200": "ChemoMetec NucleoCounter NC-200 (NucleoView) CSV",
    "nc_view": "ChemoMetec NC View CSV",
    "cedex_hires": "Roche Cedex HiRes CSV",
    "flow_gate_stats": "Flow cytometry gate statistics CSV (FlowKit gating report)",
}
# The kind of instrument (qc.models.InstrumentKind) that writes each format: an instrument
# imports only its own kind of file.
FORMAT_KINDS: dict[str, str] = {
    "vicell_blu_summary": "cell_counter",
    "vicell_blu_detail": "cell_counter",
    "vicell_xr_text": "cell_counter",
    "nucleoview_nc200": "cell_counter",
    "nc_view": "cell_counter",
    "cedex_hires": "cell_counter",
    "flow_gate_stats": "flow_cytometer",
}


@dataclass(frozen=True)
class Source:
    """An uploaded file as every parser receives it."""

    data: bytes  # the original bytes
    text: str  # decoded, BOM removed
    encoding: str  # codec that decodes `data`
    filename: str


def file_ref(filename: str) -> str:
    """How a message names the file: "file 'x.csv' " (trailing space), or "the file "."""
    return f"file '{filename}' " if filename else "the file "


def for_file(filename: str) -> str:
    return f" for '{filename}'" if filename else ""


def norm(text: str) -> str:
    """NFKC folds the micro sign U+00B5 into Greek mu U+03BC, as allotropy does."""
    return unicodedata.normalize("NFKC", text)


def csv_cells(line: str) -> list[str]:
    return next(csv.reader([line]), [])


_THOUSANDS_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?:\D|$))")


def clean_number(raw: str) -> str | None:
    """The number in `raw` as plain text ('274 000' -> '274000', '87.00%' -> '87.00'), or None."""
    value = raw.strip()
    value = _THOUSANDS_SPACE.sub("", value)
    if value.endswith("%"):
        value = value[:-1].rstrip()
    try:
        number = float(value)
    except ValueError:
        return None
    return value if math.isfinite(number) else None


def not_a_number(raw: str, where: str, column: str) -> InstrumentFileError:
    """The error for a value that should be a number, naming where it is and its column."""
    return InstrumentFileError(f"{where}: value {raw.strip()!r} in {column!r} is not a number")


def read_number(raw: str, where: str, column: str) -> float:
    """The number in `raw`; InstrumentFileError naming `where` and `column` if there is none."""
    cleaned = clean_number(raw)
    if cleaned is None:
        raise not_a_number(raw, where, column)
    return float(cleaned)


def times_million(value: float | None) -> float | None:
    """10^6 cells/mL -> cells/mL, in decimal so that 1.85 gives 1850000.0 exactly."""
    if value is None:
        return None
    return float(Decimal(repr(value)) * 1_000_000)


def drop_none(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without the entries that say nothing (None, "" or {})."""
    return {key: value for key, value in values.items() if value not in (None, "", {})}


def set_or_drop(extra: dict[str, Any], key: str, value: str) -> None:
    if value:
        extra[key] = value
    else:
        extra.pop(key, None)


def read_key_values(text: str, pattern: str) -> list[tuple[int, str, str]]:
    """(line number, key, value) for each line that matches `pattern` (groups: key, value)."""
    found = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        match = re.match(pattern, line)
        if match:
            found.append((line_number, match.group(1).strip(), (match.group(2) or "").strip()))
    return found
