"""The sample exports in tests/instrument_files/ and how the parser tests read them.

The files follow the instruments' real layouts (/work/shared/INSTRUMENT_FORMATS.md and
allotropy's test data) with our own contents.
"""

from datetime import UTC, datetime
from pathlib import Path

from qc.instrument_files import ParsedFile, parse_instrument_file

FILES = Path(__file__).parent.parent / "instrument_files"


def sample_bytes(name: str) -> bytes:
    return (FILES / name).read_bytes()


def parse_sample(name: str) -> ParsedFile:
    return parse_instrument_file(sample_bytes(name), name)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


SAMPLES = {
    "vicell_blu_summary_utf8.csv": ("vicell_blu_summary", 3),
    "vicell_blu_summary_utf16le.csv": ("vicell_blu_summary", 2),
    "vicell_blu_detail_export.csv": ("vicell_blu_detail", 1),
    "vicell_xr_sample.txt": ("vicell_xr_text", 1),
    "nucleoview_nc200.csv": ("nucleoview_nc200", 1),
    "nc_view_multi.csv": ("nc_view", 3),
    "cedex_hires.csv": ("cedex_hires", 2),
    "flow_gate_stats.csv": ("flow_gate_stats", 4),
}
