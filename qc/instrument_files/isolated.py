"""Parse a file in a child process of its own, bounded in time and address space.

allotropy builds its whole output model in memory (about 70 MB and 4 s per 1,000 Vi-CELL
rows; the Vi-CELL BLU summary now has a lean reader, but the limits still bound every file),
and a Celery prefork child cannot bound the memory of the one task it runs: the
limit would outlive the task and the memory stays with the worker. A child process per parse
ends with its parse, and the kernel holds it to its limits:

* memory: ``RLIMIT_AS`` (address space, the whole process's) set in the child before it
  reads the file, so an allocation past it fails with MemoryError, which the child reports
  by its exit status;
* time: the parent waits at most ``seconds`` and then kills the child (``RLIMIT_CPU`` is a
  backstop should the parent itself be gone).

The child reads the file on stdin and writes the rows as JSON on stdout. Run it as
``python -m qc.instrument_files.isolated <memory MB> <seconds> <filename>``; no Django.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from qc.instrument_files import (
    ALLOTROPY_FORMATS,
    InstrumentFileError,
    ParsedFile,
    ParsedRow,
    decode,
    detect_format,
    parse_instrument_file,
)

_OUT_OF_MEMORY = 75  # the child's exit status for MemoryError
_REFUSED = 65  # the file is unreadable: the message is on stdout
# One thread each for the numeric libraries allotropy pulls in: every thread pool reserves
# address space that would count against the limit without doing anything here.
_CHILD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}


# The directory that holds the `qc` package: the child imports it from there.
_PROJECT = Path(__file__).resolve().parents[2]


class ParseLimitError(InstrumentFileError):
    """The parse was stopped at its time or memory limit."""


def parse_in_child(data: bytes, filename: str, *, seconds: int, memory_mb: int) -> ParsedFile:
    """The parsed file; InstrumentFileError for an unreadable file, ParseLimitError when the
    parse ran past `seconds` or needed more than `memory_mb` MB."""
    advice = "Split the export into smaller files."
    try:
        done = subprocess.run(  # noqa: S603 - no shell: the file name is one argument
            [
                sys.executable,
                "-m",
                __name__,
                str(memory_mb),
                str(seconds),
                filename.replace("\0", ""),
            ],
            input=data,
            capture_output=True,
            timeout=seconds,
            env={**os.environ, **_CHILD_ENV},
            cwd=_PROJECT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ParseLimitError(
            f"Parsing took longer than {seconds} s and was stopped. {advice}"
        ) from None
    if done.returncode == _OUT_OF_MEMORY:
        raise ParseLimitError(
            f"Parsing needed more than {memory_mb:,} MB and was stopped. {advice}"
        )
    if done.returncode == _REFUSED:
        raise InstrumentFileError(json.loads(done.stdout)["error"])
    if done.returncode != 0:
        last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        raise InstrumentFileError(
            f"The parser stopped unexpectedly (exit status {done.returncode}: {last[:300]})."
        )
    return _from_json(json.loads(done.stdout))


def _to_json(parsed: ParsedFile) -> dict[str, Any]:
    def row(r: ParsedRow) -> dict[str, Any]:
        return {
            **r.__dict__,
            "measured_at": r.measured_at.isoformat() if r.measured_at else None,
        }

    return {
        "format": parsed.format,
        "format_label": parsed.format_label,
        "instrument_serial": parsed.instrument_serial,
        "warnings": parsed.warnings,
        "rows": [row(r) for r in parsed.rows],
    }


def _from_json(body: dict[str, Any]) -> ParsedFile:
    rows = [
        ParsedRow(
            **{
                **r,
                "measured_at": datetime.fromisoformat(r["measured_at"])
                if r["measured_at"]
                else None,
            }
        )
        for r in body["rows"]
    ]
    return ParsedFile(
        body["format"], body["format_label"], body["instrument_serial"], rows, body["warnings"]
    )


def _out_of_memory(exc: BaseException) -> bool:
    """Whether a failed allocation lies under the error: allotropy and pandas wrap it
    ("Error tokenizing data. C error: out of memory"), and the file reader wraps theirs."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError) or "out of memory" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _load_allotropy_if_needed(data: bytes, filename: str) -> None:
    """allotropy is loaded before the limit is set: a library that fails to load under it
    reports ImportError or SystemError, not MemoryError. The limit still counts its address
    space, since it bounds the whole process. Files that do not need it skip its load
    (seconds, and 140 MB)."""
    try:
        fmt = detect_format(decode(data), filename)
    except InstrumentFileError:
        return  # the parse says what is wrong
    if fmt in ALLOTROPY_FORMATS:
        import allotropy.to_allotrope  # noqa: F401


def _child(memory_mb: int, seconds: int, filename: str) -> int:
    # The file is read before the limit: it is no bigger than the upload the parent holds.
    data = sys.stdin.buffer.read()
    _load_allotropy_if_needed(data, filename)
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds + 5, seconds + 5))
    try:
        parsed = parse_instrument_file(data, filename)
        body = json.dumps(_to_json(parsed), default=str)
    except MemoryError:
        return _OUT_OF_MEMORY
    except InstrumentFileError as exc:
        if _out_of_memory(exc):
            return _OUT_OF_MEMORY
        sys.stdout.write(json.dumps({"error": str(exc)}))
        return _REFUSED
    sys.stdout.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(_child(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
