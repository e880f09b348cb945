"""The trend page and API of one attribute must not slow down as batches accumulate: they draw
the newest TREND_CHART_POINTS points whatever the length of the series.

Builds one attribute's series over 100 and over 10,000 batches (with a signed-looking
baseline and a signal every 40 points), then times GET /qc/trends/<id>/ and
GET /api/v1/trends/<id>/ as a QA user (Django test client, in-process): p50 and p95 of
REQUESTS requests at each size, the ratio large / small, and the plan of the chart's read.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from bench.fixtures import bench_batch, bench_user

SIZES = (100, 10_000)
REQUESTS = 50
WARM_UP = 3
SIGNAL_EVERY = 40


def _batches(user, how_many: int) -> list:
    """`how_many` released-looking batches of the default template (inserted in bulk: bench
    rows, not GMP records), created once and reused."""
    from batches.models import Batch

    first = bench_batch(
        lot_number="BENCH-TREND-00000", din="W042027000000", state="planned", user=user
    )
    have = set(
        Batch.objects.filter(lot_number__startswith="BENCH-TREND-").values_list(
            "lot_number", flat=True
        )
    )
    missing = [n for n in range(1, how_many) if f"BENCH-TREND-{n:05d}" not in have]
    Batch.objects.bulk_create(
        [
            Batch(
                lot_number=f"BENCH-TREND-{n:05d}",
                din=f"W042027{n:06d}",
                source_unit_id=first.source_unit_id,
                template_id=first.template_id,
                unit_fraction_used_pct=1,
                state="planned",
                state_changed_at=first.state_changed_at,
                created_by=user,
                created_at=first.created_at,
            )
            for n in missing
        ],
        batch_size=2000,
    )
    return list(
        Batch.objects.filter(lot_number__startswith="BENCH-TREND-").order_by("lot_number")[
            :how_many
        ]
    )


def _series(user, how_many: int):
    """The attribute `bench:<how_many>` with one point per batch, an hour apart, a baseline
    on its first 20 points and a signal every SIGNAL_EVERY points; built once."""
    from django.db import connection
    from django.utils import timezone

    from qc.models import TrendAttribute, TrendPoint

    batches = _batches(user, how_many)
    now = timezone.now()
    attribute, made = TrendAttribute.objects.get_or_create(
        template_id=batches[0].template_id,
        key=f"bench:{how_many}",
        spec_set=None,
        defaults={
            "source": "cell_count",
            "name": f"Bench fold expansion ({how_many:,} batches)",
            "unit": "fold",
            "spec_lower": 100.0,
            "spec_upper": 2000.0,
            "created_at": now,
        },
    )
    if not made:
        return attribute
    start = now - timedelta(hours=how_many + 1)
    points = TrendPoint.objects.bulk_create(
        [
            TrendPoint(
                attribute=attribute,
                batch=batch,
                value=1000.0 + 37 * ((n * 7919) % 11) - 185,
                observed_at=start + timedelta(hours=n),
                updated_at=now,
            )
            for n, batch in enumerate(batches)
        ],
        batch_size=2000,
    )
    _baseline_and_signals(user, attribute, points, now)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE qc_trendpoint")
    return attribute


def _baseline_and_signals(user, attribute, points, now) -> None:
    """A baseline on the first 20 points and a signal every SIGNAL_EVERY points after it."""
    from qc.models import TrendBaseline, TrendSignal

    baseline = TrendBaseline.objects.create(
        attribute=attribute,
        chosen_as="The first 20 points",
        centre=1000.0,
        sigma=120.0,
        mean_moving_range=135.0,
        point_count=20,
        covers_until=points[19].observed_at,
        reason="Bench baseline",
        fixed_by=user,
        fixed_at=now,
    )
    baseline.points.set(points[:20])
    TrendSignal.objects.bulk_create(
        [
            TrendSignal(
                point=p,
                baseline=baseline,
                rule="8 points in a row on one side of the centre",
                value=p.value,
                raised_at=now,
            )
            for p in points[20::SIGNAL_EVERY]
        ]
    )


def _times(client, urls: list[str]) -> list[tuple[float, float]]:
    """p50 and p95 (ms) of REQUESTS GETs of each url, after WARM_UP rounds; the urls take
    turns, so a busy moment of a shared machine falls on every size alike."""
    times: list[list[float]] = [[] for _ in urls]
    for n in range(WARM_UP + REQUESTS):
        for url, kept in zip(urls, times, strict=True):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (url, response.status_code)
            if n >= WARM_UP:
                kept.append(elapsed * 1000)
    return [(statistics.median(t), statistics.quantiles(t, n=20)[18]) for t in times]


def _plan(attribute) -> str:
    from django.conf import settings
    from django.db import connection

    from qc.selectors.trends import series

    query = series(attribute).order_by("-observed_at", "-batch_id")[: settings.TREND_CHART_POINTS]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cur.fetchall())


def run():
    from django.conf import settings
    from django.test import Client

    qa = bench_user("bench-qa", "qa")
    client = Client()
    client.force_login(qa)
    started = time.perf_counter()
    attributes = [_series(qa, size) for size in SIZES]
    print(f"trends: series of {SIZES} batches ready in {time.perf_counter() - started:.0f} s")
    pages = _times(client, [f"/qc/trends/{a.pk}/" for a in attributes])
    apis = _times(client, [f"/api/v1/trends/{a.pk}/" for a in attributes])
    for size, page, api in zip(SIZES, pages, apis, strict=True):
        print(
            f"trends: {size:>6,} batches: page p50 {page[0]:.1f} ms p95 {page[1]:.1f} ms; "
            f"API p50 {api[0]:.1f} ms p95 {api[1]:.1f} ms "
            f"({REQUESTS} requests each, {settings.TREND_CHART_POINTS} points drawn)"
        )
    print(
        f"trends: ratio {SIZES[1]:,}/{SIZES[0]:,}: page p50 {pages[1][0] / pages[0][0]:.2f} "
        f"p95 {pages[1][1] / pages[0][1]:.2f}; API p50 {apis[1][0] / apis[0][0]:.2f} "
        f"p95 {apis[1][1] / apis[0][1]:.2f}"
    )
    plan = _plan(attributes[-1])
    print(f"trends: plan of the chart's read at {SIZES[1]:,} batches:")
    print("\n".join("    " + line for line in plan.splitlines()))
    assert "trend_point_series" in plan, "the chart's read does not use the series index"
