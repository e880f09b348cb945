"""Process trending in the UI: the list of figures with sparklines, one figure's control
charts drawn as SVG with a hover text per point, QA's signed baseline and assessment through
forms, the CSV of every point, and pages whose queries do not grow with the batches."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from qc.models import TrendSignal
from qc.services import trends
from tests.factories import PASSWORD
from tests.trend_batches import BASELINE_TNC, thawed_batch, tnc_attribute

pytestmark = pytest.mark.django_db


def test_the_list_shows_each_figure_with_its_sparkline(client, baseline_batches, technician):
    trends.scan_trends()
    client.force_login(technician)
    page = client.get("/qc/trends/").content.decode()
    attribute = tnc_attribute()
    assert f'href="/qc/trends/{attribute.pk}/"' in page
    row = page.split(f'href="/qc/trends/{attribute.pk}/"', 1)[1].split("</tr>", 1)[0]
    (spark,) = re.findall(r'<polyline points="([^"]+)"', row)
    assert len(spark.split()) == len(BASELINE_TNC)


def test_qa_fixes_a_baseline_and_assesses_a_signal_through_the_pages(
    client, baseline_batches, qa, technician, approved_template
):
    trends.scan_trends()
    attribute = tnc_attribute()
    client.force_login(qa)
    url = f"/qc/trends/{attribute.pk}/"
    page = client.get(url).content.decode()
    assert "No baseline yet" in page
    individuals = page.split('<svg id="individuals-chart"', 1)[1].split("</svg>", 1)[0]
    moving_range = page.split('<svg id="moving-range-chart"', 1)[1].split("</svg>", 1)[0]
    assert len(re.findall(r"<circle ", individuals)) == len(BASELINE_TNC)
    assert len(re.findall(r"<circle ", moving_range)) == len(BASELINE_TNC) - 1

    refused = client.post(url, {"lots": "CNK-NOPE", "reason": "r", "password": PASSWORD})
    assert refused.status_code == 200 and "CNK-NOPE" in refused.content.decode()
    assert not attribute.baselines.exists()
    lots = "\n".join(b.lot_number for b in baseline_batches)
    fixed = client.post(url, {"lots": lots, "reason": "Validated batches", "password": PASSWORD})
    assert fixed.status_code == 302

    thawed_batch(technician, approved_template, 5e8, timezone.now() - timedelta(hours=1))
    trends.scan_trends()
    page = client.get(url).content.decode()
    assert "UCL" in page and "LCL" in page and "Centre" in page
    (signal_point,) = re.findall(r'<circle [^>]*class="signal"><title>([^<]+)</title>', page)
    assert "1 point beyond 3 sigma" in signal_point
    signal = TrendSignal.objects.get()
    assess = f"/qc/trend-signals/{signal.pk}/assess/"
    assert f'href="{assess}"' in page
    missing = client.post(
        assess, {"assessment": "investigation", "comment": "Low TNC", "password": PASSWORD}
    )
    assert missing.status_code == 200 and "Name the investigation" in missing.content.decode()
    done = client.post(
        assess,
        {
            "assessment": "investigation",
            "comment": "Low TNC",
            "investigation_reference": "INV-7",
            "password": PASSWORD,
        },
    )
    assert done.status_code == 302
    assert "INV-7" in client.get(url).content.decode()


def test_only_qa_may_fix_or_assess(client, baseline_batches, technician):
    trends.scan_trends()
    attribute = tnc_attribute()
    client.force_login(technician)
    page = client.get(f"/qc/trends/{attribute.pk}/")
    assert page.status_code == 200 and "Sign baseline" not in page.content.decode()
    r = client.post(
        f"/qc/trends/{attribute.pk}/", {"lots": "x", "reason": "r", "password": PASSWORD}
    )
    assert r.status_code == 403


def test_the_csv_holds_every_point(client, baseline_batches, technician):
    trends.scan_trends()
    attribute = tnc_attribute()
    client.force_login(technician)
    response = client.get(f"/qc/trends/{attribute.pk}/points.csv")
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["lot_number"] for r in rows] == [b.lot_number for b in baseline_batches]
    assert [float(r["value"]) for r in rows] == BASELINE_TNC


def test_pages_cost_the_same_queries_with_more_batches(
    client, baseline_batches, technician, qa, approved_template, django_assert_max_num_queries
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
    client.force_login(technician)
    with django_assert_max_num_queries(30) as few:
        client.get(f"/qc/trends/{attribute.pk}/")
    with django_assert_max_num_queries(30) as few_list:
        client.get("/qc/trends/")
    # More batches, two of them far off the process: more points, and signals to draw.
    start = timezone.now() - timedelta(hours=5)
    for i, tnc in enumerate([9e8, 5e8, 9e8, 5.1e8, 9e8]):
        thawed_batch(technician, approved_template, tnc, start + timedelta(minutes=i))
    assert trends.scan_trends().signals >= 2
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(f"/qc/trends/{attribute.pk}/").content.decode()
    assert "1 point beyond 3 sigma" in page
    with django_assert_max_num_queries(len(few_list.captured_queries)):
        client.get("/qc/trends/")
