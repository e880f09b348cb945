"""The periodic product review on real batch records: the selector fills the PDF's inputs,
the PDF is read back with pypdf and its figures checked against values worked out here; the
download refuses bad periods with a 400."""

from datetime import timedelta

import pytest
from django.utils import timezone

from qc import spc
from qc.documents.product_review import figure, product_review_pdf
from qc.models import QcTest, TrendSignal
from qc.selectors.product_review import product_review
from qc.services import results, trends
from tests.batch_steps import formulate, planned_days_ago, result_all
from tests.documents.pdf_reading import norm_text, page_texts
from tests.factories import PASSWORD, UserFactory
from tests.trend_batches import BASELINE_TNC, thawed_batch, tnc_attribute

pytestmark = pytest.mark.django_db

LOW_TNC = 5e8


def _text(template, days_back=7, **kw):
    today = timezone.localdate()
    review = product_review(template, today - timedelta(days=days_back), today)
    return " ".join(page_texts(product_review_pdf(review, **kw)))


@pytest.fixture
def assessed_signal(baseline_batches, qa, technician, approved_template):
    """Ten baseline batches fixed as the signed baseline, then one low TNC batch whose
    signal QA assessed as an investigation."""
    trends.scan_trends()
    trends.trend_baseline_fix(
        actor=qa,
        password=PASSWORD,
        attribute=tnc_attribute(),
        lots=[b.lot_number for b in baseline_batches],
        reason="First ten batches of the validated process",
    )
    thawed_batch(technician, approved_template, LOW_TNC, timezone.now() - timedelta(hours=1))
    trends.scan_trends()
    return trends.trend_signal_assess(
        actor=qa,
        password=PASSWORD,
        signal=TrendSignal.objects.get(),
        assessment="investigation",
        comment="Low TNC after a long transport",
        investigation_reference="INV-7",
    )


def test_the_review_shows_batches_limits_capability_and_the_assessed_signal(
    assessed_signal, approved_template
):
    text = _text(approved_template)
    attribute = tnc_attribute()

    assert "Periodic product review" in text
    assert "Batches made: 11. Of these, released: 0; rejected: 0; recalled: 0." in text
    assert f"{attribute.name} (cells)" in text
    assert "11 points in the period. Specification: at least 1.00 × 10^8 cells." in text
    # The limits as worked out by hand: mean 9.03e8; moving ranges 2,3,2,3,2,3,4,2,1 (e7),
    # mean 2.444e7, sigma = 2.444e7 / 1.128 = 2.167e7.
    by_hand_sigma = (22e7 / 9) / 1.128
    assert f"Centre {figure(9.03e8)}" in text and "Centre 9.03 × 10^8" in text
    assert f"UCL {figure(9.03e8 + 3 * by_hand_sigma)}" in text
    assert f"LCL {figure(9.03e8 - 3 * by_hand_sigma)}" in text
    assert "UCL 9.68 × 10^8, LCL 8.38 × 10^8" in text
    assert "from 10 baseline points" in text
    assert "Lots " in text and "signed by" in text

    values = [*BASELINE_TNC, LOW_TNC]
    capability = spc.capability(values, lower=1e8, upper=None, minimum_points=10)
    assert f"Cpk {capability.cpk:.2f}" in text and f"Ppk {capability.ppk:.2f}" in text
    assert "over 11 points" in text
    assert norm_text(spc.NORMALITY_CAVEAT) in text

    lot = assessed_signal.point.batch.lot_number
    assert f"{lot} 1 point beyond 3 sigma {figure(LOW_TNC)}" in text
    assert "Investigation opened (INV-7): Low TNC after a long transport" in text
    assert "Deviations opened: 0; still open: 0." in text
    assert "Out-of-specification results: 0." in text


def test_capability_says_why_it_is_missing(baseline_batches, approved_template, settings):
    trends.scan_trends()
    settings.TREND_CAPABILITY_MIN_POINTS = 50
    text = _text(approved_template)
    assert "Capability not computed: Capability needs at least 50 points; there are 10." in text
    assert "No baseline fixed: no control limits" in text
    assert "No signals in the period." in text


def test_a_period_before_the_batches_shows_none(baseline_batches, approved_template):
    trends.scan_trends()
    today = timezone.localdate()
    review = product_review(
        approved_template, today - timedelta(days=400), today - timedelta(days=300)
    )
    text = " ".join(page_texts(product_review_pdf(review)))
    assert "Batches made: 0." in text
    assert "0 points in the period." in text


def test_released_recalled_and_out_of_spec_are_counted(
    in_qc_batch, technician, qc_analyst, qa, approved_template
):
    with planned_days_ago(1 / 24):
        result_all(in_qc_batch, qc_analyst, UserFactory.create(username="qc-b", role="qc_analyst"))
        formulate(in_qc_batch, technician, ("A0",))
        from batches.services import release

        release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
        release.batch_release_decide(
            actor=qa, password=PASSWORD, batch=in_qc_batch, decision="release", reason="ok"
        )
        release.batch_recall(actor=qa, password=PASSWORD, batch=in_qc_batch, reason="Complaint")
    text = _text(approved_template, days_back=60)
    in_qc_batch.refresh_from_db()
    assert "Batches made: 1. Of these, released: 1; rejected: 0; recalled: 1." in text
    assert f"{in_qc_batch.lot_number} " in text and "Recalled" in text


def test_an_out_of_spec_result_and_its_deviation_are_listed(
    in_qc_batch, qc_analyst, approved_template
):
    endotoxin = QcTest.objects.get(batch=in_qc_batch, definition__code="endotoxin")
    results.qc_result_enter(actor=qc_analyst, test=endotoxin, value="9.0", unit="EU/mL")
    text = _text(approved_template, days_back=60)
    assert "Out-of-specification results: 1." in text
    in_qc_batch.refresh_from_db()
    assert f"{in_qc_batch.lot_number} Endotoxin 9 EU/mL less than 5 EU/mL" in text
    assert "Deviations opened: 1; still open: 1." in text
    assert "Out-of-specification result 1" in text


def test_the_list_page_offers_the_review_and_the_download_answers(
    client, baseline_batches, technician, approved_template
):
    trends.scan_trends()
    client.force_login(technician)
    page = client.get("/qc/trends/").content.decode()
    assert 'id="product-review-form"' in page and 'action="/qc/trends/review.pdf"' in page
    today = timezone.localdate()
    response = client.get(
        "/qc/trends/review.pdf",
        {"template": approved_template.pk, "start": f"{today - timedelta(days=30)}", "end": today},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "Batches made: 10." in " ".join(page_texts(response.content))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-01-01"}, "end: This field is required."),
        ({"start": "2026-13-01", "end": "2026-12-31"}, "start: Enter a valid date."),
        ({"start": "yesterday", "end": "2026-12-31"}, "start: Enter a valid date."),
        ({"start": "2026-06-01", "end": "2026-05-31"}, "The period ends before it starts."),
        ({"start": "2020-01-01", "end": "2026-01-02"}, "at most five years"),
        ({"template": "999999", "start": "2026-01-01", "end": "2026-02-01"}, "No such process"),
        ({"template": "abc", "start": "2026-01-01", "end": "2026-02-01"}, "No such process"),
        ({"template": "", "start": "2026-01-01", "end": "2026-02-01"}, "template: This field"),
    ],
)
def test_bad_periods_and_templates_are_refused_with_a_400(
    client, technician, approved_template, query, message
):
    client.force_login(technician)
    response = client.get("/qc/trends/review.pdf", {"template": approved_template.pk, **query})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_review_costs_the_same_queries_with_more_batches(
    baseline_batches, technician, approved_template, django_assert_max_num_queries
):
    trends.scan_trends()
    today = timezone.localdate()
    with django_assert_max_num_queries(100) as few:
        product_review(approved_template, today - timedelta(days=7), today)
    start = timezone.now() - timedelta(hours=5)
    for i in range(5):
        thawed_batch(technician, approved_template, 9e8, start + timedelta(minutes=i))
    trends.scan_trends()
    with django_assert_max_num_queries(len(few.captured_queries)):
        product_review(approved_template, today - timedelta(days=7), today)
