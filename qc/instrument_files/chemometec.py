"""ChemoMetec exports, both read through allotropy: the NucleoCounter NC-200 (NucleoView)
key/value file and the NC View multi-sample CSV."""

from __future__ import annotations

import re

from qc.instrument_files.allotropy_asm import asm_serial, rows_from_asm, run_allotropy
from qc.instrument_files.common import (
    FORMAT_LABELS,
    InstrumentFileError,
    ParsedFile,
    Source,
    clean_number,
    not_a_number,
    read_key_values,
    set_or_drop,
)
from qc.instrument_files.tables import read_table

# ----------------------------------------------------------------- NC-200 (NucleoView)

_NC200_LINE = r"^([^;\t]*?)\s*(?:;|:\t)\s*([^;]*?)\s*;?\s*$"
_CHECKSUM_LINE = re.compile(r"^\s*//\s*\[([0-9A-Fa-f]+)\]\s*$")
_NC200_NUMBERS = (
    "Viability (%)",
    "Live (cells/ml)",
    "Dead (cells/ml)",
    "Total (cells/ml)",
    "Estimated cell diameter (um)",
    "Multiplication factor",
)


def _nc200_sample_id(
    values: dict[str, tuple[int, str]], lines: list[str], where: str
) -> tuple[str, int]:
    """(sample ID, its line); adds a "Sample ID" line to ``lines`` when the file has none."""
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
    return sample_id, sample_line


def parse_nucleoview_nc200(source: Source) -> ParsedFile:
    fmt = "nucleoview_nc200"
    label = FORMAT_LABELS[fmt]
    lines = source.text.splitlines()
    pairs = read_key_values(source.text, _NC200_LINE)
    values = {key: (line, value) for line, key, value in pairs if key}
    line, viability = values.get("Viability (%)", (0, ""))
    if not viability:
        raise InstrumentFileError(f"{label}: no measurements ('Viability (%)' has no value)")
    if "Sample ID" not in values and "Image" not in values:
        raise InstrumentFileError(f"{label}: missing line 'Image;...' (or 'Sample ID;...')")
    where = f"{label}: row 1"
    for key in _NC200_NUMBERS:
        line, value = values.get(key, (0, ""))
        if value:
            cleaned = clean_number(value)
            if cleaned is None:
                raise not_a_number(value, f"{where} (line {line})", key)
            if cleaned != value:
                lines[line - 1] = f"{key};{cleaned};"
    sample_id, sample_line = _nc200_sample_id(values, lines, where)

    # The export ends with a checksum line ("//[ECEC5A41]"); allotropy drops the last line
    # of the file for that reason, so a file without one would lose its last value: add a
    # stand-in. (The checksum algorithm is ChemoMetec's; it is kept, not verified.)
    content = [line for line in lines if line.strip()]
    checksum = _CHECKSUM_LINE.match(content[-1]) if content else None
    if not checksum:
        lines.append("//")
    # allotropy's NucleoView reader decodes UTF-8 whatever encoding it is given: transcode.
    data = "\n".join(lines).encode("utf-8")
    asm = run_allotropy("CHEMOMETEC_NUCLEOVIEW", data, "utf-8", source.filename, "csv", label)
    rows = rows_from_asm(asm, label, [sample_id], [sample_line])
    if checksum:
        rows[0].extra["checksum"] = checksum.group(1)
    if "Image" in values:
        rows[0].extra["image"] = values["Image"][1]
    # allotropy writes its default "NC-200" as analyst when there is no Operator line
    set_or_drop(rows[0].extra, "analyst", values.get("Operator", (0, ""))[1])
    warnings = [] if checksum else [f"{label}: no checksum line at the end of the file"]
    serial = asm_serial(asm, "equipment serial number")
    return ParsedFile(fmt, label, serial, rows, warnings)


# ---------------------------------------------------------------------------- NC View


def parse_nc_view(source: Source) -> ParsedFile:
    fmt = "nc_view"
    label = FORMAT_LABELS[fmt]
    table = read_table(
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
    data = table.to_csv() if table.changed else source.text.encode("utf-8")
    asm = run_allotropy("CHEMOMETEC_NC_VIEW", data, "utf-8", source.filename, "csv", label)
    rows = rows_from_asm(asm, label, [r["SAMPLE ID"] for r in table.records], table.lines)
    warnings = []
    for row, record in zip(rows, table.records, strict=True):
        status = record.get("STATUS", "").strip()
        row.extra["measured_at_date_only"] = True
        if status:
            row.extra["status"] = status
            if status.upper() != "OK":
                warnings.append(f"row {row.row} ({row.sample_id}): {status}")
    return ParsedFile(fmt, label, asm_serial(asm, "equipment serial number"), rows, warnings)
