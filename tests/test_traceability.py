"""The traceability matrix: clause markers checked against the catalogue, outcomes recorded,
and the matrix's rows, statuses and exit status. No database."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest

from carnk_mfg.traceability import catalogue
from carnk_mfg.traceability.__main__ import main
from carnk_mfg.traceability.catalogue import BY_ID, CLAUSES, Clause, unknown_clauses
from carnk_mfg.traceability.matrix import (
    CSV_HEADER,
    NO_TEST,
    RunResult,
    build_rows,
    csv_rows,
    read_results,
    summary,
    unproven_core,
)

pytest_plugins = ["pytester"]

DESIGN_SECTION_8 = [
    "21 CFR 11.10(e)",
    "21 CFR 11.50",
    "21 CFR 11.70",
    "21 CFR 11.200",
    "21 CFR 11.10(d)",
    "21 CFR 11.10(g)",
    "DESIGN 8 Segregation of duties",
    "21 CFR 1271.50",
    "21 CFR 1271.60",
    "21 CFR 1271.65",
    "ISBT 128 DIN",
]


def test_the_catalogue_holds_design_section_8_as_core_and_each_clause_once():
    assert [c.id for c in CLAUSES if c.core] == [c for c in BY_ID if c in DESIGN_SECTION_8]
    assert sorted(c.id for c in CLAUSES if c.core) == sorted(DESIGN_SECTION_8)
    assert len(BY_ID) == len(CLAUSES)
    assert all(c.requirement and c.feature for c in CLAUSES)


def test_unknown_clauses_are_named_as_written():
    assert unknown_clauses(["21 CFR 11.10(e)", "21 CFR 11.10e", 11]) == ["21 CFR 11.10e", "11"]


# --- the plugin, in a pytest run of its own ---

CONFTEST = """
pytest_plugins = ["tests.traceability"]

def pytest_configure(config):
    config.addinivalue_line("markers", "clause(*ids): clauses a test proves")
"""


@pytest.fixture
def run(pytester, monkeypatch):
    monkeypatch.delenv("TRACE_RESULTS", raising=False)
    # The run imports the plugin and the catalogue from this checkout, and needs no Django.
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
    pytester.makeconftest(CONFTEST)

    def run(source, *args):
        pytester.makepyfile(test_marked=textwrap.dedent(source))
        return pytester.runpytest_subprocess(
            "-p", "no:django", "-p", "no:cacheprovider", "--strict-markers", *args
        )

    return run


def test_a_clause_not_in_the_catalogue_fails_the_collection_naming_the_test(run):
    result = run(
        """
        import pytest

        @pytest.mark.clause("21 CFR 11.10(e)", "21 CFR 11.10e")
        def test_typo():
            pass

        @pytest.mark.clause()
        def test_empty():
            pass
        """
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*clause markers name clauses not in carnk_mfg/traceability/catalogue.py*",
            "*test_marked.py::test_typo: unknown clause 21 CFR 11.10e",
            "*test_marked.py::test_empty: @pytest.mark.clause() names no clause",
        ]
    )
    result.stdout.no_fnmatch_line("*passed*")


def test_outcomes_of_marked_tests_are_written(run, pytester):
    path = pytester.path / "out" / "results.json"
    result = run(
        """
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("fixture")

        @pytest.mark.clause("21 CFR 11.50")
        @pytest.mark.clause("21 CFR 11.70")
        def test_passes():
            pass

        @pytest.mark.clause("21 CFR 11.200")
        def test_fails():
            assert False

        @pytest.mark.clause("ISBT 128 DIN")
        def test_skips():
            pytest.skip("not here")

        @pytest.mark.clause("21 CFR 1271.50")
        def test_errors(broken):
            pass

        @pytest.mark.clause("21 CFR 1271.60")
        @pytest.mark.parametrize("n", [1, 2])
        def test_each(n):
            assert n == 1

        def test_unmarked():
            pass
        """,
        "--trace-results",
        str(path),
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    tests = {t["nodeid"].split("::")[1]: t for t in json.loads(path.read_text())["tests"]}
    assert {name: t["outcome"] for name, t in tests.items()} == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_skips": "skipped",
        "test_errors": "error",
        "test_each[1]": "passed",
        "test_each[2]": "failed",
    }
    assert sorted(tests["test_passes"]["clauses"]) == ["21 CFR 11.50", "21 CFR 11.70"]


def test_the_results_file_comes_from_the_environment_too(run, pytester, monkeypatch):
    path = pytester.path / "env.json"
    monkeypatch.setenv("TRACE_RESULTS", str(path))
    source = """
        import pytest

        @pytest.mark.clause("21 CFR 11.50")
        def test_passes():
            pass
        """
    assert run(source).ret == pytest.ExitCode.OK
    assert [t["outcome"] for t in json.loads(path.read_text())["tests"]] == ["passed"]


# --- the matrix ---

CORE = Clause("CORE 1", "A core requirement.", "core.module", core=True)
OTHER = Clause("OTHER 1", "Another requirement.", "other.module")
UNBUILT = Clause("LATER 1", "A later requirement.", catalogue.NOT_BUILT)


def test_a_clause_without_tests_shows_no_test_and_a_core_one_fails_the_matrix():
    results = [RunResult("t.py::test_a", ("CORE 1",), "passed")]
    rows = build_rows(results, (CORE, UNBUILT))
    assert [(r.clause.id, r.status, r.passing) for r in rows] == [
        ("CORE 1", "covered", 1),
        ("LATER 1", NO_TEST, 0),
    ]
    assert unproven_core(rows) == []
    assert unproven_core(build_rows([], (CORE, UNBUILT))) == build_rows([], (CORE,))


@pytest.mark.parametrize(
    "outcomes, status, passing",
    [
        (["passed", "skipped"], "covered", 1),
        (["passed", "failed"], "failing", 1),
        (["error"], "failing", 0),
        (["skipped"], "not proven", 0),
    ],
)
def test_status_follows_the_outcomes(outcomes, status, passing):
    results = [RunResult(f"t.py::test_{i}", ("CORE 1",), o) for i, o in enumerate(outcomes)]
    (row,) = build_rows(results, (CORE,))
    assert (row.status, row.passing) == (status, passing)
    assert bool(unproven_core([row])) == (passing == 0)


def test_the_generator_writes_html_and_csv_with_the_same_rows(tmp_path, capsys):
    results = tmp_path / "results.json"
    marked = [
        {"nodeid": "tests/a.py::test_trail", "clauses": ["21 CFR 11.10(e)"], "outcome": "passed"},
        {"nodeid": "tests/b.py::test_din<x>", "clauses": ["ISBT 128 DIN"], "outcome": "failed"},
    ]
    results.write_text(json.dumps({"tests": marked}))

    assert main([str(results), "--out", str(tmp_path / "var")]) == 1  # most core clauses unproven
    out, err = capsys.readouterr()
    assert f"traceability: {len(CLAUSES)} clauses, 1 with at least one passing test, 2 tests" in out
    assert "no passing test: ISBT 128 DIN (failing)" in err
    assert "no passing test: 21 CFR 11.10(e)" not in err

    with (tmp_path / "var" / "traceability.csv").open(newline="") as f:
        written = list(csv.reader(f))
    rows = build_rows(read_results(results))
    assert written == [CSV_HEADER, *csv_rows(rows)]
    by_clause = {row[0]: row for row in written[1:]}
    assert by_clause["21 CFR 11.10(e)"][3:] == ["covered", "1", "passed tests/a.py::test_trail"]
    # A clause no result names: its feature, and no test.
    feature = catalogue.BY_ID["21 CFR 312.6(a)"].feature
    assert by_clause["21 CFR 312.6(a)"][2:5] == [feature, NO_TEST, "0"]

    page = (tmp_path / "var" / "traceability.html").read_text()
    assert page.count('<th scope="row">') == len(CLAUSES)
    assert "test_din&lt;x&gt;" in page and "<x>" not in page
    assert summary(rows) in page


def test_the_generator_says_when_there_are_no_results(tmp_path, capsys):
    assert main([str(tmp_path / "missing.json")]) == 2
    assert "run make trace first" in capsys.readouterr().err


def test_every_core_clause_proven_exits_zero(tmp_path):
    results = tmp_path / "results.json"
    marked = [{"nodeid": f"t.py::test_{i}", "clauses": [c], "outcome": "passed"}
              for i, c in enumerate(DESIGN_SECTION_8)]  # fmt: skip
    results.write_text(json.dumps({"tests": marked}))
    assert main([str(results), "--out", str(tmp_path)]) == 0
