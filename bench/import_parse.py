"""Instrument file import: a 5,000-row Vi-CELL BLU summary CSV (the row cap) uploaded through
the API, then parsed on the worker's path (a child process per parse, as `qc.parse_import`
runs it), and a 30,000-row file refused by the row cap.

Reports the upload's answer time, the parse's wall time and the parse child's peak resident
memory (getrusage RUSAGE_CHILDREN, measured in a fresh process whose only child is the
parse), the time from upload to `ready` through `import_parse` (child plus preview), and the
time to refuse the 30,000-row file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench.fixtures import bench_instrument, bench_user

ROWS = 5_000
TOO_MANY = 30_000
SAMPLE = Path(__file__).parent.parent / "tests" / "instrument_files" / "vicell_blu_summary_utf8.csv"

_MEASURE = """
import json, resource, sys, time
from qc.instrument_files.isolated import parse_in_child
data = sys.stdin.buffer.read()
start = time.perf_counter()
parsed = parse_in_child(data, "Results.csv", seconds=int(sys.argv[1]), memory_mb=int(sys.argv[2]))
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"rows": len(parsed.rows), "seconds": took, "peak_mb": peak}))
"""


def vicell_summary(rows: int, run: str) -> bytes:
    """A Vi-CELL BLU summary export of `rows` samples, each row as in the instrument's own
    export (tests/instrument_files); `run` makes each file new."""
    header, line = SAMPLE.read_text(encoding="utf-8").splitlines()[:2]
    lines = [header] + [
        line.replace("CNK-260001-D07", f"BENCH-{run}-{i:05d}-D07") for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def _parse_in_fresh_process(data: bytes) -> dict:
    from django.conf import settings

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURE,
            str(settings.IMPORT_PARSE_SECONDS),
            str(settings.IMPORT_PARSE_MEMORY_MB),
        ],
        input=data,
        capture_output=True,
        check=True,
    )
    return json.loads(done.stdout)


def _post(client, key: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    start = time.perf_counter()
    answer = client.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("Results.csv", data)},
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    return answer, time.perf_counter() - start


def run():
    import redis
    from django.conf import settings
    from django.test import Client

    from qc.services.imports import import_parse
    from qc.services.instruments import instrument_key_create

    admin = bench_user("bench-admin", "admin")
    _, key = instrument_key_create(actor=admin, instrument=bench_instrument(admin), label="bench")
    # The upload queues the parse on the broker; no worker runs here, so use a queue of the
    # benchmark's own and drop it afterwards.
    settings.IMPORT_PARSE_QUEUE = f"bench-imports-{uuid.uuid4().hex[:8]}"
    run_id = uuid.uuid4().hex[:6]
    client = Client()
    try:
        data = vicell_summary(ROWS, run_id)
        answer, upload_s = _post(client, key, data)
        assert answer.status_code == 202, answer.content[:500]
        start = time.perf_counter()
        assert import_parse(answer.json()["id"]) == "ready"
        ready_s = time.perf_counter() - start
        child = _parse_in_fresh_process(data)
        assert child["rows"] == ROWS
        refused, refuse_s = _post(client, key, vicell_summary(TOO_MANY, run_id))
        assert refused.status_code == 400, refused.content[:500]
    finally:
        redis.Redis.from_url(settings.REDIS_CLIENT_URL).delete(settings.IMPORT_PARSE_QUEUE)
    size = len(data) / 1e6
    print(f"import: upload of {ROWS:,} rows ({size:.1f} MB) answered 202 in {upload_s:.2f} s")
    print(
        f"import: parse of {ROWS:,} rows in a child process: {child['seconds']:.1f} s, "
        f"peak {child['peak_mb']:.0f} MB resident"
    )
    print(f"import: upload to ready through import_parse (child + preview): {ready_s:.1f} s")
    print(f"import: {TOO_MANY:,}-row file refused (400) in {refuse_s:.2f} s, no parse")
