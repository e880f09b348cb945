"""How many measurements a file holds, read cheaply before any parse.

allotropy needs seconds and hundreds of MB per thousand rows, so an upload is measured here
first (decode, recognise the format, count data rows with the csv module: tens of
milliseconds for 30,000 rows) and a file over the row cap is refused without being parsed.
Workbooks never get this far: decoding refuses them with a message asking for CSV or TXT.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from qc.instrument_files import FORMAT_LABELS, InstrumentFileError, detect_format
from qc.instrument_files.decoding import decode_with_codec

# One sample per file: key/value exports.
_ONE_SAMPLE = {"vicell_xr_text", "nucleoview_nc200"}


@dataclass(frozen=True)
class FileCount:
    format: str
    rows: int


def count_rows(data: bytes, filename: str = "") -> FileCount:
    """The file's format and number of measurements; InstrumentFileError if it is unreadable,
    of an unknown format, or holds no measurement."""
    text, _ = decode_with_codec(data, filename)
    fmt = detect_format(text, filename)
    if fmt in _ONE_SAMPLE:
        rows = 1
    elif fmt == "vicell_blu_detail":
        rows = _detail_samples(text)
    else:
        rows = max(_table_lines(text) - 1, 0)  # less the header row
    if rows == 0:
        raise InstrumentFileError(f"{FORMAT_LABELS[fmt]}: no measurements (a header but no rows)")
    return FileCount(fmt, rows)


def _table_lines(text: str) -> int:
    """Rows with a value in them. A CSV the parser will call broken is counted by its lines:
    the parse names the fault, the count only has to bound the work."""
    try:
        return sum(1 for cells in csv.reader(io.StringIO(text)) if any(c.strip() for c in cells))
    except csv.Error:
        return sum(1 for line in text.splitlines() if line.strip())


def _detail_samples(text: str) -> int:
    """A detail export repeats a "Sample ID" section header per sample."""
    try:
        return sum(1 for cells in csv.reader(io.StringIO(text)) if cells[:1] == ["Sample ID"])
    except csv.Error:
        return sum(
            1 for line in text.splitlines() if line.startswith(('"Sample ID"', "Sample ID,"))
        )
