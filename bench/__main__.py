"""`python -m bench [name ...]`: run the benchmarks on a database of their own.

Uses DATABASE_URL's server (or the embedded one, like `make test`), in a separate database
(`carnk_bench`, or BENCH_DATABASE), so no real or test data is touched. Run one benchmark by
name, e.g. `python -m bench import_parse`. `--quick` (CI) runs the small sizes of the
benchmarks that have them and checks their ratios loosely, never an absolute time; the others
are skipped.
"""

import os
import sys
from collections.abc import Callable


def main(argv: list[str]) -> int:
    from carnk_mfg.embedded_servers import embedded_services

    with embedded_services():
        url = os.environ["DATABASE_URL"]
        base, _, query = url.partition("?")
        os.environ["DATABASE_URL"] = (
            base.rsplit("/", 1)[0]
            + "/"
            + os.environ.get("BENCH_DATABASE", "carnk_bench")
            + (f"?{query}" if query else "")
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carnk_mfg.settings")
        import django

        django.setup()
        from bench import import_parse, ingest, qc_scan, trends

        qc_scan.prepare()
        runs: dict[str, Callable[..., None]] = {
            "qc_scan": qc_scan.run,
            "ingest": ingest.run,
            "import_parse": import_parse.run,
            "trends": trends.run,
        }
        quick = "--quick" in argv
        names = [a for a in argv if a != "--quick"] or list(runs)
        # The benchmarks with a small size of their own for --quick.
        has_quick = {"qc_scan"}
        for name in names:
            if not quick:
                runs[name]()
            elif name in has_quick:
                runs[name](quick=True)
            else:
                print(f"{name}: no --quick size yet; skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
