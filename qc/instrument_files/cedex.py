"""Roche Cedex HiRes CSV, read through allotropy."""

from __future__ import annotations

from qc.instrument_files.allotropy_asm import asm_serial, rows_from_asm, run_allotropy
from qc.instrument_files.common import FORMAT_LABELS, ParsedFile, Source
from qc.instrument_files.tables import read_table, resolve


def parse_cedex_hires(source: Source) -> ParsedFile:
    fmt = "cedex_hires"
    label = FORMAT_LABELS[fmt]
    sample = ("Sample identifier", "Sample identifer")  # "identifer" (sic) in real exports
    table = read_table(
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
    sample_column = resolve(table.header, sample) or sample[0]
    # allotropy's Cedex reader always decodes UTF-8: transcode.
    data = table.to_csv() if table.changed else source.text.encode("utf-8")
    asm = run_allotropy("ROCHE_CEDEX_HIRES", data, "utf-8", source.filename, "csv", label)
    rows = rows_from_asm(asm, label, [r[sample_column] for r in table.records], table.lines)
    for row in rows:
        draw = row.extra.get("custom", {}).get("sample draw time")
        if draw:
            row.extra["sample_draw_time"] = draw
    # The Cedex ID is the instrument's serial number.
    serial = asm_serial(asm, "equipment serial number", "device identifier")
    return ParsedFile(fmt, label, serial, rows, [])
