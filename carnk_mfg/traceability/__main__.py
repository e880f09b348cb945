"""python -m carnk_mfg.traceability [results.json] [--out DIR]

Builds var/traceability.html and var/traceability.csv from the results of the last run that
wrote them (``make trace``, or ``make test``), prints the counts, and exits 1 when a DESIGN
section 8 clause has no passing test.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from carnk_mfg.traceability.matrix import (
    build_rows,
    read_results,
    summary,
    unproven_core,
    write_csv,
    write_html,
)

DEFAULT_RESULTS = Path("var/trace-results.json")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m carnk_mfg.traceability")
    parser.add_argument("results", nargs="?", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--out", type=Path, default=Path("var"))
    args = parser.parse_args(argv)
    if not args.results.exists():
        print(f"no test results at {args.results}: run make trace first", file=sys.stderr)
        return 2
    rows = build_rows(read_results(args.results))
    args.out.mkdir(parents=True, exist_ok=True)
    write_html(rows, args.out / "traceability.html", str(args.results))
    write_csv(rows, args.out / "traceability.csv")
    print(f"traceability: {summary(rows)}")
    print(f"written: {args.out / 'traceability.html'}, {args.out / 'traceability.csv'}")
    unproven = unproven_core(rows)
    for row in unproven:
        print(f"no passing test: {row.clause.id} ({row.status})", file=sys.stderr)
    return 1 if unproven else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
