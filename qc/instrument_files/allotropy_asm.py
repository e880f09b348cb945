"""Running allotropy on a cell-counter export, and reading the ASM (Allotrope cell-counting
model, REC/2024/09) it returns into ParsedRows with canonical units.

   "cell counting aggregate document"
     "device system document": {"equipment serial number", "device identifier", ...}
     "cell counting document": [                      one per measurement group
       {"analyst",
        "measurement aggregate document": {"measurement document": [
          {"measurement time": ISO 8601 with offset,
           "sample document": {"sample identifier", "batch identifier",
                               "custom information document"},
           "custom information document": {...},       e.g. NC View STATUS, Vi-CELL BLU Tag
           "processed data aggregate document": {"processed data document": [
             {"viability (cell counter)": {"value", "unit": "%"},
              "viable cell density (cell counter)": {"value", "unit": "10^6 cells/mL"},
              "total cell density (cell counter)", "dead cell density (cell counter)",
              "average total cell diameter", "average live cell diameter (cell counter)",
              "total cell count", "viable cell count", "dead cell count",
              "data processing document": {"cell type processing method",
                                           "cell density dilution factor"},
              "custom information document": {...}}]},
           "error aggregate document": {"error document": [{"error", "error feature"}]}}]}}]
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import PureWindowsPath
from typing import Any

from qc.instrument_files.common import InstrumentFileError, ParsedRow, drop_none


def _allotropy_name(filename: str, extension: str) -> str:
    """allotropy picks its reader by file extension, so give it the one the format needs."""
    path = PureWindowsPath(filename or "upload")
    if path.suffix.lower() == f".{extension}":
        return path.name
    return f"{path.stem or 'upload'}.{extension}"


def run_allotropy(
    vendor: str, payload: bytes, encoding: str, filename: str, extension: str, label: str
) -> dict[str, Any]:
    """ASM dict from allotropy; every failure becomes InstrumentFileError with its message."""
    # Imported here: importing allotropy loads all of its ~70 parsers (seconds), which the
    # web process should not pay at start-up.
    from allotropy.parser_factory import Vendor
    from allotropy.to_allotrope import allotrope_from_io

    try:
        asm: dict[str, Any] = allotrope_from_io(
            io.BytesIO(payload),
            _allotropy_name(filename, extension),
            Vendor[vendor],
            default_timezone=UTC,  # files without a zone are UTC
            encoding=encoding,
        )
    except Exception as exc:  # AllotropyError, but also KeyError/IndexError/pandas errors
        raise InstrumentFileError(f"{label}: allotropy could not read the file: {exc}") from exc
    return asm


_CELLS_PER_ML_FACTOR = {
    "10^6 cells/mL": Decimal(1_000_000),
    "cells/mL": Decimal(1),
    "cell/mL": Decimal(1),
}


@dataclass(frozen=True)
class _AsmMeasurement:
    sample_id: str
    measured_at: datetime | None
    viability_pct: float | None
    viable_cells_per_ml: float | None
    total_cells_per_ml: float | None
    extra: dict[str, Any]


def _asm_value(quantity: Any) -> float | None:
    """{"value": v, "unit": u} -> float; missing, NaN ("NaN" in JSON) or non-numbers -> None."""
    if not isinstance(quantity, dict):
        return None
    value = quantity.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _asm_density(quantity: Any, label: str) -> float | None:
    value = _asm_value(quantity)
    if value is None:
        return None
    unit = quantity.get("unit")
    if unit not in _CELLS_PER_ML_FACTOR:
        raise InstrumentFileError(f"{label}: unexpected cell density unit {unit!r} in the ASM")
    return float(Decimal(repr(value)) * _CELLS_PER_ML_FACTOR[unit])


def asm_time(value: Any) -> datetime | None:
    """A time as allotropy writes it (ISO 8601) -> aware datetime; its 1970 "no time" -> None."""
    if not isinstance(value, str) or value.startswith("1970-01-01"):  # allotropy's "no time"
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _error_features(node: Any) -> set[str]:
    """Features allotropy reported as missing (it writes -0.0 in their place)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for item in node.get("error aggregate document", {}).get("error document", []):
            found.add(str(item.get("error feature", "")).lower())
        for child in node.values():
            found |= _error_features(child)
    elif isinstance(node, list):
        for child in node:
            found |= _error_features(child)
    return found


@dataclass(frozen=True)
class _Processed:
    """The first processed-data document of one measurement, and the features allotropy
    reported missing in it."""

    data: dict[str, Any]
    missing: set[str]
    label: str

    def value(self, key: str) -> float | None:
        return _asm_value(self.data.get(key))

    def density(self, key: str, feature: str) -> float | None:
        return None if feature in self.missing else _asm_density(self.data.get(key), self.label)


def _measurement_extra(
    measurement: dict[str, Any], processed: _Processed, analyst: Any
) -> dict[str, Any]:
    """Everything but the sample, time, viability and densities: counts, settings, custom."""
    sample = measurement.get("sample document", {})
    settings = processed.data.get("data processing document", {})
    custom = {
        **measurement.get("custom information document", {}),
        **sample.get("custom information document", {}),
        **processed.data.get("custom information document", {}),
    }
    counts = {
        name: (int(value) if value is not None else None)
        for name, value in (
            ("total_cell_count", processed.value("total cell count")),
            ("viable_cell_count", processed.value("viable cell count")),
            ("dead_cell_count", processed.value("dead cell count")),
        )
    }
    return drop_none(
        {
            "analyst": analyst,
            "cell_type": settings.get("cell type processing method"),
            "dilution_factor": _asm_value(settings.get("cell density dilution factor")),
            "average_diameter_um": processed.value("average total cell diameter"),
            "average_viable_diameter_um": processed.value(
                "average live cell diameter (cell counter)"
            ),
            **counts,
            "dead_cells_per_ml": processed.density(
                "dead cell density (cell counter)", "dead cell density"
            ),
            "batch_identifier": sample.get("batch identifier"),
            "custom": custom,
        }
    )


def _measurement(measurement: dict[str, Any], analyst: Any, label: str) -> _AsmMeasurement:
    sample = measurement.get("sample document", {})
    processed_docs = measurement.get("processed data aggregate document", {}).get(
        "processed data document", []
    )
    processed = _Processed(
        data=processed_docs[0] if processed_docs else {},
        missing=_error_features(measurement),
        label=label,
    )
    extra = _measurement_extra(measurement, processed, analyst)
    return _AsmMeasurement(
        sample_id=str(sample.get("sample identifier", "")),
        measured_at=asm_time(measurement.get("measurement time")),
        viability_pct=(
            None
            if "viability" in processed.missing
            else processed.value("viability (cell counter)")
        ),
        viable_cells_per_ml=processed.density(
            "viable cell density (cell counter)", "viable cell density"
        ),
        total_cells_per_ml=processed.density(
            "total cell density (cell counter)", "total cell density"
        ),
        extra=extra,
    )


def _asm_measurements(asm: dict[str, Any], label: str) -> list[_AsmMeasurement]:
    """Every measurement in the ASM, in file order, with canonical units."""
    aggregate = asm.get("cell counting aggregate document", {})
    result: list[_AsmMeasurement] = []
    for group in aggregate.get("cell counting document", []):
        analyst = group.get("analyst")
        measurements = group.get("measurement aggregate document", {}).get(
            "measurement document", []
        )
        result.extend(_measurement(measurement, analyst, label) for measurement in measurements)
    return result


def asm_serial(asm: dict[str, Any], *keys: str) -> str:
    """The instrument's serial number from the first of `keys` the device document fills."""
    device = asm.get("cell counting aggregate document", {}).get("device system document", {})
    for key in keys:
        value = str(device.get(key) or "").strip()
        if value and value.upper() != "N/A":
            return re.sub(r"^s/n[:\s]*", "", value, flags=re.IGNORECASE)
    return ""


def rows_from_asm(
    asm: dict[str, Any], label: str, sample_ids: list[str], line_numbers: list[int]
) -> list[ParsedRow]:
    """ParsedRows from the ASM; the sample ID is taken verbatim from the file.

    allotropy reads the file through pandas, whose type inference turns a sample ID "NA" into
    "nan" and an all-numeric ID column "007" into "7"; a GMP record needs the ID as written.
    Values, units and times come from the ASM.
    """
    measurements = _asm_measurements(asm, label)
    if len(measurements) != len(sample_ids):
        raise InstrumentFileError(
            f"{label}: the file has {len(sample_ids)} measurement(s) but allotropy "
            f"returned {len(measurements)}"
        )
    return [
        ParsedRow(
            row=index,
            sample_id=sample_id,
            measured_at=m.measured_at,
            total_cells_per_ml=m.total_cells_per_ml,
            viable_cells_per_ml=m.viable_cells_per_ml,
            viability_pct=m.viability_pct,
            extra={**m.extra, "line": line},
        )
        for index, (m, sample_id, line) in enumerate(
            zip(measurements, sample_ids, line_numbers, strict=True), start=1
        )
    ]
