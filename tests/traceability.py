"""The traceability plugin (loaded by tests/conftest.py).

``@pytest.mark.clause("21 CFR 11.10(e)")`` names the clauses a test proves; each must be in
the catalogue (carnk_mfg/traceability/catalogue.py), or collection stops naming the test, so
a typo cannot hide a gap. With ``--trace-results PATH`` (or TRACE_RESULTS=PATH) every marked
test that ran is written to PATH with its clauses and outcome, for the matrix to read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from carnk_mfg.traceability.catalogue import unknown_clauses


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--trace-results",
        default=os.environ.get("TRACE_RESULTS") or None,
        help="write the clause-marked tests' outcomes to this JSON file (env TRACE_RESULTS)",
    )


def clauses_of(item: pytest.Item) -> list[str]:
    return [name for mark in item.iter_markers("clause") for name in mark.args]


def clause_errors(items: list[pytest.Item]) -> list[str]:
    """One line per test whose clause marker is empty or names a clause not catalogued."""
    errors = []
    for item in items:
        for mark in item.iter_markers("clause"):
            if not mark.args:
                errors.append(f"{item.nodeid}: @pytest.mark.clause() names no clause")
            for name in unknown_clauses(mark.args):
                errors.append(f"{item.nodeid}: unknown clause {name}")
    return errors


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ClauseRecorder(config.getoption("trace_results")), "clauses")


class ClauseRecorder:
    """Checks the markers at collection, then keeps each marked test's outcome."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.clauses: dict[str, list[str]] = {}
        self.outcomes: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        errors = clause_errors(items)
        if errors:
            raise pytest.UsageError(
                "clause markers name clauses not in carnk_mfg/traceability/catalogue.py "
                "(add the clause there, or correct the marker):\n  " + "\n  ".join(errors)
            )
        self.clauses = {item.nodeid: clauses_of(item) for item in items if clauses_of(item)}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.clauses:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            # A failure outside the test itself (in a fixture) is an error, as pytest says.
            failed = "failed" if report.when == "call" else "error"
            self.outcomes[report.nodeid] = failed if report.failed else report.outcome
        elif report.when == "teardown" and report.failed:
            self.outcomes[report.nodeid] = "error"

    def pytest_sessionfinish(self) -> None:
        if self.path is None:
            return
        tests = [
            {"nodeid": nodeid, "clauses": self.clauses[nodeid], "outcome": outcome}
            for nodeid, outcome in self.outcomes.items()
        ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"tests": tests}, indent=1) + "\n", encoding="utf-8")
