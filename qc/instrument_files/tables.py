"""Checking a one-table CSV before allotropy reads it.

allotropy silently drops unparsable optional numbers and reports required ones without a row
number; this pass names the row and the column instead, and cleans what allotropy trips on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from qc.instrument_files.common import (
    InstrumentFileError,
    Source,
    clean_number,
    norm,
    not_a_number,
)

ColumnName = str | tuple[str, ...]  # a column, or its alternative spellings


@dataclass
class Table:
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


def resolve(header: list[str], name: ColumnName) -> str | None:
    """The spelling of column `name` that the header uses, or None."""
    for option in (name,) if isinstance(name, str) else name:
        if option in header:
            return option
    return None


@dataclass(frozen=True)
class _Rules:
    label: str
    numbers: Sequence[ColumnName]
    not_empty: Sequence[ColumnName]
    fill_empty: dict[str, str]


def read_table(
    text: str,
    label: str,
    *,
    required: Sequence[ColumnName],
    not_empty: Sequence[ColumnName] = (),
    numbers: Sequence[ColumnName] = (),
    fill_empty: dict[str, str] | None = None,
    lower_header: bool = False,
) -> Table:
    """Check a one-header-row CSV and return its records.

    `required` columns must exist (alternatives as a tuple), `not_empty` ones must have a value
    in every row, `numbers` must hold numbers when they have a value ('274 000' and '87.00%'
    are accepted and cleaned). `fill_empty` gives a placeholder for empty metadata cells that
    allotropy insists on.
    """
    rules = _Rules(label, numbers, not_empty, fill_empty or {})
    rows = csv.reader(io.StringIO(text))
    header: list[str] | None = None
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
                header, changed = _header(cells, label, required, lower_header)
                continue
            where = f"{label}: row {len(records) + 1} (line {line})"
            record, record_changed = _record(cells, header, where, rules)
            changed = changed or record_changed
            records.append(record)
            lines.append(line)
    except csv.Error as exc:
        raise InstrumentFileError(f"{label}: line {rows.line_num}: broken CSV ({exc})") from exc
    if header is None:
        raise InstrumentFileError(f"{label}: the file is empty")
    if not records:
        raise InstrumentFileError(f"{label}: no measurements (a header but no data rows)")
    return Table(header=header, records=records, lines=lines, changed=changed)


def _header(
    cells: list[str], label: str, required: Sequence[ColumnName], lower_header: bool
) -> tuple[list[str], bool]:
    """The cleaned header, and whether it needed cleaning; every required column present."""
    header = [norm(cell).strip() for cell in cells]
    if lower_header:
        header = [cell.lower() for cell in header]
    # allotropy folds the micro sign itself; only padding needs a cleaned copy
    padded = any(cell != cell.strip() for cell in cells)
    for name in required:
        if resolve(header, name) is None:
            shown = name if isinstance(name, str) else " or ".join(name)
            raise InstrumentFileError(f"{label}: missing column {shown!r}")
    return header, padded


def _record(
    cells: list[str], header: list[str], where: str, rules: _Rules
) -> tuple[dict[str, str], bool]:
    """One data row as column -> text, checked and cleaned, and whether cleaning changed it."""
    changed = False
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
    for name in rules.numbers:
        column = resolve(header, name)
        if column is None or not record[column].strip():
            continue
        cleaned = clean_number(record[column])
        if cleaned is None:
            raise not_a_number(record[column], where, column)
        if cleaned != record[column]:
            record[column], changed = cleaned, True
    for name in rules.not_empty:
        column = resolve(header, name)
        if column is not None and not record[column].strip():
            raise InstrumentFileError(f"{where}: no value in {column!r}")
    for column, placeholder in rules.fill_empty.items():
        if column in record and not record[column].strip():
            record[column], changed = placeholder, True
    return record, changed


def payload(source: Source, table: Table | None = None) -> tuple[bytes, str]:
    """Bytes and encoding to hand to allotropy: the original file when nothing was cleaned."""
    if table is not None and table.changed:
        return table.to_csv(), "utf-8"
    return source.data, source.encoding
