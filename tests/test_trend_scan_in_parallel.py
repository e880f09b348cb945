"""Two trend scans at once (two beat schedulers, or a scan still running when the next one
starts) read each point once, judge it once and raise each signal once, without an error.
The rules of the scan itself are proven in tests/services/test_process_trending.py."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from qc import spc
from qc.models import Notification, TrendPoint, TrendSignal
from qc.selectors import trends as selectors
from qc.services import trends
from tests.factories import PASSWORD
from tests.trend_batches import thawed_batch, tnc_attribute


def scans_at_once() -> tuple[list[trends.TrendScanResult], list[BaseException]]:
    """Two scans started together on their own connections: what each returned or raised."""
    barrier = threading.Barrier(2)
    results: list[trends.TrendScanResult] = []
    errors: list[BaseException] = []

    def scan() -> None:
        barrier.wait()
        try:
            results.append(trends.scan_trends())
        except BaseException as exc:  # noqa: BLE001 - the test reports any error of a scan
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_two_first_scans_at_once_read_each_point_once(baseline_batches):
    results, errors = scans_at_once()
    assert not errors
    # Every point was new to exactly one of the two scans.
    assert sum(r.points for r in results) == TrendPoint.objects.count()
    assert tnc_attribute().points.count() == len(baseline_batches)


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_raise_each_signal_once(
    baseline_batches, qa, technician, approved_template
):
    trends.scan_trends()
    trends.trend_baseline_fix(
        actor=qa,
        password=PASSWORD,
        attribute=tnc_attribute(),
        lots=[b.lot_number for b in baseline_batches],
        reason="baseline",
    )
    start, new = timezone.now() - timedelta(hours=1), [5.0e8, 5.1e8, 9.0e8, 5.2e8]
    for i, tnc in enumerate(new):
        thawed_batch(technician, approved_template, tnc, start + timedelta(minutes=i))
    attribute = tnc_attribute()
    baseline = selectors.baseline_in_force(attribute)
    assert baseline is not None
    limits = selectors.limits_of(baseline)
    values = [p.value for p in selectors.series(attribute)] + new
    judged = range(len(baseline_batches), len(values))
    expected = sum(len(spc.rules_fired_at(values, i, limits)) for i in judged)
    assert expected >= 4  # beyond 3 sigma three times, 2 of 3 beyond 2 sigma at least once
    mail.outbox.clear()

    results, errors = scans_at_once()

    assert not errors
    assert attribute.points.count() == len(values)
    assert sum(r.signals for r in results) == expected
    signals = TrendSignal.objects.filter(point__attribute=attribute)
    assert signals.count() == expected
    assert len(set(signals.values_list("point", "rule"))) == expected
    # One notice per signal to QA, in the app and by email, each sent once.
    assert Notification.objects.filter(trend_signal__in=signals).count() == expected * 2
    assert len([m for m in mail.outbox if m.subject.startswith("Trend signal")]) == expected
