"""`python -m bench [name ...]`: run the benchmarks on a database of their own.

Uses DATABASE_URL's server (or the embedded one, like `make test`), in a separate database
(`carnk_bench`, or BENCH_DATABASE), so no real or test data is touched. Run one benchmark by
name, e.g. `python -m bench import_parse`. `--quick` (CI): only the benchmarks that have a
quick mode, in it (small sizes, few requests, loose ratio checks, never absolute times).
"""

import inspect
import os
import sys


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    argv = [a for a in argv if a != "--quick"]
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
        from bench import import_parse, ingest, qc_scan, scale, trends

        runs = {
            "qc_scan": qc_scan.run,
            "ingest": ingest.run,
            "import_parse": import_parse.run,
            "trends": trends.run,
            "scale": scale.run,
        }
        # Not run by default: builds the scale bench's databases only.
        extra = {"scale_build": scale.run_build}
        chosen = [{**runs, **extra}[name] for name in argv or runs]
        with_quick = [run for run in chosen if "quick" in inspect.signature(run).parameters]
        # The scale bench keeps databases of its own; the others share this one.
        if quick:
            chosen = with_quick
        if any(run not in (scale.run, scale.run_build) for run in chosen):
            qc_scan.prepare()
        for run in chosen:
            run(**({"quick": quick} if run in with_quick else {}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
