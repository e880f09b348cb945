"""Recipients, their weight history and the lymphodepletion given before the infusion."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.models import (
    LymphodepletionAgent,
    LymphodepletionDose,
    Recipient,
    WeightMeasurement,
)
from batches.selectors import clinical_staff
from batches.services.unit_selection import hla_typing_checked
from carnk_mfg.audit import gmp_write, validate_record
from carnk_mfg.fields import field_errors
from carnk_mfg.roles import Role, roles_of

if TYPE_CHECKING:
    from django.contrib.auth.models import User

EDITABLE_FIELDS = (
    "diagnosis",
    "diagnosis_detail",
    "hla_a",
    "hla_b",
    "hla_c",
    "hla_drb1",
    "kir_ligand_group",
    "dose_level",
    "planned_infusion_on",
    "date_of_birth",
    "medical_record_number",
)


def recipient_register(
    *,
    actor: User,
    subject_id: str,
    diagnosis: str,
    weight_kg: Decimal,
    weight_measured_on: date,
    treating_clinician: User | None = None,
    reason: str = "Recipient enrolled",
    **fields: Any,
) -> Recipient:
    """Enrol a recipient with a first body weight. The treating clinician is the one given,
    else the enrolling person when they are clinical staff."""
    hla_typing_checked(fields)
    recipient = Recipient(
        subject_id=subject_id,
        diagnosis=diagnosis,
        registered_by=actor,
        registered_at=timezone.now(),
        **fields,
    )
    with gmp_write(actor=actor, permission="batches.add_recipient", reason=reason):
        if treating_clinician is None and Role.CLINICAL in roles_of(actor):
            treating_clinician = actor
        recipient.treating_clinician = _clinician(treating_clinician)
        validate_record(recipient, exclude=["registered_by", "treating_clinician"])
        recipient.save()
        _add_weight(
            actor=actor, recipient=recipient, weight_kg=weight_kg, measured_on=weight_measured_on
        )
    return recipient


def recipient_update(
    *, actor: User, recipient: Recipient, reason: str, **changes: Any
) -> Recipient:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: "This field cannot be changed here." for f in unknown})
    hla_typing_checked(changes)
    with gmp_write(actor=actor, permission="batches.change_recipient", reason=reason):
        recipient = Recipient.objects.select_for_update().get(pk=recipient.pk)
        for name, value in changes.items():
            setattr(recipient, name, value)
        validate_record(recipient)
        recipient.save(update_fields=list(changes))
    return recipient


def recipient_reassign_clinician(
    *, actor: User, recipient: Recipient, treating_clinician: User, reason: str
) -> Recipient:
    """Hand a recipient's care to another clinician (their home page then lists the
    recipient's work); the trail keeps who did it and why."""
    with gmp_write(actor=actor, permission="batches.change_recipient", reason=reason):
        recipient = Recipient.objects.select_for_update().get(pk=recipient.pk)
        clinician = _clinician(treating_clinician)
        if recipient.treating_clinician_id == clinician.pk:
            raise ValidationError(
                {"treating_clinician": f"{clinician.get_username()} already treats them."}
            )
        recipient.treating_clinician = clinician
        recipient.save(update_fields=["treating_clinician"])
    return recipient


def _clinician(user: User | None) -> User:
    """The treating clinician, if they are active clinical staff."""
    if user is None:
        raise ValidationError({"treating_clinician": "Choose the treating clinician."})
    if not clinical_staff().filter(pk=user.pk).exists():
        raise ValidationError(
            {"treating_clinician": f"{user.get_username()} is not active clinical staff."}
        )
    return user


def recipient_record_weight(
    *,
    actor: User,
    recipient: Recipient,
    weight_kg: Decimal,
    measured_on: date,
    reason: str = "Body weight measured",
) -> WeightMeasurement:
    with gmp_write(actor=actor, permission="batches.record_weight", reason=reason):
        return _add_weight(
            actor=actor, recipient=recipient, weight_kg=weight_kg, measured_on=measured_on
        )


def _add_weight(
    *, actor: User, recipient: Recipient, weight_kg: Decimal, measured_on: date
) -> WeightMeasurement:
    if measured_on and measured_on > timezone.localdate():
        raise ValidationError({"measured_on": "A weight cannot be measured in the future."})
    weight = WeightMeasurement(
        recipient=recipient,
        weight_kg=weight_kg,
        measured_on=measured_on,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    validate_record(weight, exclude=["recipient", "recorded_by"])
    weight.save()
    return weight


def lymphodepletion_record(
    *,
    actor: User,
    recipient: Recipient,
    agent: str,
    dose_mg_per_m2: Decimal,
    body_surface_area_m2: Decimal,
    given_on: date,
    given_by: User | None = None,
    reason: str = "Lymphodepletion dose given",
) -> LymphodepletionDose:
    """Record one dose of the preparative regimen as given: the total is the dose for the
    body surface area, to 0.1 mg. Given by the one named (clinical staff), else the one who
    records it."""
    errors: dict[str, Any] = {}
    if agent not in LymphodepletionAgent.values:
        errors["agent"] = "Fludarabine or cyclophosphamide."
    errors.update(
        field_errors(
            LymphodepletionDose,
            {"dose_mg_per_m2": dose_mg_per_m2, "body_surface_area_m2": body_surface_area_m2},
        )
    )
    if given_on > timezone.localdate():
        errors["given_on"] = "A dose cannot be given in the future."
    if errors:
        raise ValidationError(errors)
    total = (Decimal(dose_mg_per_m2) * Decimal(body_surface_area_m2)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    with gmp_write(actor=actor, permission="batches.record_lymphodepletion", reason=reason):
        giver = actor if given_by is None else given_by
        if not clinical_staff().filter(pk=giver.pk).exists():
            raise ValidationError(
                {"given_by": f"{giver.get_username()} is not active clinical staff."}
            )
        # The recipient is locked: two records of one day's dose cannot both pass the check.
        locked = Recipient.objects.select_for_update().get(pk=recipient.pk)
        if locked.lymphodepletion_doses.filter(agent=agent, given_on=given_on).exists():
            raise ValidationError(
                {
                    "given_on": f"{LymphodepletionAgent(agent).label} given on "
                    f"{given_on:%Y-%m-%d} is recorded already: it is given once a day."
                }
            )
        dose = LymphodepletionDose(
            recipient=locked,
            agent=agent,
            dose_mg_per_m2=dose_mg_per_m2,
            body_surface_area_m2=body_surface_area_m2,
            total_dose_mg=total,
            given_on=given_on,
            given_by=giver,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        validate_record(dose, exclude=["recipient", "given_by", "recorded_by"])
        dose.save()
    return dose
