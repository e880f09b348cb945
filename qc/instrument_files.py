"""Read cell-counter and flow-cytometry export files into plain rows.

Pure functions, no Django: ``parse_instrument_file(data, filename)`` takes the uploaded bytes
and returns a ``ParsedFile``; anything wrong with the file raises ``InstrumentFileError``
(a ``ValueError``) whose message says what is wrong.

How each format is read (project rule: allotropy where it covers the format; say why when not):

* Vi-CELL BLU summary CSV, Vi-CELL XR text file, NucleoView NC-200, NC View, Cedex HiRes:
  allotropy (``allotrope_from_io``) converts the file into the Allotrope cell-counting model
  (ASM JSON), and ``_asm_measurements`` reads sample, time, viability and densities out of it.
  Before that, ``_read_table`` / ``_read_key_values`` check the file with the csv module, so
  that a missing column or a word in a number column gets a message naming the row and the
  column (allotropy silently drops unparsable optional numbers and reports required ones
  without a row number). The same pass repairs the few quirks allotropy 0.1.150 trips on;
  each repair is commented where it is made.
* Vi-CELL BLU "detail export" (quoted multi-section CSV): own parser, ``_parse_vicell_blu_detail``.
  allotropy 0.1.150 reads only the one-table summary layout; on the detail export it fails
  with "Expected non-null value for Viability (%)" because the results sit in a later section.
* Flow-cytometry gate statistics (FlowKit gating report CSV): own parser,
  ``_parse_flow_gate_stats``; allotropy has no parser for it.

Canonical units: densities in cells/mL (Vi-CELL reports 10^6 cells/mL; allotropy's ASM always
uses 10^6 cells/mL; converted with Decimal so 1.85 becomes exactly 1850000.0), viability in %.
Times are timezone-aware: UTC when the file has no zone, the file's offset when it has one.
"""

from __future__ import annotations

import ast
import codecs
import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import PureWindowsPath
from typing import Any

# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


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
    extra: dict = field(default_factory=dict)
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


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM) or UTF-16 (BOM, or no BOM but NUL pattern).

    A file that is neither but reads cleanly as Windows-1252 text (older Windows exports,
    e.g. a lone 0xB5 micro sign) is accepted too. Raises InstrumentFileError otherwise.
    """
    return _decode(data)[0]


def detect_format(text: str, filename: str = "") -> str:
    """The format key (see FORMAT_LABELS) judged from the header content."""
    text = text.lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InstrumentFileError(f"{_file_ref(filename)}is empty")
    first = _norm(lines[0])
    header = {cell.strip() for cell in _csv_cells(first)}
    header_lower = {cell.lower() for cell in header}

    if header_lower >= _FLOW_COLUMNS:
        return "flow_gate_stats"
    if {"Sample ID", "Viability (%)", "Viable (x10^6) cells/mL"} <= header:
        return "vicell_blu_summary"
    if {"Sample ID", "Analysis date/time"} <= header and any(
        _csv_cells(_norm(line))[:1] == ["Image#"] for line in lines[1:]
    ):
        return "vicell_blu_detail"
    if {"SAMPLE ID", "INSTRUMENT", "VIABILITY (%)", "LIVE (cells/ml)"} <= header:
        return "nc_view"
    if header & {"Sample identifer", "Sample identifier"} and "Viable Cell Conc." in header:
        return "cedex_hires"
    if first.startswith(("Vi-CELL XR", "Vi-Cell XR")) or (
        any(re.match(r"Sample ID\s+:", line) for line in lines)
        and any(re.match(r"Viability \(%\)\s+:", line) for line in lines)
    ):
        return "vicell_xr_text"
    if any(re.match(r"\s*Viability \(%\)\s*(;|:\t)", line) for line in lines):
        return "nucleoview_nc200"

    supported = "; ".join(f"{label} ({key})" for key, label in FORMAT_LABELS.items())
    shown = first if len(first) <= 120 else first[:117] + "..."
    raise InstrumentFileError(
        f"unknown instrument file format{_for_file(filename)}: the first line {shown!r} "
        f"matches none of the supported formats: {supported}"
    )


def parse_instrument_file(data: bytes, filename: str = "") -> ParsedFile:
    """Parse an uploaded instrument export. Raises InstrumentFileError for any bad input."""
    text, encoding = _decode(data, filename)
    fmt = detect_format(text, filename)
    source = _Source(data=data, text=text.lstrip("\ufeff"), encoding=encoding, filename=filename)
    parsed = _PARSERS[fmt](source)
    if encoding == "cp1252":
        parsed.warnings.insert(0, "the file is not UTF-8 or UTF-16; it was read as Windows-1252")
    return parsed


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),  # "utf-16" reads the BOM and strips it
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode(data: bytes, filename: str = "") -> tuple[str, str]:
    """(text without BOM, codec name that decodes the original bytes, for allotropy)."""
    ref = _file_ref(filename)
    if not data:
        raise InstrumentFileError(f"{ref}is empty")
    if data.startswith(b"PK\x03\x04"):
        raise InstrumentFileError(
            f"{ref}is a ZIP/Excel workbook (.xlsx), not a text export: export it as CSV or TXT"
        )
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise InstrumentFileError(
            f"{ref}is an old Excel workbook (.xls), not a text export: export it as CSV or TXT"
        )
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise InstrumentFileError(
                    f"unreadable encoding: {ref}starts with a {codec.upper()} byte-order mark "
                    f"but is not valid {codec.upper()} ({exc.reason} at byte {exc.start})"
                ) from exc
            return text.lstrip("\ufeff"), codec
    utf16 = _sniff_utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError as exc:
            raise InstrumentFileError(
                f"unreadable encoding: {ref}looks like {utf16.upper()} without a byte-order "
                f"mark but is not valid {utf16.upper()} ({exc.reason} at byte {exc.start})"
            ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = _decode_windows_text(data)
        if text is None:
            raise InstrumentFileError(
                f"unreadable encoding: {ref}is not UTF-8 or UTF-16 text (invalid byte "
                f"0x{data[exc.start]:02x} at offset {exc.start}); is it a binary file?"
            ) from exc
        return text, "cp1252"
    if "\x00" in text:
        raise InstrumentFileError(
            f"unreadable encoding: {ref}contains NUL bytes; it is a binary file, not a text export"
        )
    return text, "utf-8"


def _sniff_utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text of mostly ASCII characters has a NUL in every other byte."""
    sample = data[:4096]
    if len(data) % 2 or len(sample) < 4:
        return None
    half = len(sample) // 2
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    if odd_nuls >= 0.3 * half and even_nuls <= 0.05 * half:
        return "utf-16-le"
    if even_nuls >= 0.3 * half and odd_nuls <= 0.05 * half:
        return "utf-16-be"
    return None


def _decode_windows_text(data: bytes) -> str | None:
    """Windows-1252 text: only if it reads cleanly and looks like text, not binary noise."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    if controls or non_ascii > 0.05 * len(text):
        return None
    return text


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    data: bytes  # the original bytes
    text: str  # decoded, BOM removed
    encoding: str  # codec that decodes `data`
    filename: str


def _file_ref(filename: str) -> str:
    return f"file '{filename}' " if filename else "the file "


def _for_file(filename: str) -> str:
    return f" for '{filename}'" if filename else ""


def _norm(text: str) -> str:
    """NFKC folds the micro sign U+00B5 into Greek mu U+03BC, as allotropy does."""
    return unicodedata.normalize("NFKC", text)


def _csv_cells(line: str) -> list[str]:
    return next(csv.reader([line]), [])


_THOUSANDS_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?:\D|$))")


def _clean_number(raw: str) -> str | None:
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


def _number(raw: str, where: str, column: str) -> float:
    cleaned = _clean_number(raw)
    if cleaned is None:
        raise InstrumentFileError(f"{where}: value {raw.strip()!r} in {column!r} is not a number")
    return float(cleaned)


def _times_million(value: float | None) -> float | None:
    """10^6 cells/mL -> cells/mL, in decimal so that 1.85 gives 1850000.0 exactly."""
    if value is None:
        return None
    return float(Decimal(repr(value)) * 1_000_000)


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "", {})}


def _set_or_drop(extra: dict[str, Any], key: str, value: str) -> None:
    if value:
        extra[key] = value
    else:
        extra.pop(key, None)


def _allotropy_name(filename: str, extension: str) -> str:
    """allotropy picks its reader by file extension, so give it the one the format needs."""
    path = PureWindowsPath(filename or "upload")
    if path.suffix.lower() == f".{extension}":
        return path.name
    return f"{path.stem or 'upload'}.{extension}"


def _run_allotropy(
    vendor: str, payload: bytes, encoding: str, filename: str, extension: str, label: str
) -> dict[str, Any]:
    """ASM dict from allotropy; every failure becomes InstrumentFileError with its message."""
    # Imported here: importing allotropy loads all of its ~70 parsers (seconds), which the
    # web process should not pay at start-up.
    from allotropy.parser_factory import Vendor
    from allotropy.to_allotrope import allotrope_from_io

    try:
        return allotrope_from_io(
            io.BytesIO(payload),
            _allotropy_name(filename, extension),
            Vendor[vendor],
            default_timezone=UTC,  # files without a zone are UTC
            encoding=encoding,
        )
    except Exception as exc:  # AllotropyError, but also KeyError/IndexError/pandas errors
        raise InstrumentFileError(f"{label}: allotropy could not read the file: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Reading the ASM (Allotrope cell-counting model, REC/2024/09) that allotropy returns
# --------------------------------------------------------------------------------------------
#
#   "cell counting aggregate document"
#     "device system document": {"equipment serial number", "device identifier", ...}
#     "cell counting document": [                      one per measurement group
#       {"analyst",
#        "measurement aggregate document": {"measurement document": [
#          {"measurement time": ISO 8601 with offset,
#           "sample document": {"sample identifier", "batch identifier",
#                               "custom information document"},
#           "custom information document": {...},       e.g. NC View STATUS, Vi-CELL BLU Tag
#           "processed data aggregate document": {"processed data document": [
#             {"viability (cell counter)": {"value", "unit": "%"},
#              "viable cell density (cell counter)": {"value", "unit": "10^6 cells/mL"},
#              "total cell density (cell counter)", "dead cell density (cell counter)",
#              "average total cell diameter", "average live cell diameter (cell counter)",
#              "total cell count", "viable cell count", "dead cell count",
#              "data processing document": {"cell type processing method",
#                                           "cell density dilution factor"},
#              "custom information document": {...}}]},
#           "error aggregate document": {"error document": [{"error", "error feature"}]}}]}}]

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


def _asm_time(value: Any) -> datetime | None:
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


def _asm_measurements(asm: dict[str, Any], label: str) -> list[_AsmMeasurement]:
    """Every measurement in the ASM, in file order, with canonical units."""
    aggregate = asm.get("cell counting aggregate document", {})
    result: list[_AsmMeasurement] = []
    for group in aggregate.get("cell counting document", []):
        analyst = group.get("analyst")
        measurements = group.get("measurement aggregate document", {}).get(
            "measurement document", []
        )
        for measurement in measurements:
            sample = measurement.get("sample document", {})
            processed_docs = measurement.get("processed data aggregate document", {}).get(
                "processed data document", []
            )
            processed = processed_docs[0] if processed_docs else {}
            settings = processed.get("data processing document", {})
            missing = _error_features(measurement)

            def density(key: str, feature: str, processed=processed, missing=missing):
                return None if feature in missing else _asm_density(processed.get(key), label)

            custom = {
                **measurement.get("custom information document", {}),
                **sample.get("custom information document", {}),
                **processed.get("custom information document", {}),
            }
            counts = {
                name: (int(value) if value is not None else None)
                for name, value in (
                    ("total_cell_count", _asm_value(processed.get("total cell count"))),
                    ("viable_cell_count", _asm_value(processed.get("viable cell count"))),
                    ("dead_cell_count", _asm_value(processed.get("dead cell count"))),
                )
            }
            extra = _drop_none(
                {
                    "analyst": analyst,
                    "cell_type": settings.get("cell type processing method"),
                    "dilution_factor": _asm_value(settings.get("cell density dilution factor")),
                    "average_diameter_um": _asm_value(processed.get("average total cell diameter")),
                    "average_viable_diameter_um": _asm_value(
                        processed.get("average live cell diameter (cell counter)")
                    ),
                    **counts,
                    "dead_cells_per_ml": density(
                        "dead cell density (cell counter)", "dead cell density"
                    ),
                    "batch_identifier": sample.get("batch identifier"),
                    "custom": custom,
                }
            )
            result.append(
                _AsmMeasurement(
                    sample_id=str(sample.get("sample identifier", "")),
                    measured_at=_asm_time(measurement.get("measurement time")),
                    viability_pct=(
                        None
                        if "viability" in missing
                        else _asm_value(processed.get("viability (cell counter)"))
                    ),
                    viable_cells_per_ml=density(
                        "viable cell density (cell counter)", "viable cell density"
                    ),
                    total_cells_per_ml=density(
                        "total cell density (cell counter)", "total cell density"
                    ),
                    extra=extra,
                )
            )
    return result


def _asm_serial(asm: dict[str, Any], *keys: str) -> str:
    device = asm.get("cell counting aggregate document", {}).get("device system document", {})
    for key in keys:
        value = str(device.get(key) or "").strip()
        if value and value.upper() != "N/A":
            return re.sub(r"^s/n[:\s]*", "", value, flags=re.IGNORECASE)
    return ""


def _rows_from_asm(
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


# --------------------------------------------------------------------------------------------
# Checking a one-table CSV before allotropy reads it
# --------------------------------------------------------------------------------------------


@dataclass
class _Table:
    header: list[str]
    records: list[dict[str, str]]  # column -> cell text (numbers cleaned)
    lines: list[int]  # file line of each record
    changed: bool  # cleaning changed the table: give allotropy the cleaned copy

    def to_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header)
        for record in self.records:
            writer.writerow([record.get(column, "") for column in self.header])
        return out.getvalue().encode("utf-8")


def _resolve(header: list[str], name: str | tuple[str, ...]) -> str | None:
    for option in (name,) if isinstance(name, str) else name:
        if option in header:
            return option
    return None


def _read_table(
    text: str,
    label: str,
    *,
    required: list[str | tuple[str, ...]],
    not_empty: list[str | tuple[str, ...]] = (),
    numbers: list[str | tuple[str, ...]] = (),
    fill_empty: dict[str, str] | None = None,
    lower_header: bool = False,
) -> _Table:
    """Check a one-header-row CSV and return its records.

    `required` columns must exist (alternatives as a tuple), `not_empty` ones must have a value
    in every row, `numbers` must hold numbers when they have a value ('274 000' and '87.00%'
    are accepted and cleaned). `fill_empty` gives a placeholder for empty metadata cells that
    allotropy insists on.
    """
    rows = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    raw_header: list[str] = []
    records: list[dict[str, str]] = []
    lines: list[int] = []
    changed = False
    try:
        for cells in rows:
            line = rows.line_num
            if not any(cell.strip() for cell in cells):
                changed = changed or bool(cells)  # pandas keeps ",,," rows; drop them
                continue
            if header is None:
                raw_header = cells
                header = [_norm(cell).strip() for cell in cells]
                if lower_header:
                    header = [cell.lower() for cell in header]
                # allotropy folds the micro sign itself; only padding needs a cleaned copy
                changed = any(cell != cell.strip() for cell in raw_header)
                for name in required:
                    if _resolve(header, name) is None:
                        shown = name if isinstance(name, str) else " or ".join(name)
                        raise InstrumentFileError(f"{label}: missing column {shown!r}")
                continue
            where = f"{label}: row {len(records) + 1} (line {line})"
            if len(cells) < len(header):
                raise InstrumentFileError(
                    f"{where}: only {len(cells)} of {len(header)} columns; the file looks truncated"
                )
            if len(cells) > len(header):
                if any(cell.strip() for cell in cells[len(header) :]):
                    raise InstrumentFileError(
                        f"{where}: {len(cells)} values but the header has {len(header)} columns"
                    )
                cells, changed = cells[: len(header)], True
            record = dict(zip(header, cells, strict=True))
            for name in numbers:
                column = _resolve(header, name)
                if column is None or not record[column].strip():
                    continue
                cleaned = _clean_number(record[column])
                if cleaned is None:
                    _number(record[column], where, column)  # raises with the message
                if cleaned != record[column]:
                    record[column], changed = cleaned, True
            for name in not_empty:
                column = _resolve(header, name)
                if column is not None and not record[column].strip():
                    raise InstrumentFileError(f"{where}: no value in {column!r}")
            for column, placeholder in (fill_empty or {}).items():
                if column in record and not record[column].strip():
                    record[column], changed = placeholder, True
            records.append(record)
            lines.append(line)
    except csv.Error as exc:
        raise InstrumentFileError(f"{label}: line {rows.line_num}: broken CSV ({exc})") from exc
    if header is None:
        raise InstrumentFileError(f"{label}: the file is empty")
    if not records:
        raise InstrumentFileError(f"{label}: no measurements (a header but no data rows)")
    return _Table(header=header, records=records, lines=lines, changed=changed)


def _payload(source: _Source, table: _Table | None = None) -> tuple[bytes, str]:
    """Bytes and encoding to hand to allotropy: the original file when nothing was cleaned."""
    if table is not None and table.changed:
        return table.to_csv(), "utf-8"
    return source.data, source.encoding


# --------------------------------------------------------------------------------------------
# Formats read through allotropy
# --------------------------------------------------------------------------------------------


def _parse_vicell_blu_summary(source: _Source) -> ParsedFile:
    fmt = "vicell_blu_summary"
    label = FORMAT_LABELS[fmt]
    table = _read_table(
        source.text,
        label,
        required=[
            "Sample ID",
            "Viability (%)",
            "Viable (x10^6) cells/mL",
            "Analysis date/time",
        ],
        not_empty=["Sample ID", "Viability (%)", "Viable (x10^6) cells/mL", "Analysis date/time"],
        numbers=[
            "Cell count",
            "Viable cells",
            "Total (x10^6) cells/mL",
            "Viable (x10^6) cells/mL",
            "Viability (%)",
            "Average diameter (μm)",
            "Average viable diameter (μm)",
            "Dilution",
        ],
    )
    # The original bytes with their encoding (allotropy's Vi-CELL BLU reader honours it,
    # UTF-16 included) unless cleaning changed something.
    payload, encoding = _payload(source, table)
    asm = _run_allotropy("BECKMAN_VI_CELL_BLU", payload, encoding, source.filename, "csv", label)
    rows = _rows_from_asm(asm, label, [r["Sample ID"] for r in table.records], table.lines)
    for row, record in zip(rows, table.records, strict=True):
        if record.get("Tag", "").strip():
            row.extra["tag"] = record["Tag"].strip()
    return ParsedFile(fmt, label, "", rows, [])


_XR_DATE_KEYS = ("RunDate", "Sample date/time", "Sample data/time")  # "data" (sic) in some versions


def _read_key_values(text: str, pattern: str) -> list[tuple[int, str, str]]:
    """(line number, key, value) for each line that matches `pattern` (groups: key, value)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(pattern, line)
        if match:
            found.append((number, match.group(1).strip(), (match.group(2) or "").strip()))
    return found


def _parse_vicell_xr_text(source: _Source) -> ParsedFile:
    fmt = "vicell_xr_text"
    label = FORMAT_LABELS[fmt]
    # "Key : Value" lines; section titles ("Results:") have no space before the colon.
    pairs = _read_key_values(source.text, r"^(\S.*?)\s+:(?:\s(.*)|)$")
    if not pairs:
        raise InstrumentFileError(f"{label}: no measurements (no 'Key : Value' lines)")
    values = {key: (line, value) for line, key, value in pairs}
    date_key = next((key for key in _XR_DATE_KEYS if key in values), "RunDate")
    required = ("Sample ID", date_key, "Viability (%)", "Total viable cells / ml (x 10^6)")
    for key in required:
        if key not in values:
            raise InstrumentFileError(f"{label}: missing line '{key} : ...'")
    if not (values["Viability (%)"][1] or values["Total viable cells / ml (x 10^6)"][1]):
        raise InstrumentFileError(f"{label}: no measurements (the results are empty)")
    for key in required:
        line, value = values[key]
        if not value:
            raise InstrumentFileError(f"{label}: row 1 (line {line}): no value in {key!r}")
    replacements: dict[int, str] = {}
    for key in (
        "Viability (%)",
        "Total cells / ml (x 10^6)",
        "Total viable cells / ml (x 10^6)",
        "Average diameter (microns)",
        "Total cells",
        "Viable cells",
        "Nonviable cells",
        "Dilution",
    ):
        line, value = values.get(key, (0, ""))
        if value:
            cleaned = _clean_number(value)
            if cleaned is None:
                _number(value, f"{label}: row 1 (line {line})", key)
            if cleaned != value:
                replacements[line] = f"{key} : {cleaned}"
    line, run_date = values[date_key]
    try:
        # allotropy parses this with "%d %b %Y  %I:%M:%S %p" and silently drops a mismatch
        datetime.strptime(" ".join(run_date.split()), "%d %b %Y %I:%M:%S %p")
    except ValueError as exc:
        raise InstrumentFileError(
            f"{label}: row 1 (line {line}): {date_key} {run_date!r} is not a date like "
            "'29 Sep 2023  5:21:32 AM'"
        ) from exc

    if replacements:
        lines = source.text.splitlines()
        for number, new_line in replacements.items():
            lines[number - 1] = new_line
        payload, encoding = "\n".join(lines).encode("utf-8"), "utf-8"
    else:
        payload, encoding = source.data, source.encoding  # allotropy decodes with `encoding`
    asm = _run_allotropy("BECKMAN_VI_CELL_XR", payload, encoding, source.filename, "txt", label)
    rows = _rows_from_asm(asm, label, [values["Sample ID"][1]], [values["Sample ID"][0]])
    # allotropy writes its default "Vi-Cell XR" as analyst; the file's "User" line is the truth
    _set_or_drop(rows[0].extra, "analyst", values.get("User", (0, ""))[1])
    return ParsedFile(fmt, label, _asm_serial(asm, "equipment serial number"), rows, [])


_NC200_LINE = r"^([^;\t]*?)\s*(?:;|:\t)\s*([^;]*?)\s*;?\s*$"
_CHECKSUM_LINE = re.compile(r"^\s*//\s*\[([0-9A-Fa-f]+)\]\s*$")


def _parse_nucleoview_nc200(source: _Source) -> ParsedFile:
    fmt = "nucleoview_nc200"
    label = FORMAT_LABELS[fmt]
    lines = source.text.splitlines()
    pairs = _read_key_values(source.text, _NC200_LINE)
    values = {key: (line, value) for line, key, value in pairs if key}
    line, viability = values.get("Viability (%)", (0, ""))
    if not viability:
        raise InstrumentFileError(f"{label}: no measurements ('Viability (%)' has no value)")
    if "Sample ID" not in values and "Image" not in values:
        raise InstrumentFileError(f"{label}: missing line 'Image;...' (or 'Sample ID;...')")
    where = f"{label}: row 1"
    for key in (
        "Viability (%)",
        "Live (cells/ml)",
        "Dead (cells/ml)",
        "Total (cells/ml)",
        "Estimated cell diameter (um)",
        "Multiplication factor",
    ):
        line, value = values.get(key, (0, ""))
        if value:
            cleaned = _clean_number(value)
            if cleaned is None:
                _number(value, f"{where} (line {line})", key)
            if cleaned != value:
                lines[line - 1] = f"{key};{cleaned};"

    if "Sample ID" in values:
        sample_line, sample_id = values["Sample ID"]
    else:
        # The sample ID is what follows "<date>-<counter>-<letter>-" in the image name.
        # allotropy 0.1.150 takes Image.split("-")[3], which cuts an ID that contains dashes
        # ("20260113-0042-c-CNK-260006-D07" gives "CNK") and fails on a name with fewer
        # dashes; it prefers a "Sample ID" line, so add one carrying the whole tail.
        sample_line, image = values["Image"]
        parts = image.split("-", 3)
        sample_id = parts[3] if len(parts) == 4 and parts[3] else image
        lines.insert(sample_line, f"Sample ID;{sample_id};")
    if not sample_id:
        raise InstrumentFileError(f"{where} (line {sample_line}): no sample ID")

    # The export ends with a checksum line ("//[ECEC5A41]"); allotropy drops the last line
    # of the file for that reason, so a file without one would lose its last value: add a
    # stand-in. (The checksum algorithm is ChemoMetec's; it is kept, not verified.)
    content = [line for line in lines if line.strip()]
    checksum = _CHECKSUM_LINE.match(content[-1]) if content else None
    if not checksum:
        lines.append("//")
    # allotropy's NucleoView reader decodes UTF-8 whatever encoding it is given: transcode.
    payload = "\n".join(lines).encode("utf-8")
    asm = _run_allotropy("CHEMOMETEC_NUCLEOVIEW", payload, "utf-8", source.filename, "csv", label)
    rows = _rows_from_asm(asm, label, [sample_id], [sample_line])
    if checksum:
        rows[0].extra["checksum"] = checksum.group(1)
    if "Image" in values:
        rows[0].extra["image"] = values["Image"][1]
    # allotropy writes its default "NC-200" as analyst when there is no Operator line
    _set_or_drop(rows[0].extra, "analyst", values.get("Operator", (0, ""))[1])
    warnings = [] if checksum else [f"{label}: no checksum line at the end of the file"]
    serial = _asm_serial(asm, "equipment serial number")
    return ParsedFile(fmt, label, serial, rows, warnings)


def _parse_nc_view(source: _Source) -> ParsedFile:
    fmt = "nc_view"
    label = FORMAT_LABELS[fmt]
    table = _read_table(
        source.text,
        label,
        required=[
            "NAME",
            "SAMPLE ID",
            "INSTRUMENT",
            "OPERATOR",
            "TOTAL (cells/ml)",
            "LIVE (cells/ml)",
            "DEAD (cells/ml)",
            "VIABILITY (%)",
        ],
        # allotropy 0.1.150 fails with UnboundLocalError when TOTAL or DEAD is empty
        not_empty=[
            "NAME",
            "SAMPLE ID",
            "TOTAL (cells/ml)",
            "LIVE (cells/ml)",
            "DEAD (cells/ml)",
            "VIABILITY (%)",
        ],
        numbers=[
            "TOTAL (cells/ml)",
            "LIVE (cells/ml)",
            "DEAD (cells/ml)",
            "VIABILITY (%)",
            "DIAMETER (μm)",
            "AGGREGATES (%)",
            "DEBRIS INDEX",
            "DILUTION FACTOR",
        ],
        fill_empty={"OPERATOR": "N/A", "INSTRUMENT": "N/A"},  # metadata allotropy requires
    )
    for index, (record, line) in enumerate(zip(table.records, table.lines, strict=True), 1):
        # The run date comes from NAME ("20240219-00019"); the file has no time of day.
        if not re.match(r"^\d{8}(-|$)", record["NAME"].strip()):
            raise InstrumentFileError(
                f"{label}: row {index} (line {line}): NAME {record['NAME']!r} does not start "
                "with the run date (YYYYMMDD-nnnnn)"
            )
    # allotropy's NC View reader ignores the encoding argument (reads UTF-8): transcode.
    payload = table.to_csv() if table.changed else source.text.encode("utf-8")
    asm = _run_allotropy("CHEMOMETEC_NC_VIEW", payload, "utf-8", source.filename, "csv", label)
    rows = _rows_from_asm(asm, label, [r["SAMPLE ID"] for r in table.records], table.lines)
    warnings = []
    for row, record in zip(rows, table.records, strict=True):
        status = record.get("STATUS", "").strip()
        row.extra["measured_at_date_only"] = True
        if status:
            row.extra["status"] = status
            if status.upper() != "OK":
                warnings.append(f"row {row.row} ({row.sample_id}): {status}")
    return ParsedFile(fmt, label, _asm_serial(asm, "equipment serial number"), rows, warnings)


def _parse_cedex_hires(source: _Source) -> ParsedFile:
    fmt = "cedex_hires"
    label = FORMAT_LABELS[fmt]
    sample = ("Sample identifier", "Sample identifer")  # "identifer" (sic) in real exports
    table = _read_table(
        source.text,
        label,
        required=[
            sample,
            "Date finished",
            "Viability",
            "Viable Cell Conc.",
            "Cedex ID",
            "System name",
            "System description",
        ],
        not_empty=[sample, "Date finished", "Viability", "Viable Cell Conc."],
        numbers=[
            "Viability",
            "Viable Cell Conc.",
            "Total Cell Conc.",
            "Dead Cell Conc.",
            "Viable Cell Count",
            "Total Cell Count",
            "Dead Cell Count",
            "Avg Diameter",
            "Dilution",
        ],
        # allotropy reads these device fields from the first row and rejects empty ones
        fill_empty={"Cedex ID": "N/A", "System name": "N/A", "System description": "N/A"},
    )
    sample_column = _resolve(table.header, sample) or sample[0]
    # allotropy's Cedex reader always decodes UTF-8: transcode.
    payload = table.to_csv() if table.changed else source.text.encode("utf-8")
    asm = _run_allotropy("ROCHE_CEDEX_HIRES", payload, "utf-8", source.filename, "csv", label)
    rows = _rows_from_asm(asm, label, [r[sample_column] for r in table.records], table.lines)
    for row in rows:
        draw = row.extra.get("custom", {}).get("sample draw time")
        if draw:
            row.extra["sample_draw_time"] = draw
    # The Cedex ID is the instrument's serial number.
    serial = _asm_serial(asm, "equipment serial number", "device identifier")
    return ParsedFile(fmt, label, serial, rows, [])


# --------------------------------------------------------------------------------------------
# Vi-CELL BLU detail export: own parser (allotropy 0.1.150 reads only the summary layout)
# --------------------------------------------------------------------------------------------
#
# Sections, each a header row then data rows, found by the header's first cell:
#   "Sample ID"    settings of the sample (cell type, analysis date/time, dilution, ...)
#   "Part number"  reagent(s): part, lot, expiration
#   "Image#"       one row per image, then an empty row and the "Total" row = the result
# A file may hold several samples one after the other.

_VICELL_DATE_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
)


def _vicell_time(raw: str, where: str, column: str) -> datetime:
    value = " ".join(raw.split())
    for pattern in _VICELL_DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise InstrumentFileError(
        f"{where}: value {raw!r} in {column!r} is not a date like '2/11/2026 3:07:45 PM'"
    )


def _parse_vicell_blu_detail(source: _Source) -> ParsedFile:
    fmt = "vicell_blu_detail"
    label = FORMAT_LABELS[fmt]
    reader = csv.reader(io.StringIO(source.text))
    try:
        numbered = [(reader.line_num, cells) for cells in reader]
    except csv.Error as exc:
        raise InstrumentFileError(f"{label}: line {reader.line_num}: broken CSV ({exc})") from exc

    blocks: list[dict[str, Any]] = []
    section = ""
    header: list[str] = []
    for line, cells in numbered:
        if not any(cell.strip() for cell in cells):
            continue
        first = _norm(cells[0]).strip()
        if first in ("Sample ID", "Part number", "Image#"):
            section, header = first, [_norm(cell).strip() for cell in cells]
            if first == "Sample ID":
                blocks.append({"line": line, "settings": None, "reagents": [], "images": 0})
            elif not blocks:
                raise InstrumentFileError(f"{label}: line {line}: {first!r} before 'Sample ID'")
            continue
        if not blocks:
            raise InstrumentFileError(f"{label}: line {line}: data before the 'Sample ID' header")
        block = blocks[-1]
        where = f"{label}: row {len(blocks)} (line {line})"
        if len(cells) < len(header):
            raise InstrumentFileError(
                f"{where}: only {len(cells)} of {len(header)} columns; the file looks truncated"
            )
        record = dict(zip(header, cells, strict=False))
        if section == "Sample ID":
            block["settings"], block["settings_line"] = record, line
        elif section == "Part number":
            block["reagents"].append(_drop_none({k: v.strip() for k, v in record.items()}))
        elif section == "Image#" and first == "Total":
            block["total"], block["total_line"] = record, line
        elif section == "Image#":
            block["images"] += 1

    rows: list[ParsedRow] = []
    for index, block in enumerate(blocks, start=1):
        settings = block["settings"]
        if settings is None:
            raise InstrumentFileError(
                f"{label}: row {index} (line {block['line']}): no settings row under 'Sample ID'"
            )
        if "total" not in block:
            raise InstrumentFileError(
                f"{label}: row {index} ({settings.get('Sample ID', '')!r}): no 'Total' result "
                "row after the image rows; the file looks truncated"
            )
        total, where = block["total"], f"{label}: row {index} (line {block['total_line']})"
        for column in ("Viability (%)", "Viable (x10^6) cells/mL"):
            if column not in total:
                raise InstrumentFileError(f"{label}: missing column {column!r} in the image table")
            if not total[column].strip():
                raise InstrumentFileError(f"{where}: no value in {column!r}")

        def num(column: str, total=total, where=where) -> float | None:
            raw = total.get(column, "").strip()
            return _number(raw, where, column) if raw else None

        sample_id = settings.get("Sample ID", "").strip()
        settings_where = f"{label}: row {index} (line {block['settings_line']})"
        if not sample_id:
            raise InstrumentFileError(f"{settings_where}: no value in 'Sample ID'")
        analysed = settings.get("Analysis date/time", "").strip()
        if not analysed:
            raise InstrumentFileError(f"{settings_where}: no value in 'Analysis date/time'")
        dilution = settings.get("Dilution", "").strip()
        counts = {
            key: (int(value) if value is not None else None)
            for key, value in (
                ("total_cell_count", num("Cell count")),
                ("viable_cell_count", num("Viable cells")),
            )
        }
        extra = _drop_none(
            {
                "analyst": settings.get("Analysis by", "").strip(),
                "cell_type": settings.get("Cell type", "").strip(),
                "dilution_factor": _number(dilution, settings_where, "Dilution")
                if dilution
                else None,
                "average_diameter_um": num("Average diameter (μm)"),
                "average_viable_diameter_um": num("Average viable diameter (μm)"),
                **counts,
                "images": block["images"],
                "tag": settings.get("Tag", "").strip(),
                "reanalysed_at": settings.get("Reanalysis date/time", "").strip(),
                "reagents": block["reagents"],
                "line": block["total_line"],
            }
        )
        rows.append(
            ParsedRow(
                row=index,
                sample_id=sample_id,
                measured_at=_vicell_time(analysed, settings_where, "Analysis date/time"),
                total_cells_per_ml=_times_million(num("Total (x10^6) cells/mL")),
                viable_cells_per_ml=_times_million(num("Viable (x10^6) cells/mL")),
                viability_pct=num("Viability (%)"),
                extra=extra,
            )
        )
    if not rows:
        raise InstrumentFileError(f"{label}: no measurements")
    return ParsedFile(fmt, label, "", rows, [])


# --------------------------------------------------------------------------------------------
# Flow-cytometry gate statistics: own parser (csv module; allotropy does not cover it)
# --------------------------------------------------------------------------------------------
#
# FlowKit's gating report: sample, gate_path, gate_name, [gate_type, quadrant_parent, parent,]
# count, absolute_percent, relative_percent[, level]. FlowKit's gate_path is the tuple of the
# gate's ancestors, written by pandas as "('root', 'Lymphocytes')"; slash form
# ("/root/Lymphocytes") is accepted too. ParsedRow.gate_path is the full path including the
# gate itself ("/root/Lymphocytes/CD56+CD3-/CAR+"); extra["parent_path"] the ancestors.

_FLOW_COLUMNS = {
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


def _parse_flow_gate_stats(source: _Source) -> ParsedFile:
    fmt = "flow_gate_stats"
    label = FORMAT_LABELS[fmt]
    table = _read_table(
        source.text,
        label,
        required=sorted(_FLOW_COLUMNS),
        not_empty=["sample", "gate_name", "count", "relative_percent"],
        numbers=["count", "absolute_percent", "relative_percent"],
        lower_header=True,
    )
    rows = []
    for index, (record, line) in enumerate(zip(table.records, table.lines, strict=True), 1):
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
        known = _FLOW_COLUMNS | {"", "unnamed: 0"}  # "" / "Unnamed: 0": a pandas index column
        extra = _drop_none(
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
        rows.append(
            ParsedRow(
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
        )
    return ParsedFile(fmt, label, "", rows, [])


_PARSERS = {
    "vicell_blu_summary": _parse_vicell_blu_summary,
    "vicell_blu_detail": _parse_vicell_blu_detail,
    "vicell_xr_text": _parse_vicell_xr_text,
    "nucleoview_nc200": _parse_nucleoview_nc200,
    "nc_view": _parse_nc_view,
    "cedex_hires": _parse_cedex_hires,
    "flow_gate_stats": _parse_flow_gate_stats,
}
