"""Each role's everyday work done through the UI alone, from the home page after signing in,
counting the clicks, Enter-submits, typed fields and page loads it takes
(var/journey_clicks.json): what the lab floor pays for each task, to be brought down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import BedsideCheck, CellCount, ExecutedStep, Infusion
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.signatures import signatures_for
from qc.models import QcTest
from qc.models import TestState as QcTestState
from tests.batch_steps import coi_scan, record_steps, result_all, scan
from tests.browser.conftest import Journey, record_journey
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def local(moment) -> str:
    """A time as a datetime-local field takes it (the site's zone)."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def start(visit, user) -> Journey:
    v = visit()
    v.sign_in(user.username, PASSWORD)
    return Journey(v)


def finish(name: str, journeys: list[Journey]) -> dict:
    counts = {key: sum(j.counts[key] for j in journeys) for key in journeys[0].counts}
    record_journey(name, counts)
    for j in journeys:
        assert j.visit.page_errors == []
    return counts


def test_technician_records_the_next_step_and_a_count(visit, running_batch, technician):
    day0 = timezone.now() - timedelta(days=20)
    batch = record_steps(running_batch, technician, day0=day0, first=3)
    j = start(visit, technician)

    # The home page lists the batch's late step; its link opens the batch page.
    j.click(f'main a[href="{batch.get_absolute_url()}"] >> nth=0', navigates=True)
    # Step 4, restimulation: the feeder ratio and the feeder lot (its kind is prefilled).
    j.fill('#step-form [name="values.feeder_nk_ratio"]', "1")
    j.fill('#step-form [name="materials.0.lot_number"]', "FD-1")
    j.fill("#step-form [name=performed_at]", local(day0 + timedelta(days=7)))
    j.click("#step-form button[type=submit]")
    j.sign(PASSWORD)
    assert ExecutedStep.objects.filter(batch=batch, template_step__code="restimulation").exists()

    j.click("#more-actions summary:has-text('Record a cell count')")
    j.fill("#count-form [name=day]", "7")
    j.fill("#count-form [name=measured_at]", local(day0 + timedelta(days=7, hours=2)))
    j.fill("#count-form [name=total_cells_per_ml]", "2.2e6")
    j.fill("#count-form [name=viable_cells_per_ml]", "2.0e6")
    j.fill("#count-form [name=volume_ml]", "50")
    j.click("#count-form button[type=submit]", navigates=True)
    assert CellCount.objects.filter(batch=batch, day=7).exists(), j.text()

    finish("technician", [j])


def test_qc_results_then_second_person_reviews_them_in_one_sitting(visit, in_qc_batch, qc_analyst):
    reviewer = UserFactory.create(username="qc-b", role="qc_analyst")
    tests = [
        QcTest.objects.get(batch=in_qc_batch, definition__code=code)
        for code in ("viability", "identity_nk")
    ]

    # The analyst enters each result from the QC worklist's link to its test.
    j = start(visit, qc_analyst)
    for test in tests:
        j.click("nav.main-nav >> text=QC worklist", navigates=True)
        j.click(f'main a[href="/qc/tests/{test.pk}/"] >> nth=0', navigates=True)
        if not j.page.is_visible("#result-form [name=value]"):
            j.click("summary:has-text('result')")
        j.fill("#result-form [name=value]", "80")
        j.click("#result-form button[type=submit]", navigates=True)
        test.refresh_from_db()
        assert test.state == QcTestState.RESULTED, j.text()

    # The second analyst reviews both on the batch's review page, reached from the worklist's
    # awaiting-review section: both ticked already, one signature.
    k = start(visit, reviewer)
    k.click("nav.main-nav >> text=QC worklist", navigates=True)
    review_page = f"/qc/batches/{in_qc_batch.lot_number}/review/"
    k.click(f'#awaiting-review a[href="{review_page}"]', navigates=True)
    for test in tests:
        assert k.page.is_checked(f"#batch-review-test-{test.pk}")
    k.click("#batch-review-form button[type=submit]")
    k.sign(PASSWORD)
    for test in tests:
        test.refresh_from_db()
        assert (test.state, test.reviewed_by) == (QcTestState.REVIEWED, reviewer), k.text()
    # Each result its own review: one signature row per test, the reviewer's.
    signatures = list(signatures_for(*tests).filter(meaning=SignatureMeaning.REVIEWED))
    assert sorted(s.object_id for s in signatures) == sorted(str(t.pk) for t in tests)
    assert {s.signer_id for s in signatures} == {reviewer.pk}

    finish("qc", [j, k])


def test_qa_reviews_the_record_and_releases(visit, in_qc_batch, technician, qc_analyst, qa):
    from tests.batch_steps import formulate

    result_all(in_qc_batch, qc_analyst, UserFactory.create(username="qc-b", role="qc_analyst"))
    formulate(in_qc_batch, technician, ("A0",))
    pk = in_qc_batch.pk

    j = start(visit, qa)
    j.click("nav.main-nav >> text=Release queue", navigates=True)
    j.click(f"#review-{pk}-form >> xpath=ancestor::details[1] >> summary")
    j.click(f"#review-{pk}-form button[type=submit]")
    j.sign(PASSWORD)
    j.click(f"#decide-{pk}-form >> xpath=ancestor::details[1] >> summary")
    j.click(f"#decide-{pk}-form [name=decision][value=release]")
    j.fill(f"#decide-{pk}-form [name=reason]", "All specifications met; record complete.")
    j.click(f"#decide-{pk}-form button[type=submit]")
    j.sign(PASSWORD)
    in_qc_batch.refresh_from_db()
    assert in_qc_batch.state == "released", j.text()

    finish("qa", [j])


def test_clinical_bedside_mismatch_then_match_then_infusion(visit, issued_bag, clinical):
    din, product_code = scan(issued_bag)
    chain = coi_scan(issued_bag)
    j = start(visit, clinical)
    j.click("nav.main-nav >> text=Bedside", navigates=True)

    def scan_all(wristband: str) -> None:
        # A scanner types each code and presses Enter: on to the next field, then submit.
        j.scan("#scan-form [name=scanned_bag]", din)
        j.scan("#scan-form [name=scanned_product_code]", product_code)
        j.scan("#scan-form [name=scanned_coi]", chain)
        j.scan("#scan-form [name=scanned_wristband]", wristband)
        # The second patient identifier, read off the wristband: the medical record number
        # (the date of birth left blank, Enter moves on).
        j.scan("#scan-form [name=date_of_birth]", "")
        j.scan(
            "#scan-form [name=medical_record_number]",
            issued_bag.recipient.medical_record_number,
            navigates=True,
        )

    scan_all("CARNK-999")
    assert BedsideCheck.objects.get().outcome != "match", j.text()
    scan_all("CARNK-QC")
    check = BedsideCheck.objects.order_by("pk").last()
    assert check is not None and check.outcome == "match", j.text()

    # The start, signed at the bedside; the completion later, on the infusion's own page.
    vitals = (("temp_c", "36.8"), ("hr", "80"), ("bp", "120/80"), ("spo2", "98"))
    j.fill("#infusion-form [name=started_at]", local(timezone.now()))
    for name, value in vitals:
        j.fill(f"#infusion-form [name=pre_{name}]", value)
    j.click("#infusion-form button[type=submit]")
    j.sign(PASSWORD)
    infusion = Infusion.objects.filter(bedside_check=check).first()
    assert infusion is not None and infusion.ended_at is None, j.text()

    j.fill("#complete-form [name=ended_at]", local(timezone.now()))
    # The volume is filled in with the prescribed one: the whole bag's dose went in.
    for name, value in vitals:
        j.fill(f"#complete-form [name=post_{name}]", value)
    j.click("#complete-form button[type=submit]")
    j.sign(PASSWORD)
    infusion.refresh_from_db()
    assert infusion.ended_at is not None, j.text()

    finish("clinical", [j])
