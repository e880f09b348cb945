"""The overdue scan's cost must not grow with closed tests (DESIGN section 5).

Loads 10,000 and then 1,000,000 closed (reviewed) QC tests, each time with 1,000 open tests
that have just become overdue (due in the last 17 minutes, as the minute scan finds them), and
times one scan (flagging, alert rows, outbox rows and sending the in-app and email
notifications to one analyst). Reports the median of 5 scans, the ratio, and the query plan of
the scan's claim; then, at 1,000,000 closed, a backlog: 1,000 tests a day overdue, flagged and
escalated to QA in the same scan. `--quick` loads 1,000 and 50,000 closed with 200 newly
overdue, 3 scans each, and checks only that the ratio stays under 2 (never a time).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta
from pathlib import Path

from bench.fixtures import bench_batch, bench_user


def _setup_database():
    import psycopg2
    from django.conf import settings

    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname="postgres",
        user=db["USER"],
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        password=db["PASSWORD"] or None,
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{db["NAME"]}"')
    conn.close()


def _fixtures():
    from qc.models import QcTestDefinition

    analyst = bench_user("bench-qc", "qc_analyst")
    batch = bench_batch(lot_number="BENCH-1", din="W042026999999", state="planned", user=analyst)
    return batch, QcTestDefinition.objects.get(code="endotoxin", spec_set__template=batch.template)


def _load(batch, definition, *, closed: int | None, overdue: int, late=timedelta(0)):
    """Bulk-load rows in SQL with triggers off for the session: benchmark data, not GMP.
    `overdue` open tests came due `late` ago and in the 17 minutes before; `closed=None` keeps
    the closed tests already loaded and replaces only the open ones."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        if closed is None:
            cur.execute("DELETE FROM qc_notification")
            cur.execute("DELETE FROM qc_qcalert")
            cur.execute("DELETE FROM qc_qctest WHERE state = 'planned'")
        else:
            cur.execute("TRUNCATE qc_notification, qc_qcalert, qc_qctest RESTART IDENTITY CASCADE")
            cur.execute(
                """
                INSERT INTO qc_qctest (batch_id, definition_id, state, triggered_at,
                    sample_due_at, due_at, result_numeric, result_text, result_unit, evaluation,
                    in_spec, result_source, resulted_at, reviewed_at, overdue_flagged_at)
                SELECT %s, %s, 'reviewed', now() - (g || ' minutes')::interval,
                    now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval
                    + interval '1 day', 1.0, '', 'EU/mL', 'in spec', true, 'manual',
                    now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval,
                    CASE WHEN g %% 10 = 0 THEN now() END
                FROM generate_series(1, %s) g
                """,
                [batch.pk, definition.pk, closed],
            )
        cur.execute(
            """
            INSERT INTO qc_qctest (batch_id, definition_id, state, triggered_at, sample_due_at,
                due_at, result_text, result_unit, evaluation, result_source)
            SELECT %s, %s, 'planned', now() - interval '2 days', now() - interval '2 days',
                now() - %s - (g || ' seconds')::interval, '', '', '', 'manual'
            FROM generate_series(1, %s) g
            """,
            [batch.pk, definition.pk, late, overdue],
        )
        cur.execute("SET session_replication_role = DEFAULT")
        cur.execute("VACUUM ANALYZE qc_qctest")


def _reset_flags():
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("DELETE FROM qc_notification")
        cur.execute("DELETE FROM qc_qcalert")
        cur.execute(
            "UPDATE qc_qctest SET overdue_flagged_at = NULL, due_soon_flagged_at = NULL, "
            "escalated_at = NULL WHERE state = 'planned'"
        )
        cur.execute("SET session_replication_role = DEFAULT")


def _database_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend, when the server runs
    on this machine (read from /proc); None otherwise."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        (pid,) = cur.fetchone()
    proc = Path(f"/proc/{pid}")
    try:
        if not proc.joinpath("comm").read_text().startswith("postgres"):
            return None
        fields = proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _time_scans(repeats=5):
    """Median wall time of `repeats` scans, and median CPU time (this process plus its
    database backend, when that can be read): on a machine shared with other work the wall
    time includes waiting for a core, the CPU time does not."""
    from qc.services.overdue import scan_overdue

    times, cpu = [], []
    result = None
    for _ in range(repeats):
        _reset_flags()
        database_before = _database_cpu()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = scan_overdue()
        times.append(time.perf_counter() - start)
        app_cpu = time.process_time() - start_cpu
        database_after = _database_cpu()
        if database_before is not None and database_after is not None:
            cpu.append(app_cpu + database_after - database_before)
    return statistics.median(times), (statistics.median(cpu) if cpu else None), result


def _cpu_note(cpu: float | None) -> str:
    return "" if cpu is None else f", CPU {cpu * 1000:.0f} ms app + database"


def _plan() -> str:
    from django.db import connection
    from django.utils import timezone

    from qc.selectors import overdue_q
    from qc.services.overdue import CLAIM_LIMIT, unflagged

    qs = unflagged(flag_field="overdue_flagged_at", selects=overdue_q(now=timezone.now()))
    ids = qs.values_list("id", flat=True)[:CLAIM_LIMIT]
    sql, params = ids.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cur.fetchall())


def prepare():
    """Create and migrate the benchmark database (shared by every benchmark)."""
    from django.conf import settings
    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _setup_database()
    call_command("migrate", verbosity=0)


def run(*, quick: bool = False):
    batch, definition = _fixtures()
    bench_user("bench-qa", "qa")  # the escalations' addressee
    sizes, newly, repeats = ((1_000, 50_000), 200, 3) if quick else ((10_000, 1_000_000), 1000, 5)
    rows = []
    for closed in sizes:
        started = time.perf_counter()
        _load(batch, definition, closed=closed, overdue=newly)
        load_s = time.perf_counter() - started
        seconds, cpu, result = _time_scans(repeats)
        assert (result.overdue, result.escalated) == (newly, 0), result
        rows.append((closed, seconds))
        print(
            f"qc_scan: {closed:>9,} closed + {newly:,} newly overdue: scan {seconds * 1000:.0f} ms "
            f"(median of {repeats}{_cpu_note(cpu)}; {result.sent} notifications sent; "
            f"load {load_s:.0f} s)"
        )
    plan = _plan()
    ratio = rows[1][1] / rows[0][1]
    print(f"qc_scan: ratio {sizes[1]:,}/{sizes[0]:,} = {ratio:.2f}")
    print(f"qc_scan: plan of the overdue claim at {sizes[1]:,} closed:")
    print("\n".join("    " + line for line in plan.splitlines()))
    assert "qctest_overdue_scan" in plan, "the claim does not use the partial index"
    if quick:
        # Small tables and a shared machine: only a gross loss of flatness fails.
        assert ratio < 2, f"the scan's time grows with closed tests: ratio {ratio:.2f}"
        return
    _load(batch, definition, closed=None, overdue=newly, late=timedelta(days=1))
    seconds, cpu, result = _time_scans(repeats)
    assert (result.overdue, result.escalated) == (newly, newly), result
    print(
        f"qc_scan: backlog, {sizes[1]:,} closed + {newly:,} a day overdue (flagged and "
        f"escalated in one scan): {seconds * 1000:.0f} ms (median of {repeats}{_cpu_note(cpu)})"
    )
