"""The matrix: one row per clause of the catalogue, with the tests that name it and how they
ended in a test run, written as HTML (to read) and CSV (the same rows, to filter).

The results file is what the pytest plugin (tests/traceability.py) writes:
``{"tests": [{"nodeid": ..., "clauses": [...], "outcome": "passed"}, ...]}``.
"""

from __future__ import annotations

import csv
import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carnk_mfg.traceability.catalogue import CLAUSES, Clause

# Coverage of a clause, from its tests' outcomes.
COVERED = "covered"  # at least one test passed, none failed
FAILING = "failing"  # a test failed or errored
NOT_PROVEN = "not proven"  # tests, but none passed (all skipped)
NO_TEST = "no test"

CSV_HEADER = ["clause", "requirement", "feature", "status", "passing", "tests"]


@dataclass(frozen=True)
class RunResult:
    nodeid: str
    clauses: tuple[str, ...]
    outcome: str  # passed, failed, skipped or error


@dataclass(frozen=True)
class Row:
    clause: Clause
    tests: tuple[RunResult, ...]

    @property
    def passing(self) -> int:
        return sum(test.outcome == "passed" for test in self.tests)

    @property
    def status(self) -> str:
        if not self.tests:
            return NO_TEST
        if any(test.outcome in ("failed", "error") for test in self.tests):
            return FAILING
        return COVERED if self.passing else NOT_PROVEN


def read_results(path: Path) -> list[RunResult]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return [
        RunResult(str(t["nodeid"]), tuple(str(c) for c in t["clauses"]), str(t["outcome"]))
        for t in data["tests"]
    ]


def build_rows(results: list[RunResult], clauses: tuple[Clause, ...] = CLAUSES) -> list[Row]:
    return [Row(clause, tuple(t for t in results if clause.id in t.clauses)) for clause in clauses]


def csv_rows(rows: list[Row]) -> list[list[str]]:
    return [
        [
            row.clause.id,
            row.clause.requirement,
            row.clause.feature,
            row.status,
            str(row.passing),
            "\n".join(f"{t.outcome} {t.nodeid}" for t in row.tests),
        ]
        for row in rows
    ]


def write_csv(rows: list[Row], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        writer.writerows(csv_rows(rows))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Traceability matrix</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #bbb; padding: .4em .6em; text-align: left; vertical-align: top; }}
th {{ background: #eee; }}
ul {{ margin: 0; padding-left: 1.2em; }}
code {{ font-size: 12px; }}
.covered {{ background: #dff3df; }} .failing {{ background: #f8d7d7; }}
.not-proven, .no-test {{ background: #fdf2cc; }}
.passed {{ color: #176b17; }} .failed, .error {{ color: #a11; font-weight: bold; }}
.skipped {{ color: #8a6d00; }}
</style></head><body>
<h1>Requirements traceability matrix</h1>
<p>{summary}. Built {built} from <code>{source}</code>.
Core: a DESIGN section 8 compliance building block, which must have a passing test.</p>
<table>
<thead><tr><th>Clause</th><th>Requirement</th><th>Feature</th><th>Tests</th>
<th>Status</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def _html_row(row: Row) -> str:
    tests = "".join(
        f'<li><span class="{t.outcome}">{html.escape(t.outcome)}</span> '
        f"<code>{html.escape(t.nodeid)}</code></li>"
        for t in row.tests
    )
    core = "<br><small>core</small>" if row.clause.core else ""
    return (
        f'<tr><th scope="row">{html.escape(row.clause.id)}{core}</th>'
        f"<td>{html.escape(row.clause.requirement)}</td>"
        f"<td>{html.escape(row.clause.feature)}</td>"
        f"<td>{f'<ul>{tests}</ul>' if tests else '—'}</td>"
        f'<td class="{row.status.replace(" ", "-")}">{html.escape(row.status)}</td></tr>'
    )


def write_html(rows: list[Row], path: Path, source: str) -> None:
    page = _PAGE.format(
        summary=html.escape(summary(rows)),
        built=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        source=html.escape(source),
        rows="\n".join(_html_row(row) for row in rows),
    )
    path.write_text(page, encoding="utf-8")


def summary(rows: list[Row]) -> str:
    tests = {t.nodeid for row in rows for t in row.tests}
    covered = sum(row.passing > 0 for row in rows)
    return f"{len(rows)} clauses, {covered} with at least one passing test, {len(tests)} tests"


def unproven_core(rows: list[Row]) -> list[Row]:
    """The DESIGN section 8 clauses without a passing test (the matrix fails on them)."""
    return [row for row in rows if row.clause.core and not row.passing]
