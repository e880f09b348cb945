"""Read cell-counter and flow-cytometry export files into plain rows.

Pure functions, no Django: ``parse_instrument_file(data, filename)`` takes the uploaded bytes
and returns a ``ParsedFile``; anything wrong with the file raises ``InstrumentFileError``
(a ``ValueError``) whose message says what is wrong.

How each format is read (project rule: allotropy where it covers the format; say why when not):

* Vi-CELL XR text file, NucleoView NC-200, NC View, Cedex HiRes:
  allotropy (``allotrope_from_io``) converts the file into the Allotrope cell-counting model
  (ASM JSON), and ``allotropy_asm`` reads sample, time, viability and densities out of it.
  Before that, ``tables.read_table`` / ``common.read_key_values`` check the file with the csv
  module, so that a missing column or a word in a number column gets a message naming the row
  and the column (allotropy silently drops unparsable optional numbers and reports required
  ones without a row number). The same pass repairs the few quirks allotropy 0.1.150 trips
  on; each repair is commented where it is made.
* Vi-CELL BLU summary CSV: checked as above, then read by our own lean reader
  (``vicell_blu_lean``), which gives exactly allotropy's rows and leaves to allotropy any
  file on which the two could differ. allotropy was 99 % of the time and memory of a large
  summary (about 24 s and 430 MB for 5,000 rows, against 0.3 s for our own work): it builds and
  schema-validates a whole Allotrope document. The one-sample formats keep allotropy.
* Vi-CELL BLU "detail export" (quoted multi-section CSV): own parser in ``vicell``.
  allotropy 0.1.150 reads only the one-table summary layout; on the detail export it fails
  with "Expected non-null value for Viability (%)" because the results sit in a later section.
* Flow-cytometry gate statistics (FlowKit gating report CSV): own parser in
  ``flow_cytometry``; allotropy has no parser for it.

One module per instrument family (``vicell``, ``chemometec``, ``cedex``, ``flow_cytometry``);
``PARSERS`` maps each format key to its parser. ``counting.count_rows`` reads a file's format
and number of rows cheaply, before any parse (the row cap); ``isolated.parse_in_child`` runs
the parse in a child process bounded in time and memory, as the import worker does.

Canonical units: densities in cells/mL (Vi-CELL reports 10^6 cells/mL; allotropy's ASM always
uses 10^6 cells/mL; converted with Decimal so 1.85 becomes exactly 1850000.0), viability in %.
Times are timezone-aware: UTC when the file has no zone, the file's offset when it has one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qc.instrument_files.cedex import parse_cedex_hires
from qc.instrument_files.chemometec import parse_nc_view, parse_nucleoview_nc200
from qc.instrument_files.common import (
    FORMAT_KINDS,
    FORMAT_LABELS,
    InstrumentFileError,
    ParsedFile,
    ParsedRow,
    Source,
    csv_cells,
    file_ref,
    for_file,
    norm,
)
from qc.instrument_files.decoding import decode_with_codec
from qc.instrument_files.flow_cytometry import GATE_REPORT_COLUMNS, parse_flow_gate_stats
from qc.instrument_files.vicell import (
    parse_vicell_blu_detail,
    parse_vicell_blu_summary,
    parse_vicell_xr_text,
)

__all__ = [
    "ALLOTROPY_FORMATS",
    "FORMAT_KINDS",
    "FORMAT_LABELS",
    "PARSERS",
    "InstrumentFileError",
    "ParsedFile",
    "ParsedRow",
    "decode",
    "detect_format",
    "parse_instrument_file",
]

# The formats whose parser always runs allotropy (the BLU summary only for the files its lean
# reader leaves to allotropy): the parse child loads allotropy for these before its limits.
ALLOTROPY_FORMATS = frozenset({"vicell_xr_text", "nucleoview_nc200", "nc_view", "cedex_hires"})

PARSERS: dict[str, Callable[[Source], ParsedFile]] = {
    "vicell_blu_summary": parse_vicell_blu_summary,
    "vicell_blu_detail": parse_vicell_blu_detail,
    "vicell_xr_text": parse_vicell_xr_text,
    "nucleoview_nc200": parse_nucleoview_nc200,
    "nc_view": parse_nc_view,
    "cedex_hires": parse_cedex_hires,
    "flow_gate_stats": parse_flow_gate_stats,
}


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM) or UTF-16 (BOM, or no BOM but NUL pattern).

    A file that is neither but reads cleanly as Windows-1252 text (older Windows exports,
    e.g. a lone 0xB5 micro sign) is accepted too. Raises InstrumentFileError otherwise.
    """
    return decode_with_codec(data)[0]


def detect_format(text: str, filename: str = "") -> str:
    """The format key (see FORMAT_LABELS) judged from the header content."""
    text = text.lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InstrumentFileError(f"{file_ref(filename)}is empty")
    first = norm(lines[0])
    header = {cell.strip() for cell in csv_cells(first)}
    header_lower = {cell.lower() for cell in header}

    if header_lower >= GATE_REPORT_COLUMNS:
        return "flow_gate_stats"
    if {"Sample ID", "Viability (%)", "Viable (x10^6) cells/mL"} <= header:
        return "vicell_blu_summary"
    if {"Sample ID", "Analysis date/time"} <= header and any(
        csv_cells(norm(line))[:1] == ["Image#"] for line in lines[1:]
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
        f"unknown instrument file format{for_file(filename)}: the first line {shown!r} "
        f"matches none of the supported formats: {supported}"
    )


def parse_instrument_file(data: bytes, filename: str = "") -> ParsedFile:
    """Parse an uploaded instrument export. Raises InstrumentFileError for any bad input."""
    text, encoding = decode_with_codec(data, filename)
    fmt = detect_format(text, filename)
    source = Source(data=data, text=text.lstrip("\ufeff"), encoding=encoding, filename=filename)
    parsed = PARSERS[fmt](source)
    if encoding == "cp1252":
        parsed.warnings.insert(0, "the file is not UTF-8 or UTF-16; it was read as Windows-1252")
    return parsed
