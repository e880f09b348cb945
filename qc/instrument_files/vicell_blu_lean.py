"""The Vi-CELL BLU summary CSV read row by row with the csv module, without allotropy.

Why: measured on a 5,000-row summary (the row cap), allotropy took 99 % of the parse: about
16 s of CPU building its Allotrope model (pandas row by row, a new dataclass per row for the
custom-information documents) and 8 s serialising and validating it against the JSON schema,
with 280 MB of Python objects, besides 140 MB and seconds just to import its 70 parsers. Our
own checks and mapping took 0.3 s. The summary is one header row and one row per sample, so
the rows the import needs can be read straight from the checked table (``tables.read_table``).

Same rows as allotropy, or allotropy itself: ``rows_without_allotropy`` gives exactly the
ParsedRows the allotropy path gives (values, units, times, custom information), and returns
None for anything in which the two readers could differ, so that the file goes to allotropy:
a header with a blank or repeated column name, or a name that allotropy would match as a
pattern or rewrite as a custom-information key; a time not written as the instrument writes it
(``1/14/2026 9:05``, with seconds, or with AM/PM); a number of more than 15 digits (pandas
then rounds differently from Python); text that pandas would read as true/false; a line break
or quote inside a value. The equivalence test
(tests/instrument_parsers/test_vicell_blu_lean.py) compares the two readers on every sample
file and on generated edge cases.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from qc.instrument_files.allotropy_asm import asm_time
from qc.instrument_files.common import ParsedRow, drop_none, times_million
from qc.instrument_files.tables import Table

# The columns allotropy's Vi-CELL BLU reader reads by name (allotropy 0.1.150,
# beckman_vi_cell_blu/vi_cell_blu_structure.py); every other column is "unread" and goes to
# the measurement's custom information.
_READ = frozenset(
    {
        "Sample ID",
        "Cell count",
        "Viable cells",
        "Analysis by",
        "Analysis date/time",
        "Cell type",
        "Minimum Diameter (μm)",
        "Maximum Diameter (μm)",
        "Dilution",
        "Viability (%)",
        "Viable (x10^6) cells/mL",
        "Total (x10^6) cells/mL",
        "Average diameter (μm)",
        "Average viable diameter (μm)",
        "Average circularity",
        "Average viable circularity",
    }
)
# Columns it reads as patterns into custom documents; only the processed-data one reaches
# the rows (allotropy_asm reads the measurement's, the sample's and the processed data's).
_PROCESSED_CUSTOM = "Average cells per image"
_OTHER_CUSTOM = (
    "Wash",
    "Mixing cycles",
    "Aspiration cycles",
    "Images",
    "Images for analysis",
    "Decluster degree",
    "Minimum circularity",
    "Viable spot area (%)",
    "Viable spot brightness (%)",
    "Cell sharpness",
    "Average background intensity",
    "Bubble count",
    "Cluster count",
)
# Column names that mean the same as a pattern and as a custom-information key.
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9 /:#-]*")
# pandas.read_csv's default missing-value strings (pandas 2.x STR_NA_VALUES).
NA_STRINGS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
_BOOL_WORDS = frozenset({"True", "TRUE", "true", "False", "FALSE", "false"})
_TIME = re.compile(r"\d{1,2}/\d{1,2}/[12]\d{3} \d{1,2}:\d{2}(:\d{2})?( [AaPp][Mm])?")
_MAX_DIGITS = 15  # pandas and Python read a number alike up to 15 significant digits


class _Differs(Exception):
    """Something in the file on which this reader and allotropy could disagree."""


def rows_without_allotropy(table: Table) -> list[ParsedRow] | None:
    """The file's rows as the allotropy path would give them, or None: let allotropy read it."""
    custom_columns = _custom_columns(table.header)
    if custom_columns is None:
        return None
    try:
        return [
            _row(index, record, line, custom_columns)
            for index, (record, line) in enumerate(
                zip(table.records, table.lines, strict=True), start=1
            )
        ]
    except _Differs:
        return None


def _custom_columns(header: list[str]) -> list[str] | None:
    """The columns whose values go to the rows' custom information, in allotropy's order
    (unread columns in file order, then the processed-data one); None if the header needs
    allotropy's own reading."""
    if len(set(header)) != len(header) or "" in header:
        return None
    patterns = [_PROCESSED_CUSTOM, *_OTHER_CUSTOM]
    for name in header:
        # allotropy matches these names as regular expressions: "Viable spot area (%)"
        # would also take a column "Viable spot area %".
        if name not in patterns and any(re.fullmatch(p, name) for p in patterns):
            return None
    unread = [name for name in header if name not in _READ and name not in patterns]
    if not all(_PLAIN_NAME.fullmatch(name) for name in unread):
        return None
    return unread + ([_PROCESSED_CUSTOM] if _PROCESSED_CUSTOM in header else [])


def _number(text: str) -> float:
    mantissa = re.split("[eE]", text, maxsplit=1)[0]
    if sum(ch.isdigit() for ch in mantissa) > _MAX_DIGITS:
        raise _Differs
    return float(text)


def _optional(record: dict[str, str], column: str) -> float | None:
    """A checked number column (read_table cleaned it): its value, or None when empty."""
    text = record.get(column, "")
    return _number(text) if text.strip() else None


def _custom_value(raw: str) -> float | str | None:
    """What allotropy keeps of a custom-information cell: a number when it reads as one
    (after dropping '%' and reading ',' as the decimal point), else the text; None when
    pandas reads it as missing."""
    if raw in NA_STRINGS:
        return None
    if raw in _BOOL_WORDS or "\n" in raw or "\r" in raw or '"' in raw:
        raise _Differs
    text = raw.strip("%") if "%" in raw else raw
    try:
        value = _number(text.replace(",", "."))
    except ValueError:
        return raw
    return None if math.isnan(value) else value


def _time(raw: str) -> datetime | None:
    if not _TIME.fullmatch(raw):
        raise _Differs
    has_seconds = raw.count(":") == 2
    pattern = "%m/%d/%Y %H:%M:%S" if has_seconds else "%m/%d/%Y %H:%M"
    if raw[-1] in "Mm":
        pattern = pattern.replace("%H", "%I") + " %p"
    try:
        moment = datetime.strptime(raw, pattern).replace(tzinfo=UTC)
    except ValueError:
        raise _Differs from None  # e.g. 13:05 PM: allotropy's date parser decides
    return asm_time(moment.isoformat())


def _count(record: dict[str, str], column: str) -> int | None:
    value = _optional(record, column)
    return None if value is None else round(value)


def _row(index: int, record: dict[str, str], line: int, custom_columns: list[str]) -> ParsedRow:
    sample_id = record["Sample ID"]
    if '"' in sample_id or "\n" in sample_id or "\r" in sample_id:
        raise _Differs
    custom: dict[str, Any] = {}
    for column in custom_columns:
        value = _custom_value(record[column])
        if value is not None:
            custom[column] = value
    extra = drop_none(
        {
            "analyst": record.get("Analysis by", "").strip(),
            "cell_type": record.get("Cell type", "").strip(),
            "dilution_factor": _optional(record, "Dilution"),
            "average_diameter_um": _optional(record, "Average diameter (μm)"),
            "average_viable_diameter_um": _optional(record, "Average viable diameter (μm)"),
            "total_cell_count": _count(record, "Cell count"),
            "viable_cell_count": _count(record, "Viable cells"),
            "custom": custom,
        }
    )
    return ParsedRow(
        row=index,
        sample_id=sample_id,
        measured_at=_time(record["Analysis date/time"]),
        total_cells_per_ml=times_million(_optional(record, "Total (x10^6) cells/mL")),
        viable_cells_per_ml=times_million(_optional(record, "Viable (x10^6) cells/mL")),
        viability_pct=_optional(record, "Viability (%)"),
        extra={**extra, "line": line},
    )
