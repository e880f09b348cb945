"""The Vi-CELL BLU summary's lean reader gives exactly the rows the allotropy path gives (or
steps aside for allotropy), on every sample file and on generated edge cases.

Plain functions, no database.
"""

import random

import pytest

from qc.instrument_files import InstrumentFileError, ParsedFile
from qc.instrument_files.common import Source
from qc.instrument_files.decoding import decode_with_codec
from qc.instrument_files.vicell import blu_summary_table, parse_vicell_blu_summary
from qc.instrument_files.vicell_blu_lean import NA_STRINGS, rows_without_allotropy
from tests.instrument_parsers.samples import SAMPLES, sample_bytes

_SUMMARY = sample_bytes("vicell_blu_summary_utf8.csv").decode()
_HEADER, _FIRST = _SUMMARY.splitlines()[:2]
_COLUMNS = _HEADER.split(",")


def _source(data: bytes) -> Source:
    text, encoding = decode_with_codec(data)
    return Source(data=data, text=text.lstrip("\ufeff"), encoding=encoding, filename="x.csv")


def _parse(data: bytes, reader: str) -> ParsedFile | str:
    try:
        return parse_vicell_blu_summary(_source(data), reader=reader)
    except InstrumentFileError as exc:
        return f"refused: {exc}"


def _comparable(parsed: ParsedFile | str):
    """Everything a row carries, the order of its extra and custom entries included."""
    if isinstance(parsed, str):
        return parsed
    return [
        (
            {**row.__dict__, "extra": None, "measured_at": repr(row.measured_at)},
            [(k, list(v.items()) if k == "custom" else v) for k, v in row.extra.items()],
        )
        for row in parsed.rows
    ] + [parsed.warnings, parsed.instrument_serial]


def _lean_reads_it(data: bytes) -> bool:
    try:
        table = blu_summary_table(_source(data).text)
    except InstrumentFileError:
        return False
    return rows_without_allotropy(table) is not None


def _file(*rows: dict[str, str], header: list[str] | None = None) -> bytes:
    first = dict(zip(_COLUMNS, _FIRST.split(","), strict=True))
    lines = [",".join(header or _COLUMNS)]
    lines += [",".join({**first, **row}.get(c, "") for c in header or _COLUMNS) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _assert_same(data: bytes) -> None:
    assert _comparable(_parse(data, "lean")) == _comparable(_parse(data, "allotropy"))


@pytest.mark.parametrize(
    "name", [name for name, (fmt, _) in SAMPLES.items() if fmt == "vicell_blu_summary"]
)
def test_every_sample_file_reads_the_same_and_through_the_lean_reader(name):
    data = sample_bytes(name)
    assert _lean_reads_it(data)
    _assert_same(data)


_CASES = {
    "blank rows and a row of commas": _SUMMARY.replace("\n", "\n\n", 1) + ",,,,\n\n",
    "bad number": _SUMMARY.replace(",1.85,", ",1.8x5,"),
    "percent and padded numbers": _SUMMARY.replace(",95.68,", ", 95.68 %,"),
    "quoted fields": _SUMMARY.replace("CNK-260001-D07,", '"CNK-260001-D07",').replace(
        ",NK cells,", ',"NK cells, expanded",'
    ),
    "quote inside a value": _SUMMARY.replace("IPC day 7", 'IPC "day 7"'),
    "line break inside a quoted value": _SUMMARY.replace("IPC day 7", '"IPC\nday 7"'),
    "missing required value": _SUMMARY.replace(",1.85,", ",,"),
    "truncated row": _SUMMARY.rsplit(",", 3)[0] + "\n",
    "padded header": _SUMMARY.replace("Sample ID,", " Sample ID ,", 1),
    "micro sign U+00B5 in the header": _SUMMARY.replace("μm", "\u00b5m"),
}


# Refused by the shared checks, or handed to allotropy by the lean reader.
_NOT_LEAN = {
    "bad number",
    "missing required value",
    "truncated row",
    "quote inside a value",
    "line break inside a quoted value",
    "tag true",
    "many digits",
    "other times",
    "time 13:05 PM",
    "time not a date",
    "time 2/30",
    "time NA",
}


@pytest.mark.parametrize("case", sorted(_CASES))
def test_edge_cases_read_the_same(case):
    data = _CASES[case].encode()
    assert _lean_reads_it(data) == (case not in _NOT_LEAN)
    _assert_same(data)


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: b"\xef\xbb\xbf" + t.encode(),
        lambda t: b"\xff\xfe" + t.encode("utf-16-le"),
        lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
        lambda t: t.encode("utf-16-le"),  # no BOM: the decoder sniffs it
        lambda t: t.replace("μ", "\u00b5").encode("cp1252"),  # µ as Windows writes it
        lambda t: t.replace("\n", "\r\n").encode(),
    ],
    ids=["utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le", "cp1252", "crlf"],
)
def test_encodings_read_the_same(encode):
    data = encode(_SUMMARY)
    assert _lean_reads_it(data)
    _assert_same(data)


_ROW_CASES = {
    "blank analyst and cell type": [{"Analysis by": "", "Cell type": ""}],
    "analyst words pandas reads as missing or true": [
        {"Analysis by": "None", "Cell type": "NA"},
        {"Analysis by": "TRUE"},
        {"Analysis by": "123"},
        {"Analysis by": ""},
    ],
    "tags: numbers, percent, decimal comma, missing, true": [
        {"Tag": "007"},
        {"Tag": "5%"},
        {"Tag": "%"},
        {"Tag": '"1,5"'},
        {"Tag": "NA"},
        {"Tag": "n/a"},
        {"Tag": " spaced "},
        {"Tag": "nan"},
        {"Tag": "inf"},
    ],
    "tag true": [{"Tag": "true"}],
    "reanalysed": [{"Reanalysis date/time": "1/15/2026 10:00", "Reanalysis by": "bob"}],
    "optional numbers blank": [
        {"Cell count": "", "Viable cells": "", "Dilution": "", "Total (x10^6) cells/mL": ""}
    ],
    "counts to round": [{"Cell count": "12.5", "Viable cells": "13.5"}, {"Cell count": "1e3"}],
    "thousands with a space": [{"Cell count": "274 000"}],
    "average cells per image not a number": [
        {"Average cells per image": "n/a"},
        {"Average cells per image": "lots"},
        {"Average cells per image": ""},
    ],
    "numbers out of range": [{"Viability (%)": "150", "Viable (x10^6) cells/mL": "-1"}],
    "many digits": [{"Viable (x10^6) cells/mL": "1.850000000000000044"}],
    "times the instrument writes": [
        {"Analysis date/time": "1/14/2026 9:05"},
        {"Analysis date/time": "12/31/2026 23:59:59"},
        {"Analysis date/time": "1/14/2026 12:05 AM"},
        {"Analysis date/time": "1/14/2026 9:05:33 pm"},
        {"Analysis date/time": "01/04/2026 00:00"},
        {"Analysis date/time": "1/1/1970 0:00"},
    ],
    "other times": [
        {"Analysis date/time": "2026-01-14T09:05:00+02:00"},
        {"Analysis date/time": "1/14/2026 9:05 EST"},
        {"Analysis date/time": "14/1/2026 9:05"},
        {"Analysis date/time": "1/14/26 9:05"},
    ],
    "time 13:05 PM": [{"Analysis date/time": "1/14/2026 13:05 PM"}],
    "time not a date": [{"Analysis date/time": "hello"}],
    "time 2/30": [{"Analysis date/time": "2/30/2026 9:05"}],
    "time NA": [{"Analysis date/time": "NA"}],
    "sample ID NA and 007": [{"Sample ID": "NA"}, {"Sample ID": "007"}],
}


@pytest.mark.parametrize("case", sorted(_ROW_CASES))
def test_row_edge_cases_read_the_same(case):
    data = _file(*_ROW_CASES[case])
    assert _lean_reads_it(data) == (case not in _NOT_LEAN)
    _assert_same(data)


@pytest.mark.parametrize(
    "header",
    [
        [*_COLUMNS, "Operator note"],  # an unknown column: custom information
        [*_COLUMNS, "Note_1"],  # allotropy rewrites "_" in custom keys
        [*_COLUMNS, "Note+"],  # allotropy cannot make a key of it
        [*_COLUMNS, ""],  # pandas names it "Unnamed: 33"
        [*_COLUMNS, "Tag"],  # repeated
        [*_COLUMNS, "Viable spot area %"],  # matches allotropy's pattern for another column
        [c for c in _COLUMNS if c not in ("Analysis by", "Cell type", "Tag", "Dilution")],
    ],
    ids=["unknown", "underscore", "plus", "unnamed", "repeated", "pattern", "columns missing"],
)
def test_unusual_headers_read_the_same(header):
    values = {"Operator note": "ok", "Note_1": "x", "Note+": "y", "": "z"}
    values["Viable spot area %"] = "5"
    _assert_same(_file({}, {"Tag": ""}, header=header))
    _assert_same(_file(values, header=header))


def test_random_values_read_the_same_and_through_the_lean_reader():
    rng = random.Random(15)
    rows = []
    for i in range(200):
        decimals = rng.randint(0, 6)
        rows.append(
            {
                "Sample ID": f"CNK-{rng.randint(0, 999999):06d}-D{i}",
                "Viable (x10^6) cells/mL": f"{rng.uniform(0, 50):.{decimals}f}",
                "Total (x10^6) cells/mL": f"{rng.uniform(0, 60):.{rng.randint(0, 6)}f}",
                "Viability (%)": f"{rng.uniform(0, 100):.{rng.randint(0, 4)}f}",
                "Average diameter (μm)": f"{rng.uniform(5, 25):.2f}",
                "Cell count": str(rng.randint(0, 20000)),
                "Dilution": rng.choice(["1", "2", "10", "1.5"]),
                "Average cells per image": f"{rng.uniform(0, 300):.1f}",
                "Analysis date/time": (
                    f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/{rng.randint(2000, 2030)} "
                    f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}"
                    + rng.choice(["", f":{rng.randint(0, 59):02d}"])
                ),
                "Tag": rng.choice(["", "IPC", "12", "final product", "NA"]),
            }
        )
    data = _file(*rows)
    assert _lean_reads_it(data)
    _assert_same(data)


def test_missing_value_strings_are_pandas_own():
    from pandas._libs.parsers import STR_NA_VALUES  # type: ignore[import-untyped]

    assert set(STR_NA_VALUES) == NA_STRINGS
