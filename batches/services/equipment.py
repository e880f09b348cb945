"""Equipment: registering it, its status (changed only here, with a reason), calibrations and
maintenance with their certificates, failures (which take it out of service), the one rule for
whether it may be used, the check of the equipment a step scanned, and the calibration scan."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from batches import ports
from batches.models import (
    Equipment,
    EquipmentCalibration,
    EquipmentFailure,
    EquipmentKind,
    EquipmentMaintenance,
    EquipmentStatus,
    ServiceResult,
    TemplateStep,
)
from batches.selectors.equipment import (
    calibration_in_force,
    calibrations_due_soon_unflagged,
    calibrations_overdue_unflagged,
    last_good_check,
    maintenance_in_force,
)
from batches.services.materials import Usability
from carnk_mfg import due_work
from carnk_mfg.audit import gmp_write, validate_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MANAGE = "batches.manage_equipment"
SERVICE = "batches.service_equipment"
FAILURE = "batches.report_equipment_failure"
# A certificate is a PDF or a scan: kept in the database with its SHA-256, so not too large.
CERTIFICATE_MAX_BYTES = 10 * 1024 * 1024


def equipment_usability(equipment: Equipment, *, on: date | None = None) -> Usability:
    """Whether `equipment` may be used on day `on` (today by default), and if not, why.

    The only place this rule lives; steps, irradiation records and the pages all ask here."""
    on = on or timezone.localdate()
    if equipment.status != EquipmentStatus.IN_SERVICE:
        why = f": {equipment.status_reason}" if equipment.status_reason else ""
        return Usability(
            False, f"{_name(equipment)} is {equipment.get_status_display().lower()}{why}."
        )
    return equipment_serviced(equipment, on=on)


def equipment_serviced(equipment: Equipment, *, on: date) -> Usability:
    """The dated half of `equipment_usability`: a passed calibration, and no failed or overdue
    maintenance, in force on day `on`. The record review asks this of past days, whose
    status it cannot know (a failure found since is its own exception there)."""
    name = _name(equipment)
    calibration = calibration_in_force(equipment, on=on)
    if calibration is None:
        return Usability(False, f"{name} has no calibration on record.")
    if calibration.result != ServiceResult.PASSED:
        return Usability(
            False, f"{name} failed its calibration on {calibration.performed_on:%Y-%m-%d}."
        )
    if calibration.next_due_on < on:
        return Usability(False, f"{name} calibration lapsed on {calibration.next_due_on:%Y-%m-%d}.")
    maintenance = maintenance_in_force(equipment, on=on)
    if maintenance is not None and maintenance.result != ServiceResult.PASSED:
        return Usability(
            False, f"{name} failed its maintenance on {maintenance.performed_on:%Y-%m-%d}."
        )
    if maintenance is not None and maintenance.next_due_on < on:
        return Usability(
            False, f"{name} maintenance was due on {maintenance.next_due_on:%Y-%m-%d}."
        )
    return Usability(True)


def _name(equipment: Equipment) -> str:
    return f"{equipment.get_kind_display()} {equipment.identifier}"


def step_equipment_check(
    errors: dict[str, str], *, template_step: TemplateStep, scanned: list[str], on: date
) -> list[Equipment]:
    """The equipment a step scanned: each registered and usable on day `on`, none twice,
    and every kind the template step asks for among them. Errors go under
    `equipment.<index>` (or `equipment`); returns the equipment found usable."""
    if not isinstance(scanned, list):
        errors["equipment"] = "Equipment is a list of scanned identifiers."
        return []
    found: list[Equipment] = []
    for index, raw in enumerate(scanned):
        identifier = str(raw or "").strip()[:40]
        equipment = Equipment.objects.filter(identifier=identifier).first()
        if equipment is None:
            errors[f"equipment.{index}"] = f"No equipment {identifier!r} is registered."
            continue
        if any(e.pk == equipment.pk for e in found):
            errors[f"equipment.{index}"] = f"{identifier} is scanned twice."
            continue
        usable = equipment_usability(equipment, on=on)
        if not usable:
            errors[f"equipment.{index}"] = usable.reason
            continue
        found.append(equipment)
    missing = [
        EquipmentKind(kind).label.lower()
        for kind in template_step.equipment_kinds or []
        if kind in EquipmentKind.values and not any(e.kind == kind for e in found)
    ]
    if missing and not errors:
        errors["equipment"] = f"Step {template_step.order} needs a scanned " + ", ".join(missing)
        errors["equipment"] += "."
    return found


def equipment_register(
    *, actor: User, identifier: str, name: str, kind: str, location: str = ""
) -> Equipment:
    """Register a piece of equipment under the identifier on its barcode label. It is in
    service, but usable only once a calibration is recorded."""
    if kind not in EquipmentKind.values:
        raise ValidationError({"kind": "Choose a kind of equipment from the list."})
    equipment = Equipment(
        identifier=identifier.strip(),
        name=name.strip(),
        kind=kind,
        location=location.strip(),
        status=EquipmentStatus.IN_SERVICE,
        registered_by=actor,
        registered_at=timezone.now(),
    )
    with gmp_write(actor=actor, permission=MANAGE, reason=f"Equipment {identifier} registered"):
        validate_record(equipment, exclude=["registered_by", "status_changed_by"])
        try:
            with transaction.atomic():
                equipment.save()
        except IntegrityError as exc:
            raise ValidationError({"identifier": f"Equipment {identifier} exists."}) from exc
    return equipment


def _set_status_locked(*, actor: User, equipment: Equipment, status: str, reason: str) -> None:
    equipment.status = status
    equipment.status_reason = "" if status == EquipmentStatus.IN_SERVICE else reason
    equipment.status_changed_by = actor
    equipment.status_changed_at = timezone.now()
    equipment.save()


def equipment_status_change(
    *, actor: User, equipment: Equipment, status: str, reason: str
) -> Equipment:
    """Put equipment in service, out of service or in quarantine, saying why."""
    if status not in EquipmentStatus.values:
        raise ValidationError({"status": "Choose in service, out of service or quarantined."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the status changes."})
    with gmp_write(actor=actor, permission=MANAGE, reason=reason.strip()):
        locked = Equipment.objects.select_for_update().get(pk=equipment.pk)
        if locked.status == status:
            raise ValidationError(
                {"status": f"{locked.identifier} is already {locked.get_status_display().lower()}."}
            )
        _set_status_locked(actor=actor, equipment=locked, status=status, reason=reason.strip())
    return locked


def _service_record(
    model: type[EquipmentCalibration] | type[EquipmentMaintenance],
    *,
    actor: User,
    equipment: Equipment,
    certificate: bytes | None,
    certificate_filename: str,
    what: str,
    **fields: Any,
) -> Any:
    """A calibration or maintenance with its certificate file and that file's SHA-256."""
    if certificate is not None and len(certificate) > CERTIFICATE_MAX_BYTES:
        raise ValidationError({"certificate": "The certificate is larger than 10 MB."})
    performed_on: date = fields["performed_on"]
    if performed_on > timezone.localdate():
        raise ValidationError({"performed_on": f"A {what} cannot be performed in the future."})
    if fields["next_due_on"] <= performed_on:
        raise ValidationError({"next_due_on": f"The next {what} falls due after this one."})
    if fields.get("result", ServiceResult.PASSED) not in ServiceResult.values:
        raise ValidationError({"result": "Choose passed or failed."})
    record = model(
        equipment=equipment,
        certificate=certificate or None,
        certificate_filename=certificate_filename.strip()[:255] if certificate else "",
        certificate_sha256=hashlib.sha256(certificate).hexdigest() if certificate else "",
        recorded_by=actor,
        recorded_at=timezone.now(),
        **fields,
    )
    validate_record(record, exclude=["equipment", "recorded_by", "certificate"])
    with gmp_write(
        actor=actor, permission=SERVICE, reason=f"{what.capitalize()} of {equipment.identifier}"
    ):
        record.save()
    return record


def equipment_calibration_record(
    *,
    actor: User,
    equipment: Equipment,
    performed_on: date,
    next_due_on: date,
    performed_by: str,
    result: str = ServiceResult.PASSED,
    notes: str = "",
    certificate: bytes | None = None,
    certificate_filename: str = "",
) -> EquipmentCalibration:
    """Record a calibration with its certificate; it sets when the next one is due."""
    record: EquipmentCalibration = _service_record(
        EquipmentCalibration,
        actor=actor,
        equipment=equipment,
        certificate=certificate,
        certificate_filename=certificate_filename,
        what="calibration",
        performed_on=performed_on,
        next_due_on=next_due_on,
        performed_by=performed_by.strip(),
        result=result,
        notes=notes.strip(),
    )
    return record


def equipment_maintenance_record(
    *,
    actor: User,
    equipment: Equipment,
    performed_on: date,
    next_due_on: date,
    performed_by: str,
    description: str = "",
    result: str = ServiceResult.PASSED,
    notes: str = "",
    certificate: bytes | None = None,
    certificate_filename: str = "",
) -> EquipmentMaintenance:
    """Record a maintenance (preventive or after a repair) with its report."""
    record: EquipmentMaintenance = _service_record(
        EquipmentMaintenance,
        actor=actor,
        equipment=equipment,
        certificate=certificate,
        certificate_filename=certificate_filename,
        what="maintenance",
        performed_on=performed_on,
        next_due_on=next_due_on,
        performed_by=performed_by.strip(),
        description=description.strip(),
        result=result,
        notes=notes.strip(),
    )
    return record


def equipment_failure_record(
    *,
    actor: User,
    equipment: Equipment,
    found_on: date,
    description: str,
    last_good_check_on: date | None = None,
) -> EquipmentFailure:
    """Record a failure found after use, and take the equipment out of service. The last good
    check is the newest passed calibration or maintenance unless given; the batches that used
    the equipment since then are its impact (`failure_impact`)."""
    if found_on > timezone.localdate():
        raise ValidationError({"found_on": "A failure cannot be found in the future."})
    if not description.strip():
        raise ValidationError({"description": "Describe the failure."})
    last_good = last_good_check_on or last_good_check(equipment, before=found_on)
    if last_good is None:
        raise ValidationError(
            {
                "last_good_check_on": f"{equipment.identifier} has no passed check on record: "
                "give the last day it was known good."
            }
        )
    if last_good > found_on:
        raise ValidationError(
            {"last_good_check_on": "The last good check is on or before the day found."}
        )
    reason = f"Failure of {equipment.identifier}: {description.strip()}"[:500]
    with gmp_write(actor=actor, permission=FAILURE, reason=reason):
        locked = Equipment.objects.select_for_update().get(pk=equipment.pk)
        failure = EquipmentFailure(
            equipment=locked,
            found_on=found_on,
            description=description.strip(),
            last_good_check_on=last_good,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        validate_record(failure, exclude=["equipment", "recorded_by"])
        failure.save()
        if locked.status == EquipmentStatus.IN_SERVICE:
            _set_status_locked(
                actor=actor,
                equipment=locked,
                status=EquipmentStatus.OUT_OF_SERVICE,
                reason=f"Failure found {found_on:%Y-%m-%d}: {description.strip()}"[:500],
            )
    return failure


def calibration_due_scan(*, now: datetime | None = None) -> dict[str, int]:
    """Tell the equipment's users, once per calibration, that it falls due within
    CALIBRATION_WARNING_DAYS, and once more when it is overdue (`carnk_mfg.due_work`: each
    flag is claimed compare-and-set, so scans running at once never tell twice)."""
    now = now or timezone.now()
    due = due_work.flag_once(
        calibrations_due_soon_unflagged(now=now),
        flag_field="due_soon_flagged_at",
        now=now,
        related=("equipment",),
        announce=lambda rows: ports.notify_calibration_due(
            calibrations=rows, overdue=False, now=now
        ),
        reason="Equipment calibration scan: due soon",
    )
    overdue = due_work.flag_once(
        calibrations_overdue_unflagged(now=now),
        flag_field="overdue_flagged_at",
        now=now,
        related=("equipment",),
        announce=lambda rows: ports.notify_calibration_due(
            calibrations=rows, overdue=True, now=now
        ),
        reason="Equipment calibration scan: overdue",
    )
    return {"calibrations_due_soon": len(due), "calibrations_overdue": len(overdue)}
