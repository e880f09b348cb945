"""Equipment: the one usability rule, its refusal at the step like an expired lot, failures and
the batches they touch, the status kept by its service, certificates with their SHA-256, the
calibration scan telling once, and the feeder lots' irradiation checked at the step."""

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import (
    EquipmentCalibration,
    EquipmentKind,
    EquipmentStatus,
    EquipmentUse,
    ExecutedStep,
    TemplateStep,
)
from batches.selectors.equipment import failure_impact
from batches.services import batch_record, equipment, irradiation
from batches.services.batch_record import batch_create
from batches.services.lifecycle import batch_transition
from qc.models import Notification
from tests.batch_steps import planned_days_ago, step_payloads
from tests.factories import (
    PASSWORD,
    CordBloodUnitFactory,
    EquipmentFactory,
    FeederLotFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def today(days=0):
    return timezone.localdate() + timedelta(days=days)


def calibrate(piece, actor, *, performed, due, result="passed"):
    return equipment.equipment_calibration_record(
        actor=actor,
        equipment=piece,
        performed_on=today(performed),
        next_due_on=today(due),
        performed_by="Metrology Ltd",
        result=result,
    )


def thaw(batch, technician, *, days_ago, scanned):
    """Record the batch's first step `days_ago` days ago with the equipment `scanned`."""
    code, _at, values, materials = step_payloads(timezone.now(), din=batch.source_unit.din)[0]
    return batch_record.step_record(
        actor=technician,
        password=PASSWORD,
        batch=batch,
        template_step=batch.template.steps.get(code=code),
        performed_at=timezone.now() - timedelta(days=days_ago),
        values=values,
        materials=materials,
        equipment=scanned,
    )


def new_batch(technician, template):
    with planned_days_ago(40):
        batch = batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=template,
            unit_fraction_used_pct=Decimal("100"),
        )
    return batch_transition(actor=technician, batch=batch, to_state="in_process", reason="go")


# --- acceptance: uncalibrated equipment is refused at the step ---


def test_uncalibrated_equipment_refused_by_the_step_service(running_batch, technician, lots):
    EquipmentFactory.create(identifier="BSC-09", calibrated=False)
    with pytest.raises(ValidationError) as refused:
        thaw(running_batch, technician, days_ago=1, scanned=["BSC-09"])
    assert refused.value.message_dict["equipment.0"] == [
        "Biosafety cabinet BSC-09 has no calibration on record."
    ]
    assert not ExecutedStep.objects.filter(batch=running_batch).exists()


def test_lapsed_calibration_refused_like_an_expired_lot(running_batch, technician, lots, qa):
    piece = EquipmentFactory.create(identifier="CEN-02", kind="centrifuge", calibrated=False)
    calibrate(piece, qa, performed=-400, due=-5)
    with pytest.raises(ValidationError) as refused:
        thaw(running_batch, technician, days_ago=1, scanned=["CEN-02"])
    lapsed = f"Centrifuge CEN-02 calibration lapsed on {today(-5):%Y-%m-%d}."
    assert refused.value.message_dict["equipment.0"] == [lapsed]
    # Usable on a day before the lapse: the rule is judged on the day of use.
    assert equipment.equipment_usability(piece, on=today(-6))


@pytest.mark.parametrize(
    "status, words", [("out_of_service", "out of service"), ("quarantined", "quarantined")]
)
def test_equipment_not_in_service_is_refused_naming_why(qa, status, words):
    piece = EquipmentFactory.create(identifier="INC-01", kind="incubator")
    piece = equipment.equipment_status_change(
        actor=qa, equipment=piece, status=status, reason="Alarm"
    )
    assert equipment.equipment_usability(piece).reason == f"Incubator INC-01 is {words}: Alarm."


def test_failed_calibration_and_overdue_maintenance_refuse(qa):
    piece = EquipmentFactory.create(identifier="CRF-01", calibrated=False)
    calibrate(piece, qa, performed=-2, due=300, result="failed")
    assert "failed its calibration" in equipment.equipment_usability(piece).reason
    calibrate(piece, qa, performed=-1, due=300)
    assert equipment.equipment_usability(piece)
    equipment.equipment_maintenance_record(
        actor=qa, equipment=piece, performed_on=today(-200), next_due_on=today(-3), performed_by="x"
    )
    assert "maintenance was due" in equipment.equipment_usability(piece).reason


def test_a_usable_piece_is_recorded_with_the_step(running_batch, technician, lots):
    EquipmentFactory.create(identifier="BSC-01")
    step = thaw(running_batch, technician, days_ago=1, scanned=["BSC-01"])
    assert [u.equipment.identifier for u in EquipmentUse.objects.filter(step=step)] == ["BSC-01"]


def test_a_step_needs_the_kinds_its_template_asks_for(db):
    EquipmentFactory.create(identifier="INC-02", kind="incubator")
    step = TemplateStep(order=1, name="Thaw", equipment_kinds=["biosafety_cabinet"])
    errors: dict[str, str] = {}
    equipment.step_equipment_check(errors, template_step=step, scanned=["INC-02"], on=today())
    assert errors == {"equipment": "Step 1 needs a scanned biosafety cabinet."}
    errors = {}
    equipment.step_equipment_check(errors, template_step=step, scanned=["NOPE"], on=today())
    assert errors == {"equipment.0": "No equipment 'NOPE' is registered."}


# --- status, register, certificates ---


def test_status_changes_only_with_a_reason_and_by_qa(qa, technician):
    piece = EquipmentFactory.create()
    with pytest.raises(ValidationError, match="Say why"):
        equipment.equipment_status_change(
            actor=qa, equipment=piece, status="quarantined", reason=""
        )
    with pytest.raises(PermissionDenied):
        equipment.equipment_status_change(
            actor=technician, equipment=piece, status="quarantined", reason="Spill"
        )
    changed = equipment.equipment_status_change(
        actor=qa, equipment=piece, status="quarantined", reason="Spill"
    )
    assert (changed.status, changed.status_reason, changed.status_changed_by) == (
        "quarantined",
        "Spill",
        qa,
    )
    # The trail keeps each change.
    assert changed.events.count() >= 2  # type: ignore[attr-defined]


def test_register_refuses_a_taken_identifier(qa):
    equipment.equipment_register(
        actor=qa, identifier="BSC-05", name="BSC", kind="biosafety_cabinet"
    )
    with pytest.raises(ValidationError) as refused:
        equipment.equipment_register(actor=qa, identifier="BSC-05", name="BSC", kind="incubator")
    assert "identifier" in refused.value.message_dict


def test_the_certificate_is_kept_with_its_sha256(qa):
    piece = EquipmentFactory.create(calibrated=False)
    pdf = b"%PDF-1.4 calibration certificate"
    record = equipment.equipment_calibration_record(
        actor=qa,
        equipment=piece,
        performed_on=today(-1),
        next_due_on=today(364),
        performed_by="Metrology Ltd",
        certificate=pdf,
        certificate_filename="cert.pdf",
    )
    record.refresh_from_db()
    assert bytes(record.certificate or b"") == pdf
    assert record.certificate_sha256 == hashlib.sha256(pdf).hexdigest()


def test_a_calibration_falls_due_after_it_is_performed(qa):
    with pytest.raises(ValidationError) as refused:
        calibrate(EquipmentFactory.create(), qa, performed=-1, due=-1)
    assert "next_due_on" in refused.value.message_dict


# --- acceptance: a failure lists exactly the batches that used the equipment since ---


def test_failure_impact_lists_exactly_the_batches_since_the_last_good_check(
    technician, qa, approved_template, lots
):
    piece = EquipmentFactory.create(identifier="BSC-03", calibrated=False)
    calibrate(piece, qa, performed=-39, due=300)
    other = EquipmentFactory.create(identifier="BSC-04")
    before, after, elsewhere = (new_batch(technician, approved_template) for _ in range(3))
    thaw(before, technician, days_ago=20, scanned=["BSC-03"])
    equipment.equipment_maintenance_record(
        actor=qa, equipment=piece, performed_on=today(-10), next_due_on=today(170), performed_by="x"
    )
    thaw(after, technician, days_ago=5, scanned=["BSC-03"])
    thaw(elsewhere, technician, days_ago=5, scanned=["BSC-04"])

    failure = equipment.equipment_failure_record(
        actor=technician, equipment=piece, found_on=today(), description="HEPA filter torn"
    )
    assert failure.last_good_check_on == today(-10)  # the maintenance, not the calibration
    assert list(failure_impact(failure)) == [after]

    explicit = equipment.equipment_failure_record(
        actor=qa,
        equipment=piece,
        found_on=today(),
        description="Airflow low since",
        last_good_check_on=today(-30),
    )
    assert set(failure_impact(explicit)) == {before, after}
    assert other.pk not in {u.equipment_id for u in EquipmentUse.objects.filter(step__batch=after)}


def test_recording_a_failure_takes_the_equipment_out_of_service(technician, running_batch, lots):
    piece = EquipmentFactory.create(identifier="CEN-01", kind="centrifuge")
    equipment.equipment_failure_record(
        actor=technician, equipment=piece, found_on=today(), description="Rotor imbalance"
    )
    piece.refresh_from_db()
    assert piece.status == EquipmentStatus.OUT_OF_SERVICE
    with pytest.raises(ValidationError, match="out of service: Failure found"):
        thaw(running_batch, technician, days_ago=1, scanned=["CEN-01"])


# --- the calibration scan tells once ---


def test_the_scan_flags_due_soon_and_overdue_once_each(qa, technician):
    soon = EquipmentFactory.create(identifier="INC-03", calibrated=False)
    calibrate(soon, qa, performed=-300, due=10)
    lapsed = EquipmentFactory.create(identifier="CEN-02", calibrated=False)
    calibrate(lapsed, qa, performed=-400, due=-3)
    later = EquipmentFactory.create(identifier="LN2-01", calibrated=False)
    calibrate(later, qa, performed=-10, due=200)

    assert equipment.calibration_due_scan() == {
        "calibrations_due_soon": 1,
        "calibrations_overdue": 1,
    }
    assert equipment.calibration_due_scan() == {
        "calibrations_due_soon": 0,
        "calibrations_overdue": 0,
    }
    due = Notification.objects.filter(calibration_due__equipment=soon)
    overdue = Notification.objects.filter(calibration_overdue__equipment=lapsed)
    # One e-mail and one in-app notice to each technician and QA reviewer, once.
    assert due.count() == overdue.count() == 4
    assert not Notification.objects.filter(calibration_due__equipment=lapsed).exists()
    assert all("OVERDUE" in notice.subject for notice in overdue)

    # Days later the soon one is overdue: told once more, as overdue.
    assert equipment.calibration_due_scan(now=timezone.now() + timedelta(days=11)) == {
        "calibrations_due_soon": 0,
        "calibrations_overdue": 1,
    }
    # A new calibration replaces the lapsed one: nothing more to say about either.
    calibrate(lapsed, qa, performed=0, due=365)
    assert EquipmentCalibration.objects.filter(equipment=lapsed).count() == 2
    assert equipment.calibration_due_scan()["calibrations_due_soon"] == 0


# --- feeder irradiation ---


def irradiator(qa, **kwargs):
    return EquipmentFactory.create(kind=EquipmentKind.IRRADIATOR, name="Irradiator", **kwargs)


def test_irradiation_needs_an_irradiator_usable_that_day(technician, qa):
    lot = FeederLotFactory.create(irradiation=False)
    lapsed = irradiator(qa, identifier="IRR-09", calibrated=False)
    calibrate(lapsed, qa, performed=-400, due=-30)
    with pytest.raises(ValidationError) as refused:
        irradiation.feeder_irradiation_record(
            actor=technician,
            feeder_lot=lot,
            dose_gy=Decimal("100"),
            irradiated_on=today(-2),
            irradiator=lapsed,
        )
    assert "calibration lapsed" in refused.value.message_dict["irradiator"][0]
    with pytest.raises(ValidationError, match="not an irradiator"):
        irradiation.feeder_irradiation_record(
            actor=technician,
            feeder_lot=lot,
            dose_gy=Decimal("100"),
            irradiated_on=today(-2),
            irradiator=EquipmentFactory.create(identifier="BSC-07"),
        )
    record = irradiation.feeder_irradiation_record(
        actor=technician,
        feeder_lot=lot,
        dose_gy=Decimal("100"),
        irradiated_on=today(-2),
        irradiator=irradiator(qa, identifier="IRR-01"),
    )
    assert lot.irradiation == record


def test_the_step_dose_must_be_the_lots_irradiation_dose(running_batch, technician, lots):
    thaw(running_batch, technician, days_ago=20, scanned=[])
    code, at, values, materials = step_payloads(timezone.now() - timedelta(days=20))[1]
    step = running_batch.template.steps.get(code=code)
    args = dict(
        actor=technician,
        password=PASSWORD,
        batch=running_batch,
        template_step=step,
        performed_at=at,
        materials=materials,
    )
    with pytest.raises(ValidationError) as refused:
        batch_record.step_record(**args, values={**values, "feeder_irradiation_gy": 95})
    assert refused.value.message_dict["values.feeder_irradiation_gy"] == [
        f"Feeder irradiation dose 95 Gy is not the 100 Gy feeder lot FD-1 was irradiated "
        f"with on {lots['feeder'].irradiated_on:%Y-%m-%d}."
    ]
    lots["feeder"].irradiation.delete()
    with pytest.raises(ValidationError) as refused:
        batch_record.step_record(**args, values=values)
    assert refused.value.message_dict["materials"] == ["Feeder lot FD-1 has no irradiation record."]


@pytest.mark.django_db(transaction=True)
def test_the_worker_flags_a_lapsed_calibration_once(qa):
    from batches.tasks import scan_calibrations_due
    from tests.celery_run import run_twice_in_a_worker

    UserFactory.create(username="floor", role="technician")
    lapsed = EquipmentFactory.create(identifier="CEN-09", calibrated=False)
    calibration = calibrate(lapsed, qa, performed=-400, due=-3)

    run_twice_in_a_worker(
        scan_calibrations_due,
        done=lambda: Notification.objects.filter(calibration_overdue=calibration).exists(),
    )
    notices = Notification.objects.filter(calibration_overdue__equipment=lapsed)
    assert sorted(notices.values_list("recipient__username", "channel")) == [
        ("floor", "email"),
        ("floor", "in_app"),
        (qa.username, "email"),
        (qa.username, "in_app"),
    ]
