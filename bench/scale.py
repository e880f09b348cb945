"""Pages and API lists at a facility's scale: the same pages over a small and a large
facility's database, under N concurrent users, side by side.

Two databases of their own (`<BENCH_DATABASE>_scale_<batches>`, copied from one migrated
template), each built once through the real models and reused while its marker row matches
the size, seed and generator version:

- the work in hand is a facility's, the same at either size (a few batches planned, in
  process, harvested, in QC, on hold); the history grows with the size: released, rejected
  and terminated batches with their executed steps, daily cell counts, QC tests, deviations,
  custody hand-offs, release decisions, bags, instrument readings (one per count and
  replicates per numeric QC result) and the pghistory trail their inserts write. Rows are
  inserted in bulk (bench rows, not GMP records); the batches walk the lifecycle with
  set-based UPDATEs, as the database insists, so the trail holds each transition.
- then two gunicorn servers (2 workers each, one per database) on loopback, and threads as
  users, each signed in (a session made server-side) as the role that opens the page, asking
  for each page of both sizes in turn, so a busy moment falls on both alike: p50/p95/p99 per
  page and size, the ratio large/small, at 1, 5 and 10 users; and each page's query count
  at both sizes (Django test client, in the database's own process).

`python -m bench scale` (10,000 and 100 batches), `python -m bench scale --quick` (200 and
20, few requests; checks the ratios loosely, never absolute times); `python -m bench
scale_build` builds the databases only.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from bench.fixtures import gunicorn_start

SEED = 20261201
# Bump when the generator changes: databases built by another version are rebuilt.
VERSION = 1
FULL_SIZES = (100, 10_000)
QUICK_SIZES = (20, 200)
FULL_USERS = (1, 5, 10)
QUICK_USERS = (1, 3)
# Rounds each user makes of every page at both sizes, per number of users.
FULL_ROUNDS = {1: 20, 5: 6, 10: 4}
QUICK_ROUNDS = {1: 3, 3: 2}
# Quick mode checks only that no page grows grossly with the data (CI machines are noisy).
QUICK_RATIO_LIMIT = 3.0
GOAL_RATIO = 1.3
GOAL_ONE_USER_P95_MS = 150


# --- pages: (name, role, path); `{lot}` is the batch of the middle of the table ---

PAGES = [
    ("home: technician", "technician", "/"),
    ("home: QC analyst", "qc_analyst", "/"),
    ("home: QA", "qa", "/"),
    ("home: clinical", "clinical", "/"),
    ("batch list", "technician", "/batches/"),
    ("batch record", "technician", "/batches/{lot}/"),
    ("QC worklist", "qc_analyst", "/qc/"),
    ("release queue", "qa", "/release/"),
    ("bedside", "clinical", "/bedside/"),
    ("API batches", "technician", "/api/v1/batches/"),
    ("API QC tests", "qc_analyst", "/api/v1/qc-tests/"),
    ("API readings", "qc_analyst", "/api/v1/readings/"),
    ("API doses", "clinical", "/api/v1/doses/"),
]
ROLES = sorted({role for _, role, _ in PAGES})


def lot_number(n: int) -> str:
    return f"SCALE-{n:05d}"


def middle_lot(size: int) -> str:
    return lot_number(size // 2)


# --- databases (parent process) ---


def _database_url(name: str) -> str:
    url = os.environ["DATABASE_URL"]
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")


def _names(sizes) -> tuple[str, dict[int, str]]:
    from django.conf import settings

    base = settings.DATABASES["default"]["NAME"]
    return f"{base}_scale_template", {size: f"{base}_scale_{size}" for size in sizes}


def _server_connection(dbname: str = "postgres"):
    import psycopg2
    from django.conf import settings

    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname=dbname,
        user=db["USER"],
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        password=db["PASSWORD"] or None,
    )
    conn.autocommit = True
    return conn


def _exists(name: str) -> bool:
    conn = _server_connection()
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cur.fetchone() is not None
    conn.close()
    return found


def _admin(statement) -> None:
    conn = _server_connection()
    with conn.cursor() as cur:
        cur.execute(statement)
    conn.close()


def _marker_matches(name: str, size: int) -> bool:
    conn = _server_connection(name)
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_scale_marker')")
        if cur.fetchone()[0] is None:
            conn.close()
            return False
        cur.execute("SELECT size, seed, version FROM bench_scale_marker")
        row = cur.fetchone()
    conn.close()
    return row == (size, SEED, VERSION)


def _child(command: str, database: str, *args: str) -> str:
    """Run `command` of this module in a process of its own on `database`; its stdout."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(database),
        "DJANGO_SETTINGS_MODULE": "carnk_mfg.settings",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", command, *args],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return done.stdout


def build(sizes) -> None:
    """Each size's database, built once (a copy of one migrated template, then filled)."""
    from psycopg2.sql import SQL, Identifier

    template, names = _names(sizes)
    for size, name in names.items():
        if _exists(name) and _marker_matches(name, size):
            _child("migrate", name)  # the app may have moved on since
            print(f"scale: {name} ({size:,} batches) already built: reused")
            continue
        if _exists(name):
            _admin(SQL("DROP DATABASE {}").format(Identifier(name)))
        if not _exists(template):
            _admin(SQL("CREATE DATABASE {}").format(Identifier(template)))
        started = time.perf_counter()
        _child("migrate", template)
        _admin(SQL("CREATE DATABASE {} TEMPLATE {}").format(Identifier(name), Identifier(template)))
        print(_child("build", name, str(size)), end="")
        print(f"scale: {name} ({size:,} batches) built in {time.perf_counter() - started:.0f} s")


# --- each page's query count, and the users' sessions (child process) ---


def _prepare(size: int) -> None:
    """Sessions for each role (cookies), and each page's status and query count."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.fixtures import bench_user

    clients, cookies = {}, {}
    for role in ROLES:
        client = Client()
        client.force_login(bench_user(f"scale-{role}", role))
        clients[role] = client
        cookies[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    queries = {}
    for name, role, path in PAGES:
        url = path.format(lot=middle_lot(size))
        clients[role].get(url)  # warm
        with CaptureQueriesContext(connection) as captured:
            response = clients[role].get(url)
        queries[name] = (response.status_code, len(captured.captured_queries))
    print(json.dumps({"cookies": cookies, "queries": queries}))


# --- the load (parent process) ---


def _start_server(database: str) -> tuple[subprocess.Popen, int]:
    return gunicorn_start(_database_url(database))


@dataclass
class Target:
    size: int
    page: str
    port: int
    path: str
    cookie: str


def _user(targets: list[Target], rounds: int, offset: int, times, errors, lock) -> None:
    """One user: `rounds` times every page, each at both sizes one after the other (the
    order turning each round), starting at its own page."""
    connections: dict[int, http.client.HTTPConnection] = {}
    pairs = [targets[i : i + 2] for i in range(0, len(targets), 2)]
    for r in range(rounds):
        for k in range(len(pairs)):
            pair = pairs[(k + offset) % len(pairs)]
            for t in pair if (r + offset) % 2 == 0 else reversed(pair):
                conn = connections.setdefault(
                    t.port, http.client.HTTPConnection("127.0.0.1", t.port, timeout=120)
                )
                started = time.perf_counter()
                conn.request("GET", t.path, headers={"Cookie": f"sessionid={t.cookie}"})
                response = conn.getresponse()
                response.read()
                elapsed = (time.perf_counter() - started) * 1000
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                with lock:
                    if response.status != 200:
                        errors.append((t.size, t.page, response.status))
                    times[(t.size, t.page)].append(elapsed)


def _drive(targets: list[Target], users: int, rounds: int) -> dict[tuple[int, str], list[float]]:
    times: dict[tuple[int, str], list[float]] = {(t.size, t.page): [] for t in targets}
    errors: list = []
    lock = threading.Lock()
    threads = [
        threading.Thread(target=_user, args=(targets, rounds, u, times, errors, lock))
        for u in range(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, f"pages did not answer 200: {sorted(set(errors))}"
    return times


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    if len(samples) < 2:
        return samples[0], samples[0], samples[0]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def _level_table(results, small: int, large: int) -> list[str]:
    """p50/p95/p99 of each page at both sizes, and the ratios, at one number of users."""
    lines = [
        f"    {'page':<18} {'p50':>7} {'p95':>7} {'p99':>7} | {'p50':>7} {'p95':>7} "
        f"{'p99':>7} | ratio p50  p95"
    ]
    for name, _, _ in PAGES:
        s, g = results[(small, name)], results[(large, name)]
        lines.append(
            f"    {name:<18} {s[0]:7.0f} {s[1]:7.0f} {s[2]:7.0f} | {g[0]:7.0f} "
            f"{g[1]:7.0f} {g[2]:7.0f} | {g[0] / s[0]:5.2f} {g[1] / s[1]:5.2f}"
        )
    return lines


def _goals(results, levels, small: int, large: int) -> list[str]:
    """The large size's p95 by number of users, and which pages miss a goal."""
    lines: list[str] = []
    lines.append(
        f"scale: {large:,} batches, p95 by users ({', '.join(map(str, levels))}); goals: "
        f"one user p95 < {GOAL_ONE_USER_P95_MS} ms, ratio p50 <= {GOAL_RATIO}"
    )
    misses = []
    for name, _, _ in PAGES:
        curve = [results[u][(large, name)][1] for u in levels]
        one = results[levels[0]][(large, name)][1]
        ratio = max(results[u][(large, name)][0] / results[u][(small, name)][0] for u in levels)
        miss = []
        if one >= GOAL_ONE_USER_P95_MS:
            miss.append("p95")
        if ratio > GOAL_RATIO:
            miss.append("ratio")
        if miss:
            misses.append(name)
        lines.append(
            f"    {name:<18} "
            + " ".join(f"{c:7.0f}" for c in curve)
            + f"   worst ratio {ratio:4.2f}"
            + (f"   misses: {', '.join(miss)}" if miss else "")
        )
    lines.append(f"scale: pages missing a goal: {', '.join(misses) or 'none'}")
    return lines


class _Report(list[str]):
    """The report's lines, printed as they come (a long run shows how far it is)."""

    def append(self, line: str) -> None:
        print(line, flush=True)
        super().append(line)


def measure(sizes, *, quick: bool) -> list[str]:
    """Load both sizes' servers; the report's lines (also printed). Quick mode asserts the
    loose ratio."""
    _, names = _names(sizes)
    small, large = sizes
    prepared = {size: json.loads(_child("prepare", names[size], str(size))) for size in sizes}
    lines = _Report()
    lines.append("scale: queries per page (status) at " + " / ".join(f"{s:,}" for s in sizes))
    for name, _, _ in PAGES:
        counts = [prepared[s]["queries"][name] for s in sizes]
        grows = " (differs)" if counts[1][1] != counts[0][1] else ""
        lines.append(f"    {name:<18} " + " / ".join(f"{q} ({st})" for st, q in counts) + grows)
    servers = {size: _start_server(names[size]) for size in sizes}
    try:
        targets = [
            Target(
                size,
                name,
                servers[size][1],
                path.format(lot=middle_lot(size)),
                prepared[size]["cookies"][role],
            )
            for name, role, path in PAGES
            for size in sizes
        ]
        _drive(targets, users=1, rounds=1)  # warm every worker's caches
        levels = QUICK_USERS if quick else FULL_USERS
        rounds = QUICK_ROUNDS if quick else FULL_ROUNDS
        results = {}
        for users in levels:
            started = time.perf_counter()
            times = _drive(targets, users=users, rounds=rounds[users])
            results[users] = {key: _percentiles(v) for key, v in times.items()}
            n = sum(len(v) for v in times.values())
            lines.append(
                f"scale: {users} user(s): {n} requests in {time.perf_counter() - started:.0f} s "
                f"(ms; ratio = {large:,}/{small:,} of p50 and p95)"
            )
            for line in _level_table(results[users], small, large):
                lines.append(line)
        if not quick:
            for line in _goals(results, levels, small, large):
                lines.append(line)
    finally:
        for server, _ in servers.values():
            server.terminate()
        for server, _ in servers.values():
            server.wait(30)
    if quick:
        loose = [
            (users, name, round(r[(large, name)][0] / r[(small, name)][0], 2))
            for users, r in results.items()
            for name, _, _ in PAGES
            if r[(large, name)][0] / r[(small, name)][0] >= QUICK_RATIO_LIMIT
        ]
        assert not loose, f"pages {QUICK_RATIO_LIMIT}x slower at {large} batches: {loose}"
    return lines


def run(quick: bool = False) -> None:
    sizes = QUICK_SIZES if quick else FULL_SIZES
    build(sizes)
    measure(sizes, quick=quick)


def run_build(quick: bool = False) -> None:
    build(QUICK_SIZES if quick else FULL_SIZES)


def _child_main(argv: list[str]) -> int:
    import django

    django.setup()
    command = argv[0]
    if command == "migrate":
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    elif command == "build":
        from bench.scale_data import build_database

        build_database(int(argv[1]))
    elif command == "prepare":
        _prepare(int(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
