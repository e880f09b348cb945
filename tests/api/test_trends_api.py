"""Process trending through the API: attributes, points, QA's signed baseline, signals and
their assessment; errors per field, and only QA may sign."""

from datetime import timedelta

import pytest
from django.utils import timezone

from qc.services import trends
from tests.factories import PASSWORD
from tests.trend_batches import (
    TNC,
    thawed_batch,
    tnc_attribute,
)

pytestmark = pytest.mark.django_db


def test_attributes_points_baseline_and_signal(
    api, baseline_batches, qa, technician, approved_template
):
    trends.scan_trends()
    attribute = tnc_attribute()
    r = api.as_user(technician).get("/api/v1/trends/", {"source": "step_parameter"})
    assert r.status_code == 200
    row = next(a for a in r.json()["results"] if a["key"] == TNC)
    assert row["point_count"] == 10 and row["open_signals"] == 0

    r = api.as_user(technician).get(f"/api/v1/trends/{attribute.pk}/points/")
    assert r.status_code == 200
    assert [p["batch"] for p in r.json()["results"]] == [b.lot_number for b in baseline_batches]

    lots = [b.lot_number for b in baseline_batches]
    body = {"lots": lots, "reason": "Validated process batches", "password": PASSWORD}
    r = api.as_user(technician).post(
        f"/api/v1/trends/{attribute.pk}/baseline/", body, format="json"
    )
    assert r.status_code == 403
    r = api.as_user(qa).post(f"/api/v1/trends/{attribute.pk}/baseline/", body, format="json")
    assert r.status_code == 201, r.json()
    baseline = r.json()["baseline"]
    assert baseline["point_count"] == 10
    assert baseline["upper_control_limit"] == pytest.approx(
        baseline["centre"] + 3 * baseline["sigma"]
    )

    thawed_batch(technician, approved_template, 1.4e9, timezone.now() - timedelta(hours=1))
    trends.scan_trends()
    r = api.as_user(qa).get("/api/v1/trend-signals/", {"open": "true"})
    (signal,) = r.json()["results"]
    assert signal["rule"] == "1 point beyond 3 sigma" and signal["attribute"] == attribute.pk

    r = api.as_user(qa).post(
        f"/api/v1/trend-signals/{signal['id']}/assess/",
        {"assessment": "investigation", "comment": "High TNC", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 400 and "investigation_reference" in r.json()
    r = api.as_user(qa).post(
        f"/api/v1/trend-signals/{signal['id']}/assess/",
        {"assessment": "no_action", "comment": "A rich unit; within spec.", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["assessed_by"] == qa.username
    assert api.as_user(qa).get("/api/v1/trend-signals/", {"open": "true"}).json()["count"] == 0


def test_a_baseline_request_with_errors_changes_nothing(api, baseline_batches, qa):
    trends.scan_trends()
    attribute = tnc_attribute()
    url = f"/api/v1/trends/{attribute.pk}/baseline/"
    r = api.as_user(qa).post(url, {"reason": "", "password": PASSWORD}, format="json")
    assert r.status_code == 400 and "reason" in r.json()
    r = api.as_user(qa).post(
        url,
        {"from_date": "2026-12-01", "to_date": "2026-11-01", "reason": "r", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 400 and "to_date" in r.json()
    r = api.as_user(qa).post(
        url, {"lots": ["CNK-000000"], "reason": "r", "password": PASSWORD}, format="json"
    )
    assert r.status_code == 400 and "CNK-000000" in r.json()["lots"][0]
    r = api.as_user(qa).post(
        url,
        {"lots": [baseline_batches[0].lot_number], "reason": "r", "password": "wrong"},
        format="json",
    )
    assert r.status_code in (400, 403)
    assert not attribute.baselines.exists()


def test_an_attribute_costs_the_same_queries_with_more_batches(
    api, baseline_batches, qa, technician, approved_template, django_assert_max_num_queries
):
    trends.scan_trends()
    attribute = tnc_attribute()
    trends.trend_baseline_fix(
        actor=qa,
        password=PASSWORD,
        attribute=attribute,
        lots=[b.lot_number for b in baseline_batches],
        reason="baseline",
    )
    reader = api.as_user(technician)
    urls = [f"/api/v1/trends/{attribute.pk}/", f"/api/v1/trends/{attribute.pk}/points/"]
    few = []
    for url in urls:
        with django_assert_max_num_queries(30) as counted:
            assert reader.get(url).status_code == 200
        few.append(len(counted.captured_queries))
    # More batches, two of them far off the process: more points, and signals.
    start = timezone.now() - timedelta(hours=5)
    for i, tnc in enumerate([9e8, 5e8, 9e8, 5.1e8, 9e8]):
        thawed_batch(technician, approved_template, tnc, start + timedelta(minutes=i))
    assert trends.scan_trends().signals >= 2
    for url, before in zip(urls, few, strict=True):
        with django_assert_max_num_queries(before):
            assert reader.get(url).status_code == 200
