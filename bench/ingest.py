"""Instrument ingest: 50,000 readings through the HTTP API in requests of 500 (a real gunicorn
server on loopback), against the same rows inserted in-process with bulk_create.

Both paths write the same rows (a reading and its cell count each, with their trail events);
the API also parses and validates every item, checks idempotency, and authenticates the key.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal

from bench.fixtures import bench_batch, bench_instrument, bench_user

TOTAL = 50_000
PER_REQUEST = 500
# A batch has one count per culture day (0-60): the readings spread over enough batches.
DAYS = 61


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fixtures():
    from qc.services.instruments import instrument_key_create

    admin = bench_user("bench-admin", "admin")
    instrument = bench_instrument(admin)
    _, key = instrument_key_create(actor=admin, instrument=instrument, label="bench")
    batches = [
        bench_batch(
            lot_number=f"BENCH-INGEST-{n:04d}",
            din=f"W04202690{n:04d}",
            state="in_process",
            user=admin,
        )
        for n in range(-(-TOTAL // DAYS))
    ]
    return instrument, key, batches


def _items(batches, n):
    """Reading i is the count of batch i // DAYS on culture day i % DAYS."""
    from django.utils import timezone

    at = (timezone.now() - timedelta(hours=1)).isoformat()
    return [
        {
            "reading_id": str(uuid.uuid4()),
            "sample_id": f"{batches[i // DAYS].lot_number}-D{i % DAYS:02d}",
            "measured_at": at,
            "total_cells_per_ml": 2.0e6 + i,
            "viable_cells_per_ml": 1.8e6,
            "volume_ml": 100,
        }
        for i in range(n)
    ]


def _truncate():
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("TRUNCATE qc_instrumentreading, batches_cellcount RESTART IDENTITY CASCADE")


def _via_api(batches, key) -> float:
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "carnk_mfg.settings", "DEBUG": "false"}
    server = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "carnk_mfg.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        items = _items(batches, TOTAL)
        bodies = [
            json.dumps(items[offset : offset + PER_REQUEST])
            for offset in range(0, TOTAL, PER_REQUEST)
        ]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
        start = time.perf_counter()
        for body in bodies:
            conn.request("POST", "/api/v1/readings/", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            assert response.status == 201, payload[:500]
        return time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(30)


def _via_bulk_create(batches, instrument) -> float:
    from django.db import transaction
    from django.utils import timezone

    from batches.models import CellCount
    from qc.models import InstrumentReading

    items = _items(batches, TOTAL)
    start = time.perf_counter()
    for offset in range(0, TOTAL, PER_REQUEST):
        chunk = items[offset : offset + PER_REQUEST]
        now = timezone.now()
        with transaction.atomic():
            counts = CellCount.objects.bulk_create(
                [
                    CellCount(
                        batch=batches[n // DAYS],
                        day=n % DAYS,
                        measured_at=i["measured_at"],
                        total_cells_per_ml=i["total_cells_per_ml"],
                        viable_cells_per_ml=i["viable_cells_per_ml"],
                        viability_pct=Decimal("90.00"),
                        volume_ml=Decimal(100),
                        total_viable_cells=i["viable_cells_per_ml"] * 100,
                        source="instrument",
                        recorded_by=instrument.user,
                        recorded_at=now,
                    )
                    for n, i in enumerate(chunk, start=offset)
                ]
            )
            InstrumentReading.objects.bulk_create(
                [
                    InstrumentReading(
                        reading_id=i["reading_id"],
                        instrument=instrument,
                        sample_id=i["sample_id"],
                        batch=c.batch,
                        measured_at=i["measured_at"],
                        values={},
                        cell_count=c,
                        received_at=now,
                    )
                    for i, c in zip(chunk, counts, strict=True)
                ]
            )
    return time.perf_counter() - start


def run():
    from django.db import connection

    instrument, key, batches = _fixtures()
    _truncate()
    api_s = _via_api(batches, key)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM qc_instrumentreading")
        assert cur.fetchone()[0] == TOTAL
    _truncate()
    bulk_s = _via_bulk_create(batches, instrument)
    api_rate, bulk_rate = TOTAL / api_s, TOTAL / bulk_s
    print(
        f"ingest: HTTP API   {TOTAL:,} readings in {api_s:.1f} s = {api_rate:,.0f} readings/s "
        f"({TOTAL // PER_REQUEST} requests of {PER_REQUEST}, gunicorn 2 workers, loopback)"
    )
    print(f"ingest: bulk_create {TOTAL:,} readings in {bulk_s:.1f} s = {bulk_rate:,.0f} readings/s")
    print(f"ingest: API / bulk_create = {api_rate / bulk_rate:.2f}")
