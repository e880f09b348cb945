"""The irradiation of feeder cell lots: recording it (on an irradiator usable that day), and
the check of a step's recorded irradiation dose against it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from batches.models import (
    Equipment,
    EquipmentKind,
    FeederIrradiation,
    FeederLot,
    StepParameter,
    TemplateStep,
)
from batches.services.equipment import equipment_usability
from carnk_mfg.audit import gmp_write, validate_record
from carnk_mfg.notation import lab_number_text

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RECORD = "batches.record_irradiation"
# A step value in this unit is the dose its feeder cells were irradiated with.
DOSE_UNIT = "Gy"


def feeder_irradiation_record(
    *,
    actor: User,
    feeder_lot: FeederLot,
    dose_gy: Decimal,
    irradiated_on: date,
    irradiator: Equipment,
) -> FeederIrradiation:
    """Record the irradiation of a feeder lot, done on an irradiator usable that day."""
    errors: dict[str, str] = {}
    if irradiator.kind != EquipmentKind.IRRADIATOR:
        errors["irradiator"] = f"{irradiator.identifier} is not an irradiator."
    else:
        usable = equipment_usability(irradiator, on=irradiated_on)
        if not usable:
            errors["irradiator"] = usable.reason
    if irradiated_on > timezone.localdate():
        errors["irradiated_on"] = "An irradiation cannot be recorded for a day to come."
    if errors:
        raise ValidationError(errors)
    record = FeederIrradiation(
        feeder_lot=feeder_lot,
        dose_gy=dose_gy,
        irradiated_on=irradiated_on,
        irradiator=irradiator,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    validate_record(record, exclude=["feeder_lot", "irradiator", "recorded_by"])
    with gmp_write(
        actor=actor, permission=RECORD, reason=f"Irradiation of feeder lot {feeder_lot.lot_number}"
    ):
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError as exc:
            raise ValidationError(
                {"feeder_lot": f"Feeder lot {feeder_lot.lot_number} has its irradiation record."}
            ) from exc
    return record


def _dose(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def feeder_dose_errors(
    *, template_step: TemplateStep, values: dict[str, Any], lots: list[Any]
) -> dict[str, str]:
    """Each feeder lot a step uses has its irradiation record, and the irradiation dose the
    step records (a value in Gy) is the dose of that record. Errors by field."""
    errors: dict[str, str] = {}
    feeders = [lot for lot in lots if isinstance(lot, FeederLot)]
    if not feeders:
        return errors
    dose_params: list[StepParameter] = [
        p for p in template_step.parameters.all() if p.unit == DOSE_UNIT
    ]
    for lot in feeders:
        record = FeederIrradiation.objects.filter(feeder_lot=lot).first()
        if record is None:
            errors["materials"] = f"Feeder lot {lot.lot_number} has no irradiation record."
            continue
        for param in dose_params:
            recorded = _dose(values.get(param.code))
            if recorded is not None and recorded != record.dose_gy:
                errors[f"values.{param.code}"] = (
                    f"{param.name} {lab_number_text(float(recorded))} Gy is not the "
                    f"{lab_number_text(float(record.dose_gy))} Gy feeder lot "
                    f"{lot.lot_number} was irradiated with on {record.irradiated_on:%Y-%m-%d}."
                )
    return errors
