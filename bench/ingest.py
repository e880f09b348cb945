"""Instrument ingest: readings through the HTTP API in requests of 500 (a real gunicorn server
on loopback), against the same rows written in-process with `bulk_create` and with PostgreSQL
COPY, each with the trail on and off (the in-process paths five times each, medians).

Every path writes the same rows (a reading and its cell count each) in the same transactions
(one per 500); with the trail on, each row also gets its insert event. The API also parses and
validates every item, checks idempotency and the count rules, and authenticates the key. COPY's
text is made before its clock starts: it measures what the database itself can take.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

from bench.fixtures import bench_batch, bench_instrument, bench_user, gunicorn_start

TOTAL = 50_000
QUICK_TOTAL = 5_000
PER_REQUEST = 500
# Runs of each in-process path (bulk_create and COPY, trail on and off); medians reported.
IN_PROCESS_RUNS = 5
# A batch has one count per culture day (0-60): the readings spread over enough batches.
DAYS = 61
# The trail's insert triggers on the two tables: switched off (as the owning role may) for the
# runs that measure the rows alone.
TRAIL_TRIGGERS = ("batches.CellCount:insert_insert", "qc.InstrumentReading:insert_insert")


def _fixtures(total: int):
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
        for n in range(-(-total // DAYS))
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
    """Empty the two tables and their trail: each run starts from the same empty tables."""
    from django.db import connection

    from carnk_mfg.dbroles import trail_truncate_allowed

    with trail_truncate_allowed(), connection.cursor() as cur:
        cur.execute(
            "TRUNCATE qc_instrumentreading, batches_cellcount, qc_instrumentreadingevent,"
            " batches_cellcountevent RESTART IDENTITY CASCADE"
        )


@contextlib.contextmanager
def _trail(on: bool) -> Iterator[None]:
    """With `on` false, the session asks the trail's insert triggers to skip (the owning role
    may; pgtrigger's own `ignore` would miss COPY, which bypasses Django's cursor)."""
    import pgtrigger
    from django.db import connection

    pgids = [trigger.get_pgid(model) for model, trigger in pgtrigger.registered(*TRAIL_TRIGGERS)]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT set_config('pgtrigger.ignore', %s, false)",
            ["" if on else "{" + ",".join(pgids) + "}"],
        )
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('pgtrigger.ignore', '', false)")


def _who_and_why(instrument):
    """The trail's context, as the API's requests set it."""
    from carnk_mfg.audit import audited

    return audited(actor=instrument.user, reason=f"Readings from {instrument.serial_number}")


def _via_api(batches, key, total) -> float:
    server, port = gunicorn_start(os.environ["DATABASE_URL"])
    try:
        items = _items(batches, total)
        bodies = [
            json.dumps(items[offset : offset + PER_REQUEST])
            for offset in range(0, total, PER_REQUEST)
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


def _rows(batches, instrument, items, offset, ids):
    """The cell counts and readings of one chunk, as model instances (ids given)."""
    from django.utils import timezone

    from batches.models import CellCount
    from qc.models import InstrumentReading

    now = timezone.now()
    counts = [
        CellCount(
            id=count_id,
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
        for n, i, count_id in zip(range(offset, offset + len(items)), items, ids, strict=True)
    ]
    readings = [
        InstrumentReading(
            id=count.id,
            reading_id=i["reading_id"],
            instrument=instrument,
            sample_id=i["sample_id"],
            batch=count.batch,
            measured_at=i["measured_at"],
            values={k: v for k, v in i.items() if k not in ("reading_id", "sample_id")},
            cell_count=count,
            received_at=now,
        )
        for i, count in zip(items, counts, strict=True)
    ]
    return counts, readings


def _chunks(batches, instrument, total):
    items = _items(batches, total)
    for offset in range(0, total, PER_REQUEST):
        chunk = items[offset : offset + PER_REQUEST]
        ids = range(offset + 1, offset + len(chunk) + 1)
        yield _rows(batches, instrument, chunk, offset, ids)


def _via_bulk_create(batches, instrument, total, *, trail: bool) -> float:
    from django.db import transaction

    from batches.models import CellCount
    from qc.models import InstrumentReading

    chunks = list(_chunks(batches, instrument, total))
    start = time.perf_counter()
    with _trail(trail):
        for counts, readings in chunks:
            with transaction.atomic(), _who_and_why(instrument):
                CellCount.objects.bulk_create(counts)
                InstrumentReading.objects.bulk_create(readings)
    return time.perf_counter() - start


def _copy_text(model, rows) -> tuple[str, str]:
    """COPY's column list and text-format rows for `rows`."""
    from django.db import models

    fields = model._meta.concrete_fields
    lines = []
    for row in rows:
        values = []
        for field in fields:
            value = getattr(row, field.attname)
            if value is None:
                values.append("\\N")
            elif isinstance(field, models.JSONField):
                values.append(json.dumps(value).replace("\\", "\\\\"))
            else:
                values.append(str(value.isoformat() if hasattr(value, "isoformat") else value))
        lines.append("\t".join(values))
    columns = ", ".join(f'"{field.column}"' for field in fields)
    return columns, "\n".join(lines) + "\n"


def _via_copy(batches, instrument, total, *, trail: bool) -> float:
    from django.db import connection, transaction

    from batches.models import CellCount
    from carnk_mfg.audit import trail_context_for_copy
    from qc.models import InstrumentReading

    texts = [
        (_copy_text(CellCount, counts), _copy_text(InstrumentReading, readings))
        for counts, readings in _chunks(batches, instrument, total)
    ]
    start = time.perf_counter()
    with _trail(trail):
        for (count_columns, count_rows), (reading_columns, reading_rows) in texts:
            with transaction.atomic(), _who_and_why(instrument), connection.cursor() as cursor:
                trail_context_for_copy(cursor)
                cursor.cursor.copy_expert(
                    f"COPY batches_cellcount ({count_columns}) FROM STDIN",
                    io.StringIO(count_rows),
                )
                cursor.cursor.copy_expert(
                    f"COPY qc_instrumentreading ({reading_columns}) FROM STDIN",
                    io.StringIO(reading_rows),
                )
    return time.perf_counter() - start


def _readings_written(expected: int) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM qc_instrumentreading")
        assert cur.fetchone()[0] == expected


def run(quick: bool = False):
    total = QUICK_TOTAL if quick else TOTAL
    instrument, key, batches = _fixtures(total)
    seconds = {}
    _truncate()
    seconds["HTTP API, trail on"] = _via_api(batches, key, total)
    _readings_written(total)
    # The in-process paths take seconds, not tens: a checkpoint or a neighbour's burst moves one
    # run by a third. Each is run several times, trail on and off in turn; the medians count.
    runs: dict[str, list[float]] = {}
    for _ in range(1 if quick else IN_PROCESS_RUNS):
        for trail in (True, False):
            label = "on" if trail else "off"
            _truncate()
            runs.setdefault(f"bulk_create, trail {label}", []).append(
                _via_bulk_create(batches, instrument, total, trail=trail)
            )
            _truncate()
            runs.setdefault(f"COPY, trail {label}", []).append(
                _via_copy(batches, instrument, total, trail=trail)
            )
            _readings_written(total)
    seconds.update({path: statistics.median(times) for path, times in runs.items()})
    _truncate()
    for path, s in seconds.items():
        print(f"ingest: {path:24s} {total:,} readings in {s:5.1f} s = {total / s:7,.0f} readings/s")
    api_to_copy = seconds["COPY, trail on"] / seconds["HTTP API, trail on"]
    trail_bulk = seconds["bulk_create, trail on"] / seconds["bulk_create, trail off"]
    trail_copy = seconds["COPY, trail on"] / seconds["COPY, trail off"]
    print(f"ingest: API / COPY (trail on) = {api_to_copy:.2f} (goal >= 0.5)")
    print(f"ingest: trail cost, bulk_create = {trail_bulk:.2f}x, COPY = {trail_copy:.2f}x (<= 1.3)")
    if quick:
        # Loose: the shape must hold at a small size on a shared machine, not the goals.
        assert api_to_copy > 0.1, api_to_copy
        assert trail_bulk < 3 and trail_copy < 3, (trail_bulk, trail_copy)
