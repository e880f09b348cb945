"""Beckman Coulter Vi-CELL exports: the BLU summary CSV (own lean reader, allotropy for the
files it leaves aside: see ``vicell_blu_lean``), the XR sample text file (through allotropy:
one sample per file, so allotropy's cost per row does not matter), and the BLU detail export
(own parser: allotropy 0.1.150 reads only the summary layout, and fails on the detail export
with "Expected non-null value for Viability (%)" because the results sit in a later section).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

from qc.instrument_files.allotropy_asm import asm_serial, rows_from_asm, run_allotropy
from qc.instrument_files.common import (
    FORMAT_LABELS,
    InstrumentFileError,
    ParsedFile,
    ParsedRow,
    Source,
    clean_number,
    drop_none,
    norm,
    not_a_number,
    read_key_values,
    read_number,
    set_or_drop,
    times_million,
)
from qc.instrument_files.tables import Table, payload, read_table
from qc.instrument_files.vicell_blu_lean import rows_without_allotropy

# --------------------------------------------------------------------- BLU summary CSV


def blu_summary_table(text: str) -> Table:
    """The summary's rows, checked: required columns and values, numbers in number columns."""
    return read_table(
        text,
        FORMAT_LABELS["vicell_blu_summary"],
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


def parse_vicell_blu_summary(source: Source, *, reader: str = "lean") -> ParsedFile:
    """`reader` "lean" reads the rows itself when it can give exactly allotropy's rows
    (``vicell_blu_lean``: allotropy was nearly all of the time and memory of a large file)
    and hands the file to allotropy otherwise; "allotropy" always uses allotropy."""
    fmt = "vicell_blu_summary"
    label = FORMAT_LABELS[fmt]
    table = blu_summary_table(source.text)
    rows = rows_without_allotropy(table) if reader == "lean" else None
    if rows is None:
        rows = _blu_summary_through_allotropy(source, table, label)
    for row, record in zip(rows, table.records, strict=True):
        # The analyst and cell type as written: allotropy turns an empty cell into "nan"
        # and a missing column into its default analyst "Vi-CELL".
        for key, column in (("analyst", "Analysis by"), ("cell_type", "Cell type")):
            set_or_drop(row.extra, key, record.get(column, "").strip())
        if record.get("Tag", "").strip():
            row.extra["tag"] = record["Tag"].strip()
    return ParsedFile(fmt, label, "", rows, [])


def _blu_summary_through_allotropy(source: Source, table: Table, label: str) -> list[ParsedRow]:
    # The original bytes with their encoding (allotropy's Vi-CELL BLU reader honours it,
    # UTF-16 included) unless cleaning changed something.
    data, encoding = payload(source, table)
    asm = run_allotropy("BECKMAN_VI_CELL_BLU", data, encoding, source.filename, "csv", label)
    return rows_from_asm(asm, label, [r["Sample ID"] for r in table.records], table.lines)


# ------------------------------------------------------------------- XR sample text file

_XR_DATE_KEYS = ("RunDate", "Sample date/time", "Sample data/time")  # "data" (sic) in some versions
_XR_NUMBERS = (
    "Viability (%)",
    "Total cells / ml (x 10^6)",
    "Total viable cells / ml (x 10^6)",
    "Average diameter (microns)",
    "Total cells",
    "Viable cells",
    "Nonviable cells",
    "Dilution",
)


def _xr_number_repairs(values: dict[str, tuple[int, str]], label: str) -> dict[int, str]:
    """Line number -> the line rewritten with its number cleaned, for the lines that need it."""
    replacements: dict[int, str] = {}
    for key in _XR_NUMBERS:
        line, value = values.get(key, (0, ""))
        if value:
            cleaned = clean_number(value)
            if cleaned is None:
                raise not_a_number(value, f"{label}: row 1 (line {line})", key)
            if cleaned != value:
                replacements[line] = f"{key} : {cleaned}"
    return replacements


def _check_xr_run_date(values: dict[str, tuple[int, str]], date_key: str, label: str) -> None:
    line, run_date = values[date_key]
    try:
        # allotropy parses this with "%d %b %Y  %I:%M:%S %p" and silently drops a mismatch
        datetime.strptime(" ".join(run_date.split()), "%d %b %Y %I:%M:%S %p")
    except ValueError as exc:
        raise InstrumentFileError(
            f"{label}: row 1 (line {line}): {date_key} {run_date!r} is not a date like "
            "'29 Sep 2023  5:21:32 AM'"
        ) from exc


def parse_vicell_xr_text(source: Source) -> ParsedFile:
    fmt = "vicell_xr_text"
    label = FORMAT_LABELS[fmt]
    # "Key : Value" lines; section titles ("Results:") have no space before the colon.
    pairs = read_key_values(source.text, r"^(\S.*?)\s+:(?:\s(.*)|)$")
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
    replacements = _xr_number_repairs(values, label)
    _check_xr_run_date(values, date_key, label)

    if replacements:
        lines = source.text.splitlines()
        for line_number, new_line in replacements.items():
            lines[line_number - 1] = new_line
        data, encoding = "\n".join(lines).encode("utf-8"), "utf-8"
    else:
        data, encoding = source.data, source.encoding  # allotropy decodes with `encoding`
    asm = run_allotropy("BECKMAN_VI_CELL_XR", data, encoding, source.filename, "txt", label)
    rows = rows_from_asm(asm, label, [values["Sample ID"][1]], [values["Sample ID"][0]])
    # allotropy writes its default "Vi-Cell XR" as analyst; the file's "User" line is the truth
    set_or_drop(rows[0].extra, "analyst", values.get("User", (0, ""))[1])
    return ParsedFile(fmt, label, asm_serial(asm, "equipment serial number"), rows, [])


# --------------------------------------------------------------------- BLU detail export
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


@dataclass
class _Sample:
    """One sample of a detail export: its sections as read, in file order."""

    line: int  # of its "Sample ID" header
    settings: dict[str, str] | None = None
    settings_line: int = 0
    reagents: list[dict[str, str]] = field(default_factory=list)
    images: int = 0
    total: dict[str, str] | None = None
    total_line: int = 0


def _detail_samples(text: str, label: str) -> list[_Sample]:
    reader = csv.reader(io.StringIO(text))
    try:
        numbered = [(reader.line_num, cells) for cells in reader]
    except csv.Error as exc:
        raise InstrumentFileError(f"{label}: line {reader.line_num}: broken CSV ({exc})") from exc

    samples: list[_Sample] = []
    section = ""
    header: list[str] = []
    for line, cells in numbered:
        if not any(cell.strip() for cell in cells):
            continue
        first = norm(cells[0]).strip()
        if first in ("Sample ID", "Part number", "Image#"):
            section, header = first, [norm(cell).strip() for cell in cells]
            if first == "Sample ID":
                samples.append(_Sample(line=line))
            elif not samples:
                raise InstrumentFileError(f"{label}: line {line}: {first!r} before 'Sample ID'")
            continue
        if not samples:
            raise InstrumentFileError(f"{label}: line {line}: data before the 'Sample ID' header")
        sample = samples[-1]
        where = f"{label}: row {len(samples)} (line {line})"
        if len(cells) < len(header):
            raise InstrumentFileError(
                f"{where}: only {len(cells)} of {len(header)} columns; the file looks truncated"
            )
        record = dict(zip(header, cells, strict=False))
        if section == "Sample ID":
            sample.settings, sample.settings_line = record, line
        elif section == "Part number":
            sample.reagents.append(drop_none({k: v.strip() for k, v in record.items()}))
        elif section == "Image#" and first == "Total":
            sample.total, sample.total_line = record, line
        elif section == "Image#":
            sample.images += 1
    return samples


def _settings_and_total(
    index: int, sample: _Sample, label: str
) -> tuple[dict[str, str], dict[str, str]]:
    """A sample's settings row and its 'Total' result row, both there and the total holding
    the viability and viable concentration every count needs."""
    settings = sample.settings
    if settings is None:
        raise InstrumentFileError(
            f"{label}: row {index} (line {sample.line}): no settings row under 'Sample ID'"
        )
    total = sample.total
    if total is None:
        raise InstrumentFileError(
            f"{label}: row {index} ({settings.get('Sample ID', '')!r}): no 'Total' result "
            "row after the image rows; the file looks truncated"
        )
    where = f"{label}: row {index} (line {sample.total_line})"
    for column in ("Viability (%)", "Viable (x10^6) cells/mL"):
        if column not in total:
            raise InstrumentFileError(f"{label}: missing column {column!r} in the image table")
        if not total[column].strip():
            raise InstrumentFileError(f"{where}: no value in {column!r}")
    return settings, total


def _detail_row(index: int, sample: _Sample, label: str) -> ParsedRow:
    settings, total = _settings_and_total(index, sample, label)
    where = f"{label}: row {index} (line {sample.total_line})"

    def num(column: str) -> float | None:
        raw = total.get(column, "").strip()
        return read_number(raw, where, column) if raw else None

    sample_id = settings.get("Sample ID", "").strip()
    settings_where = f"{label}: row {index} (line {sample.settings_line})"
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
    extra = drop_none(
        {
            "analyst": settings.get("Analysis by", "").strip(),
            "cell_type": settings.get("Cell type", "").strip(),
            "dilution_factor": read_number(dilution, settings_where, "Dilution")
            if dilution
            else None,
            "average_diameter_um": num("Average diameter (μm)"),
            "average_viable_diameter_um": num("Average viable diameter (μm)"),
            **counts,
            "images": sample.images,
            "tag": settings.get("Tag", "").strip(),
            "reanalysed_at": settings.get("Reanalysis date/time", "").strip(),
            "reagents": sample.reagents,
            "line": sample.total_line,
        }
    )
    return ParsedRow(
        row=index,
        sample_id=sample_id,
        measured_at=_vicell_time(analysed, settings_where, "Analysis date/time"),
        total_cells_per_ml=times_million(num("Total (x10^6) cells/mL")),
        viable_cells_per_ml=times_million(num("Viable (x10^6) cells/mL")),
        viability_pct=num("Viability (%)"),
        extra=extra,
    )


def parse_vicell_blu_detail(source: Source) -> ParsedFile:
    fmt = "vicell_blu_detail"
    label = FORMAT_LABELS[fmt]
    samples = _detail_samples(source.text, label)
    rows = [_detail_row(index, sample, label) for index, sample in enumerate(samples, start=1)]
    if not rows:
        raise InstrumentFileError(f"{label}: no measurements")
    return ParsedFile(fmt, label, "", rows, [])
