"""The release transition's gate: QC reviewed and in spec (or pending where allowed), no open
deviation, and a releaser who did not make the batch."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.services import batch_record, lifecycle
from qc.models import QcTest
from qc.services import results
from tests.batch_steps import step_payloads
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_qc_batch(technician, approved_spec_set, planned_batch):
    batch = lifecycle.batch_transition(
        actor=technician, batch=planned_batch, to_state="in_process", reason="go"
    )
    steps = {s.code: s for s in batch.template.steps.all()}
    day0 = timezone.now() - timedelta(days=20)
    for code, at, values, materials in step_payloads(day0, din=batch.source_unit.din):
        batch_record.step_record(
            actor=technician,
            password=PASSWORD,
            batch=batch,
            template_step=steps[code],
            performed_at=at,
            values=values,
            materials=materials,
        )
    batch = lifecycle.batch_transition(
        actor=technician, batch=batch, to_state="harvested", reason="h", password=PASSWORD
    )
    return lifecycle.batch_transition(
        actor=technician, batch=batch, to_state="in_qc", reason="to QC"
    )


def result_all(batch, analyst, reviewer, skip=(), overrides=None):
    good = {"numeric": "80", "pass_fail": "negative"}
    values = {
        "endotoxin": "1.0",
        "residual_feeder": "0.01",
        "vcn": "2",
        "cd3_per_kg": "1e6",
        "car_positive": "50",
        **(overrides or {}),
    }
    for test in QcTest.objects.filter(batch=batch).select_related("definition"):
        if test.definition.code in skip:
            continue
        value = values.get(test.definition.code, good[test.definition.result_type])
        results.qc_result_enter(actor=analyst, test=test, value=value, unit=test.definition.unit)
        results.qc_result_review(actor=reviewer, password=PASSWORD, test=test)


def release(batch, qa):
    return lifecycle.batch_transition(
        actor=qa, batch=batch, to_state="released", reason="Release", password=PASSWORD
    )


def test_release_with_everything_in_spec(in_qc_batch, qc_analyst, qa):
    result_all(in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    assert release(in_qc_batch, qa).state == "released"


def test_open_required_test_blocks_release(in_qc_batch, qc_analyst, qa):
    result_all(
        in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"), skip={"endotoxin"}
    )
    with pytest.raises(ValidationError) as exc:
        release(in_qc_batch, qa)
    assert "Endotoxin is awaiting sample" in exc.value.message_dict["to_state"][0]


def test_sterility_and_rcr_may_release_pending(in_qc_batch, qc_analyst, qa):
    result_all(
        in_qc_batch,
        qc_analyst,
        UserFactory(username="qc-b", role="qc_analyst"),
        skip={"sterility", "rcr"},
    )
    assert release(in_qc_batch, qa).state == "released"


def test_out_of_spec_blocks_release_even_after_disposition(in_qc_batch, qc_analyst, qa):
    from batches.models import Deviation

    result_all(
        in_qc_batch,
        qc_analyst,
        UserFactory(username="qc-b", role="qc_analyst"),
        overrides={"endotoxin": "9"},
    )
    deviation = Deviation.objects.get(batch=in_qc_batch, state="open")
    batch_record.deviation_disposition(
        actor=qa,
        password=PASSWORD,
        deviation=deviation,
        disposition="accept",
        notes="Investigated; retest ordered",
    )
    with pytest.raises(ValidationError) as exc:
        release(in_qc_batch, qa)
    assert "Endotoxin is out of specification" in exc.value.message_dict["to_state"][0]


def test_the_maker_cannot_release(in_qc_batch, qc_analyst, technician, qa):
    result_all(in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    technician.groups.add(qa.groups.get())
    maker = type(technician).objects.get(pk=technician.pk)  # fresh permission cache
    with pytest.raises(ValidationError) as exc:
        lifecycle.batch_transition(
            actor=maker, batch=in_qc_batch, to_state="released", reason="x", password=PASSWORD
        )
    assert "another QA reviewer" in exc.value.message_dict["to_state"][0]
