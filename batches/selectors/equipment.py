"""Reading equipment: the list with due dates, the calibration and maintenance in force on a
day, the last good check before a failure, the batches a failure may have touched, and the
calibrations the due scan has still to flag."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from batches.models import (
    Batch,
    Equipment,
    EquipmentCalibration,
    EquipmentFailure,
    EquipmentMaintenance,
    EquipmentUse,
    ServiceResult,
)

# The equipment's users hear of a calibration this many days before it falls due.
CALIBRATION_WARNING_DAYS = 30


def calibration_in_force(equipment: Equipment, *, on: date) -> EquipmentCalibration | None:
    """The newest calibration performed by day `on` (passed or not), or None."""
    return (
        equipment.calibrations.filter(performed_on__lte=on).order_by("-performed_on", "-id").first()
    )


def maintenance_in_force(equipment: Equipment, *, on: date) -> EquipmentMaintenance | None:
    """The newest maintenance performed by day `on`, or None."""
    return (
        equipment.maintenance.filter(performed_on__lte=on).order_by("-performed_on", "-id").first()
    )


def _newest(model: type[EquipmentCalibration] | type[EquipmentMaintenance], field: str) -> Subquery:
    return Subquery(
        model.objects.filter(equipment=OuterRef("pk"))
        .order_by("-performed_on", "-id")
        .values(field)[:1]
    )


def equipment_list() -> QuerySet[Equipment]:
    """Every piece with the due dates of its newest calibration and maintenance."""
    return Equipment.objects.annotate(
        calibration_due_on=_newest(EquipmentCalibration, "next_due_on"),
        maintenance_due_on=_newest(EquipmentMaintenance, "next_due_on"),
    ).order_by("identifier")


def last_good_check(equipment: Equipment, *, before: date) -> date | None:
    """The last day by `before` that a passed calibration or maintenance showed the
    equipment good, or None when none did."""
    days = [
        model.objects.filter(
            equipment=equipment, result=ServiceResult.PASSED, performed_on__lte=before
        )
        .order_by("-performed_on")
        .values_list("performed_on", flat=True)
        .first()
        for model in (EquipmentCalibration, EquipmentMaintenance)
    ]
    found = [day for day in days if day is not None]
    return max(found) if found else None


def _uses_in_window(failure: EquipmentFailure) -> QuerySet[EquipmentUse]:
    return EquipmentUse.objects.filter(
        equipment_id=failure.equipment_id,
        step__performed_at__date__gte=failure.last_good_check_on,
        step__performed_at__date__lte=failure.found_on,
    )


def failure_impact(failure: EquipmentFailure) -> QuerySet[Batch]:
    """The batches whose steps used the failed equipment from its last good check to the day
    the failure was found: each may have been made with equipment not working as it should."""
    return Batch.objects.filter(pk__in=_uses_in_window(failure).values("step__batch_id")).order_by(
        "lot_number"
    )


def batch_equipment_failures(batch: Batch) -> list[EquipmentFailure]:
    """The equipment failures whose impact includes `batch` (QA's review reads them)."""
    failures = EquipmentFailure.objects.filter(equipment__uses__step__batch=batch).select_related(
        "equipment"
    )
    return [
        failure
        for failure in failures.distinct().order_by("found_on", "id")
        if _uses_in_window(failure).filter(step__batch=batch).exists()
    ]


def _current(calibrations: QuerySet[EquipmentCalibration]) -> QuerySet[EquipmentCalibration]:
    """Calibrations no later one of the same equipment has replaced."""
    newer = EquipmentCalibration.objects.filter(
        equipment=OuterRef("equipment"), performed_on__gt=OuterRef("performed_on")
    )
    return calibrations.filter(~Exists(newer))


def calibrations_due_soon_unflagged(*, now: datetime) -> QuerySet[EquipmentCalibration]:
    """Current calibrations falling due within the warning period, not yet flagged so (one
    already overdue is told as overdue only)."""
    horizon = now.date() + timedelta(days=CALIBRATION_WARNING_DAYS)
    return _current(
        EquipmentCalibration.objects.filter(
            Q(next_due_on__gte=now.date(), next_due_on__lte=horizon),
            due_soon_flagged_at__isnull=True,
        )
    ).order_by("next_due_on")


def calibrations_overdue_unflagged(*, now: datetime) -> QuerySet[EquipmentCalibration]:
    """Current calibrations past their due date, not yet flagged overdue."""
    return _current(
        EquipmentCalibration.objects.filter(
            next_due_on__lt=now.date(), overdue_flagged_at__isnull=True
        )
    ).order_by("next_due_on")
