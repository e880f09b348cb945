"""Training and qualification: only a person current on a step's procedures performs it, and
on its review procedures reviews the record; QA signs a release only when current on the
site's release procedures. Current means a passed, unexpired training on the version in
effect."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.models import ExecutedStep, TrainingRecord
from batches.selectors.training import training_gaps
from batches.services import release, training
from batches.services.batch_record import step_record
from carnk_mfg.models import ElectronicSignature
from tests.batch_steps import record_steps, step_payloads
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.clause("21 CFR 1271.170"),
    pytest.mark.clause("21 CFR 11.10(i)"),
]

LONG_AGO = date(2020, 1, 1)


@pytest.fixture
def sop(qa):
    """SOP-MFG-012 version 1, in effect since 2020."""
    procedure = training.procedure_create(
        actor=qa, code="SOP-MFG-012", title="Thaw and NK isolation"
    )
    training.procedure_version_issue(
        actor=qa, procedure=procedure, effective_on=LONG_AGO, document_reference="DMS-12 rev A"
    )
    return procedure


@pytest.fixture
def trainer(db):
    return UserFactory.create(username="trainer", role="technician")


def train(qa, sop, trainee, trainer, *, trained_on=None, assessment="passed", expires_on=None):
    return training.training_record_create(
        actor=qa,
        password=PASSWORD,
        procedure_version=sop.versions.order_by("-version").first(),
        trainee=trainee,
        trained_by=trainer,
        trained_on=trained_on or timezone.localdate() - timedelta(days=10),
        assessment=assessment,
        expires_on=expires_on,
    )


def thaw_step(batch):
    return batch.template.steps.get(code="thaw_isolation")


def record_thaw(batch, technician):
    _code, at, values, materials = step_payloads(
        timezone.now() - timedelta(days=1), din=batch.source_unit.din
    )[0]
    return step_record(
        actor=technician,
        password=PASSWORD,
        batch=batch,
        template_step=thaw_step(batch),
        performed_at=at,
        values=values,
        materials=materials,
    )


@pytest.fixture
def thaw_needs_sop(qa, sop, running_batch):
    training.step_qualification_require(
        actor=qa, template_step=thaw_step(running_batch), procedure=sop, purpose="perform"
    )
    return running_batch


# --- performing a step ---


def test_a_step_with_no_qualification_asks_no_training(running_batch, technician):
    step = record_thaw(running_batch, technician)
    assert step.pk


def test_an_untrained_operator_is_refused_naming_the_procedure(thaw_needs_sop, technician):
    with pytest.raises(ValidationError) as refused:
        record_thaw(thaw_needs_sop, technician)
    message = refused.value.message_dict["step"][0]
    assert "SOP-MFG-012 v1: never trained" in message
    assert not ExecutedStep.objects.filter(batch=thaw_needs_sop).exists()


def test_a_current_operator_performs_the_step(thaw_needs_sop, technician, qa, sop, trainer):
    train(qa, sop, technician, trainer)
    assert record_thaw(thaw_needs_sop, technician).performed_by == technician


def test_expired_training_is_refused_with_its_date(thaw_needs_sop, technician, qa, sop, trainer):
    expired = timezone.localdate() - timedelta(days=3)
    train(qa, sop, technician, trainer, trained_on=LONG_AGO, expires_on=expired)
    with pytest.raises(ValidationError) as refused:
        record_thaw(thaw_needs_sop, technician)
    assert f"SOP-MFG-012 v1: training expired on {expired:%Y-%m-%d}" in str(refused.value)


def test_a_failed_assessment_does_not_qualify(thaw_needs_sop, technician, qa, sop, trainer):
    train(qa, sop, technician, trainer, assessment="failed")
    with pytest.raises(ValidationError, match="assessment failed"):
        record_thaw(thaw_needs_sop, technician)


def test_a_new_version_untrains_everyone_until_retrained(
    thaw_needs_sop, technician, qa, sop, trainer
):
    train(qa, sop, technician, trainer, trained_on=LONG_AGO + timedelta(days=1))
    training.procedure_version_issue(
        actor=qa,
        procedure=sop,
        effective_on=timezone.localdate() - timedelta(days=5),
        document_reference="DMS-12 rev B",
    )
    with pytest.raises(ValidationError, match="SOP-MFG-012 v2: trained on v1 only"):
        record_thaw(thaw_needs_sop, technician)
    train(qa, sop, technician, trainer)  # on v2, the newest
    assert record_thaw(thaw_needs_sop, technician).pk


def test_a_version_not_yet_effective_leaves_the_one_in_effect(
    thaw_needs_sop, technician, qa, sop, trainer
):
    train(qa, sop, technician, trainer)
    training.procedure_version_issue(
        actor=qa,
        procedure=sop,
        effective_on=timezone.localdate() + timedelta(days=30),
        document_reference="DMS-12 rev B",
    )
    # Training on v2 may be given ahead of its effective date; v1 still counts today.
    assert training_gaps(technician, [sop], on=timezone.localdate()) == []


def test_the_batch_page_shows_the_training_blocker(thaw_needs_sop, technician):
    from batches.presenters.batch_page import batch_for_page, batch_page

    now = timezone.now()
    page = batch_page(batch_for_page(thaw_needs_sop.lot_number, now=now), user=technician, now=now)
    assert "SOP-MFG-012 v1: never trained" in page["step_blocked"]
    assert not page["step_offered"]


# --- reviewing and releasing ---


def test_an_untrained_reviewer_is_refused(in_qc_batch, qa, sop):
    harvest = in_qc_batch.template.steps.get(code="harvest")
    training.step_qualification_require(
        actor=qa, template_step=harvest, procedure=sop, purpose="review"
    )
    with pytest.raises(ValidationError) as refused:
        release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
    assert "SOP-MFG-012 v1: never trained" in refused.value.message_dict["reviewer"][0]


def test_a_trained_reviewer_reviews(in_qc_batch, qa, sop, trainer):
    harvest = in_qc_batch.template.steps.get(code="harvest")
    training.step_qualification_require(
        actor=qa, template_step=harvest, procedure=sop, purpose="review"
    )
    other_qa = UserFactory.create(username="qa-trainer", role="qa")
    training.training_record_create(
        actor=other_qa,
        password=PASSWORD,
        procedure_version=sop.versions.get(),
        trainee=qa,
        trained_by=trainer,
        trained_on=timezone.localdate(),
        assessment="passed",
    )
    signature = release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
    assert signature.meaning == "reviewed"


def test_an_untrained_releaser_is_refused(in_qc_batch, qa):
    release_sop = training.procedure_create(
        actor=qa, code="SOP-QA-001", title="Batch release", required_for_release=True
    )
    training.procedure_version_issue(
        actor=qa, procedure=release_sop, effective_on=LONG_AGO, document_reference="DMS-1"
    )
    with pytest.raises(ValidationError) as refused:
        release.batch_release_decide(
            actor=qa, password=PASSWORD, batch=in_qc_batch, decision="release", reason="ok"
        )
    assert "SOP-QA-001 v1: never trained" in refused.value.message_dict["decision"][0]


# --- the training record ---


def test_a_training_record_is_signed_and_expires_by_the_procedures_period(
    qa, sop, technician, trainer, settings
):
    settings.TRAINING_VALID_DAYS = 365
    record = train(qa, sop, technician, trainer, trained_on=date(2026, 1, 10))
    assert record.expires_on == date(2027, 1, 10)
    signature = ElectronicSignature.objects.get(object_id=str(record.pk))
    assert (signature.signer, signature.meaning, signature.attests) == (
        qa,
        "approved",
        "training_record",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trainer_is_trainee": True}, "trained_by"),
        ({"trained_on": timezone.localdate() + timedelta(days=2)}, "trained_on"),
        ({"expires_on": LONG_AGO}, "expires_on"),
        ({"assessment": "maybe"}, "assessment"),
    ],
)
def test_a_bad_training_record_is_refused_per_field(qa, sop, technician, trainer, change, field):
    change = dict(change)
    trained_by = technician if change.pop("trainer_is_trainee", False) else trainer
    arguments = {
        "trained_on": timezone.localdate() - timedelta(days=1),
        "assessment": "passed",
        "expires_on": None,
        **change,
    }
    with pytest.raises(ValidationError) as refused:
        training.training_record_create(
            actor=qa,
            password=PASSWORD,
            procedure_version=sop.versions.get(),
            trainee=technician,
            trained_by=trained_by,
            **arguments,
        )
    assert field in refused.value.message_dict
    assert not TrainingRecord.objects.exists()


def test_nobody_records_their_own_training(qa, sop, trainer):
    with pytest.raises(ValidationError) as refused:
        train(qa, sop, qa, trainer)
    assert "trainee" in refused.value.message_dict


def test_a_technician_may_not_record_training(technician, sop, trainer):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        train(technician, sop, UserFactory.create(username="new-tech", role="technician"), trainer)


def test_a_new_version_takes_effect_after_the_previous_one(qa, sop):
    with pytest.raises(ValidationError) as refused:
        training.procedure_version_issue(
            actor=qa, procedure=sop, effective_on=LONG_AGO, document_reference="DMS-12 rev B"
        )
    assert "effective_on" in refused.value.message_dict


def test_whole_batch_can_still_be_recorded_by_a_trained_technician(
    running_batch, technician, qa, sop, trainer
):
    """Qualifications on every step: a trained technician records them all."""
    for step in running_batch.template.steps.all():
        training.step_qualification_require(
            actor=qa, template_step=step, procedure=sop, purpose="perform"
        )
    train(qa, sop, technician, trainer, trained_on=LONG_AGO, expires_on=date(2099, 1, 1))
    batch = record_steps(running_batch, technician)
    assert batch.steps.count() == running_batch.template.steps.count()
