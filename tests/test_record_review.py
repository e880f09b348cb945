"""QA's review of a batch record by exception: a clean record shows no exception; a record
made with some lists exactly those, whatever path reads it (selector, page, API)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import FeederLot, ReagentLot, TemplateStep
from batches.selectors.record_review import (
    COUNTS,
    DEVIATIONS,
    LATE,
    MATERIALS,
    OUT_OF_RANGE,
    OUT_OF_SPEC,
    RETESTS,
    batch_record_review,
)
from batches.services import batch_record, lifecycle, materials
from batches.services.batch_record import DeviationInput
from qc.models import QcTest
from qc.services import results
from tests import batch_steps
from tests.factories import PASSWORD, UserFactory
from tests.oos import approve_investigation


def exceptions_of(batch):
    return sorted((f.area, f.text) for f in batch_record_review(batch).exceptions)


def test_a_clean_record_has_no_exception_and_counts_what_passed(in_qc_batch):
    review = batch_record_review(in_qc_batch)

    assert review.exceptions == []
    areas = {f.area for f in review.passed}
    # Five steps: values, timing and training of each, their lots, and no deviation.
    assert {OUT_OF_RANGE, LATE, MATERIALS, DEVIATIONS} <= areas
    assert len([f for f in review.passed if f.area == LATE]) == 5
    assert len(review.passed) == 5 * 3 + 6 + 1  # 6 lots across the steps


def _record(batch, technician, code, at, values, lots, deviation=None):
    return batch_record.step_record(
        actor=technician,
        password=PASSWORD,
        batch=batch,
        template_step=TemplateStep.objects.get(template=batch.template, code=code),
        performed_at=at,
        values=values,
        materials=lots,
        deviation=deviation,
    )


def _accept_open_deviation(batch, qa):
    deviation = batch.deviations.get(state="open")
    batch_record.deviation_disposition(
        classification="minor",
        root_cause="Assessed by QA",
        actor=qa,
        password=PASSWORD,
        deviation=deviation,
        disposition="accept",
        notes="assessed",
    )
    batch.refresh_from_db()


def _count_and_correct(batch, technician, *, day, at):
    count = batch_record.cell_count_record(
        actor=technician,
        batch=batch,
        day=day,
        measured_at=at,
        total_cells_per_ml=2e6,
        viable_cells_per_ml=1.8e6,
        volume_ml=Decimal("100"),
    )
    batch_record.cell_count_record(
        actor=technician,
        batch=batch,
        day=day,
        measured_at=at,
        total_cells_per_ml=2.2e6,
        viable_cells_per_ml=2e6,
        volume_ml=Decimal("100"),
        corrects=count.pk,
        correction_reason="wrong dilution entered",
    )


@pytest.fixture
def batch_with_exceptions(planned_batch, technician, qa, qc_analyst, approved_spec_set):
    """A batch made with one of each exception: IL-2 out of range at stimulation (a deviation),
    restimulation two days late (a deviation), a day 7 count corrected, endotoxin out of
    specification and retested, and the IL-2 lot rejected after use."""
    batch = lifecycle.batch_transition(
        actor=technician, batch=planned_batch, to_state="in_process", reason="go"
    )
    day0 = timezone.now() - timedelta(days=20)
    payloads = batch_steps.step_payloads(day0, din=batch.source_unit.din)
    why = DeviationInput(what="", why="pipetting", impact="none expected")
    for code, at, values, lots in payloads:
        deviation = None
        if code == "stimulation":
            values = {**values, "il2_iu_per_ml": 250}
            deviation = why
        if code == "restimulation":
            at = at + timedelta(days=2)
            deviation = why
        _record(batch, technician, code, at, values, lots, deviation)
        batch.refresh_from_db()
        if deviation is not None:
            _accept_open_deviation(batch, qa)
        if code == "restimulation":
            _count_and_correct(batch, technician, day=7, at=at)
    batch = lifecycle.batch_transition(
        actor=technician, batch=batch, to_state="harvested", reason="h", password=PASSWORD
    )
    batch = lifecycle.batch_transition(
        actor=technician, batch=batch, to_state="in_qc", reason="to QC"
    )
    reviewer = UserFactory.create(username="qc-b", role="qc_analyst")
    batch_steps.result_all(batch, qc_analyst, reviewer, overrides={"endotoxin": "9.0"})
    endotoxin = QcTest.objects.get(batch=batch, definition__code="endotoxin")
    approve_investigation(endotoxin, analyst=qc_analyst, qa=qa)
    results.qc_retest(actor=qc_analyst, test=endotoxin, reason="sample handling suspected")
    materials.material_lot_disposition(
        actor=qa,
        password=PASSWORD,
        lot=ReagentLot.objects.get(lot_number="IL2-1"),
        status="rejected",
        reason="supplier notice",
    )
    assert FeederLot.objects.get(lot_number="FD-1").status == "released"
    return batch


def test_a_record_made_with_exceptions_lists_exactly_them(batch_with_exceptions):
    batch = batch_with_exceptions
    endotoxin = QcTest.objects.get(batch=batch, definition__code="endotoxin", retest_of=None)
    retest = QcTest.objects.get(retest_of=endotoxin)
    deviations = list(batch.deviations.order_by("opened_at"))
    stim = "Step 2 (Stimulation with irradiated uAPC feeders and IL-2)"
    restim = "Step 4 (Restimulation with feeders)"

    found = exceptions_of(batch)

    assert [area for area, _text in found].count(DEVIATIONS) == 3
    expected_texts = {
        (DEVIATIONS, f"Deviation {deviations[0].pk} at {stim} (Parameter out of range, "),
        (DEVIATIONS, f"Deviation {deviations[1].pk} at {restim} (Step performed late, "),
        (
            DEVIATIONS,
            f"Deviation {deviations[2].pk} (Out-of-specification result, Open (awaiting QA)): ",
        ),
        (OUT_OF_RANGE, f"{stim}: IL-2 concentration 250 IU/mL is outside the allowed range"),
        (LATE, f"{restim}: Restimulation with feeders performed on day 9, planned for day 7"),
        (COUNTS, "Day 7 count corrected: wrong dilution entered"),
        (OUT_OF_SPEC, f"Endotoxin (test {endotoxin.pk}): 9 EU/mL out of specification"),
        (RETESTS, f"Endotoxin (test {retest.pk}) retests test {endotoxin.pk}, which read 9"),
        (MATERIALS, f"{stim}: Reagent lot IL2-1 is rejected, not released."),
    }
    assert len(found) == len(expected_texts)
    for area, start in expected_texts:
        assert any(a == area and text.startswith(start) for a, text in found), (area, start)
    # The result out of specification shows its phase I investigation, approved before the
    # retest; the deviations QA closed show their classification and root cause.
    investigation = endotoxin.oos_investigation
    assert (
        OUT_OF_SPEC,
        f"Endotoxin (test {endotoxin.pk}): 9 EU/mL out of specification, phase I "
        f"investigation {investigation.pk} approved by qa",
    ) in found
    assert any("minor, root cause: Assessed by QA" in text for _area, text in found)


def test_an_em_excursion_touching_the_batch_is_its_own_exception(in_qc_batch, qc_analyst):
    from batches.selectors.record_review import EM_EXCURSIONS

    batch_record.environmental_deviations_open(
        actor=qc_analyst,
        batches=[in_qc_batch],
        what="Settle plate 7 CFU in CPS-1, action limit 5",
        why="under investigation",
        impact="product open in the room during the sampling",
    )

    (finding,) = batch_record_review(in_qc_batch).exceptions
    assert finding.area == EM_EXCURSIONS
    assert "Settle plate 7 CFU in CPS-1" in finding.text


def test_the_page_shows_the_exceptions_first_and_folds_the_passed_checks(
    client, qa, batch_with_exceptions
):
    batch = batch_with_exceptions
    client.force_login(qa)

    page = client.get(reverse("release-record-review", args=[batch.lot_number]))

    html = page.content.decode()
    assert page.status_code == 200
    exceptions = html.index('id="record-exceptions"')
    passed = html.index('id="record-passed"')
    assert exceptions < passed
    assert "Needs your judgement (9)" in html
    assert "wrong dilution entered" in html[exceptions:passed]
    assert "<details>" in html[passed:]
    assert 'id="record-review-form"' in html


def test_signing_from_the_page_records_the_review(client, qa, in_qc_batch):
    client.force_login(qa)
    url = reverse("release-record-review", args=[in_qc_batch.lot_number])

    wrong = client.post(url, {"password": "not it"})
    signed = client.post(url, {"password": PASSWORD})

    assert wrong.status_code == 200 and b"errorlist" in wrong.content
    assert signed.status_code == 302
    from batches.selectors.release import record_reviews

    assert record_reviews(in_qc_batch).count() == 1


def test_a_technician_reads_the_review_but_may_not_sign_it(client, technician, in_qc_batch):
    client.force_login(technician)
    url = reverse("release-record-review", args=[in_qc_batch.lot_number])

    assert client.get(url).status_code == 200
    assert b"record-review-form" not in client.get(url).content
    assert client.post(url, {"password": PASSWORD}).status_code == 403


def test_the_api_gives_the_same_exceptions(api, qa, batch_with_exceptions):
    batch = batch_with_exceptions
    response = api.as_user(qa).get(f"/api/v1/batches/{batch.lot_number}/record-review/")

    assert response.status_code == 200
    body = response.json()
    assert sorted((e["area"], e["text"]) for e in body["exceptions"]) == exceptions_of(batch)
    assert body["passed_count"] == len(body["passed"]) > 0


def test_the_review_costs_the_same_queries_whatever_else_is_in_the_database(
    in_qc_batch, django_assert_max_num_queries
):
    with django_assert_max_num_queries(40):
        batch_record_review(in_qc_batch)


def thaw_in_cabinet(planned_batch, technician, cabinet: str):
    """The batch started and its thaw recorded 20 days ago in the cabinet scanned."""
    batch = lifecycle.batch_transition(
        actor=technician, batch=planned_batch, to_state="in_process", reason="go"
    )
    code, at, values, lots = batch_steps.step_payloads(
        timezone.now() - timedelta(days=20), din=batch.source_unit.din
    )[0]
    step = batch_record.step_record(
        actor=technician,
        password=PASSWORD,
        batch=batch,
        template_step=TemplateStep.objects.get(template=batch.template, code=code),
        performed_at=at,
        values=values,
        materials=lots,
        equipment=[cabinet],
    )
    return batch, step


def test_equipment_found_failed_after_the_batch_used_it_is_its_exception(
    planned_batch, technician, qa
):
    from batches.selectors.record_review import EQUIPMENT
    from batches.services.equipment import equipment_failure_record
    from tests.factories import EquipmentFactory

    cabinet = EquipmentFactory.create(identifier="BSC-07")  # calibrated 30 days ago
    batch, _step = thaw_in_cabinet(planned_batch, technician, "BSC-07")
    assert exceptions_of(batch) == []

    failure = equipment_failure_record(
        actor=qa,
        equipment=cabinet,
        found_on=timezone.localdate(),
        description="Downflow velocity below limit",
    )

    (finding,) = batch_record_review(batch).exceptions
    assert finding.area == EQUIPMENT
    assert "BSC-07" in finding.text and "Downflow velocity below limit" in finding.text
    assert finding.url == reverse("equipment-failure", args=[failure.pk])


def test_a_step_done_without_the_training_now_asked_is_a_training_exception(in_qc_batch, qa):
    """A qualification asked of a step after it was done: the review judges the step's day
    against it and names the procedure its operator was not current on."""
    from batches.selectors.record_review import TRAINING
    from batches.services import training

    sop = training.procedure_create(actor=qa, code="SOP-MFG-012", title="Thaw and NK isolation")
    training.procedure_version_issue(
        actor=qa,
        procedure=sop,
        effective_on=timezone.localdate() - timedelta(days=400),
        document_reference="DMS-12 rev A",
    )
    training.step_qualification_require(
        actor=qa,
        template_step=in_qc_batch.template.steps.get(code="thaw_isolation"),
        procedure=sop,
        purpose="perform",
    )

    (finding,) = batch_record_review(in_qc_batch).exceptions
    assert finding.area == TRAINING
    assert finding.text.startswith("Step 1 (") and "was not current on SOP-MFG-012" in finding.text


def test_the_equipment_a_step_scanned_is_checked_on_its_day(planned_batch, technician):
    """In calibration on the step's day is a passed check; a calibration that had lapsed by
    then (entered late, or corrected) is an exception."""
    from batches.models import EquipmentCalibration
    from batches.selectors.record_review import EQUIPMENT
    from tests.factories import EquipmentFactory

    cabinet = EquipmentFactory.create(identifier="BSC-08")  # calibrated 30 days ago
    batch, step = thaw_in_cabinet(planned_batch, technician, "BSC-08")
    at = step.performed_at
    review = batch_record_review(batch)
    assert review.exceptions == []
    assert [f.text for f in review.passed if f.area == EQUIPMENT] == [
        f"Step 1 ({step.template_step.name}): "
        f"{cabinet} in calibration on "
        f"{timezone.localdate(at):%Y-%m-%d}"
    ]

    # The trail keeps what was; the review reads the calibration as it now stands.
    EquipmentCalibration.objects.filter(equipment=cabinet).update(
        next_due_on=timezone.localdate(at) - timedelta(days=1)
    )
    (finding,) = batch_record_review(batch).exceptions
    assert finding.area == EQUIPMENT and "calibration lapsed on" in finding.text
