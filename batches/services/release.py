"""Formulation into bags, batch record review, release or rejection, and dose assignment
(DESIGN section 6)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from batches.models import (
    Batch,
    BatchState,
    DoseUnit,
    DoseUnitStatus,
    ExecutedStep,
    Presentation,
    ProtocolDoseLevel,
    Recipient,
    ReleaseDecision,
)
from batches.services.lifecycle import batch_transition, lock_batch
from carnk_mfg.audit import gmp_write
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import require_permission
from carnk_mfg.signatures import signature_apply, signature_authenticate, signatures_for

DIVISION = re.compile(r"^[A-Z][0-9A-Z]$")  # ISBT 128 division code, e.g. A0, B0
RECORD_REVIEW = "Batch record review"
DEFAULT_CD3_LIMIT_PER_KG = 2e5


def _harvest_values(batch: Batch) -> dict:
    step = (
        ExecutedStep.objects.filter(batch=batch, template_step__is_harvest=True)
        .select_related("template_step")
        .first()
    )
    if step is None:
        raise ValidationError({"batch": "The batch has no recorded harvest."})
    return step.values


def dose_units_formulate(
    *,
    actor,
    password: str,
    batch: Batch,
    bags: list[dict],
    expires_at: datetime,
    request: HttpRequest | None = None,
) -> list[DoseUnit]:
    """Fill the harvested product into bags; concentration, CAR+ and CD3+ come from the
    harvest record. Signed by the operator."""
    require_permission(actor, "batches.formulate_doseunit")
    values = _harvest_values(batch)
    errors: dict[str, str] = {}
    if not bags:
        errors["bags"] = "Formulate at least one bag."
    seen = set()
    total = Decimal(0)
    for index, bag in enumerate(bags):
        division = str(bag.get("division", "")).upper()
        if not DIVISION.match(division):
            errors[f"bags.{index}.division"] = (
                "A division code is a letter and a letter or digit (A0)."
            )
        elif division in seen:
            errors[f"bags.{index}.division"] = f"Division {division} is used twice."
        seen.add(division)
        if bag.get("presentation") not in Presentation.values:
            errors[f"bags.{index}.presentation"] = "Fresh or cryopreserved."
        volume = bag.get("volume_ml")
        if not isinstance(volume, Decimal) or volume <= 0:
            errors[f"bags.{index}.volume_ml"] = "A volume above 0 mL."
        else:
            total += volume
    harvested_ml = Decimal(str(values.get("final_volume_ml") or 0))
    if total > harvested_ml:
        errors["bags"] = (
            f"The bags hold {total} mL but the harvest recorded {float(harvested_ml):g} mL."
        )
    if expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must be in the future."
    if errors:
        raise ValidationError(errors)
    label = f"Batch {batch.lot_number} formulated into {len(bags)} bag(s)"
    signature_authenticate(
        signer=actor,
        password=password,
        meaning=SignatureMeaning.PERFORMED,
        record_label=label,
        request=request,
    )
    with gmp_write(actor=actor, permission="batches.formulate_doseunit", reason=label):
        locked = lock_batch(batch)
        if locked.state not in (BatchState.HARVESTED, BatchState.IN_QC):
            raise ValidationError(
                {"batch": f"A {locked.get_state_display().lower()} batch cannot be formulated."}
            )
        taken = set(locked.dose_units.values_list("division", flat=True))
        clash = sorted(seen & taken)
        if clash:
            raise ValidationError({"bags": f"Division(s) {', '.join(clash)} already exist."})
        now = timezone.now()
        units = DoseUnit.objects.bulk_create(
            [
                DoseUnit(
                    batch=locked,
                    division=str(bag["division"]).upper(),
                    presentation=bag["presentation"],
                    volume_ml=bag["volume_ml"],
                    total_cells_per_ml=float(values["final_concentration"]),
                    car_positive_pct=Decimal(str(values["car_positive_pct"])),
                    cd3_positive_pct=Decimal(str(values["cd3_positive_pct"])),
                    expires_at=expires_at,
                    created_by=actor,
                    created_at=now,
                )
                for bag in bags
            ]
        )
        signature_apply(
            signer=actor, meaning=SignatureMeaning.PERFORMED, record=locked, record_label=label
        )
    return units


def _made_by(batch: Batch, actor) -> bool:
    return batch.steps.filter(performed_by=actor).exists()


def batch_record_review(*, actor, password: str, batch: Batch, request: HttpRequest | None = None):
    """QA's signed review of the full batch record, by someone who did not make the batch."""
    require_permission(actor, "batches.release_batch")
    if batch.state != BatchState.IN_QC:
        raise ValidationError({"batch": "The batch record is reviewed while the batch is in QC."})
    if _made_by(batch, actor):
        raise ValidationError(
            {"reviewer": "You performed steps of this batch; another QA reviewer must review it."}
        )
    label = f"{RECORD_REVIEW}: batch {batch.lot_number}"
    signature_authenticate(
        signer=actor,
        password=password,
        meaning=SignatureMeaning.REVIEWED,
        record_label=label,
        request=request,
    )
    with gmp_write(actor=actor, permission="batches.release_batch", reason=label):
        locked = lock_batch(batch)
        return signature_apply(
            signer=actor, meaning=SignatureMeaning.REVIEWED, record=locked, record_label=label
        )


def pending_release_tests(batch: Batch) -> list:
    """Release-required tests still open that the spec allows release pending."""
    from qc.models import OPEN_TEST_STATES, QcTest

    newest = {}
    tests = QcTest.objects.filter(batch=batch, definition__required_for_release=True)
    for test in tests.select_related("definition").order_by("definition_id", "triggered_at", "id"):
        newest[test.definition_id] = test
    return [
        t
        for t in newest.values()
        if t.state in OPEN_TEST_STATES and t.definition.may_release_pending
    ]


def batch_release_decide(
    *,
    actor,
    password: str,
    batch: Batch,
    decision: str,
    reason: str,
    conditional: bool = False,
    request: HttpRequest | None = None,
) -> Batch:
    """Release (every gate in lifecycle._check_release, a reviewed record, formulated bags)
    or reject (the bags are quarantined as rejected). Concurrent requests serialize on the
    batch lock: one wins, the rest find the batch no longer in QC (409)."""
    if decision not in ("release", "reject"):
        raise ValidationError({"decision": "Choose release or reject."})
    require_permission(actor, "batches.release_batch")
    to_state = BatchState.RELEASED if decision == "release" else BatchState.REJECTED
    meaning = SignatureMeaning.RELEASED if decision == "release" else SignatureMeaning.REJECTED
    # Check the password once, outside the transaction, so a refusal is recorded.
    signature_authenticate(
        signer=actor,
        password=password,
        meaning=meaning,
        record_label=f"Batch {batch.lot_number} {decision}",
        request=request,
    )
    with transaction.atomic():
        if decision == "release":
            reviewed = signatures_for(batch).filter(
                meaning=SignatureMeaning.REVIEWED, record_label__startswith=RECORD_REVIEW
            )
            if not reviewed.exists():
                raise ValidationError({"decision": "The batch record has not been reviewed by QA."})
            if not batch.dose_units.exists():
                raise ValidationError({"decision": "The batch has not been formulated into bags."})
            pending = pending_release_tests(batch)
            if pending and not conditional:
                names = ", ".join(t.definition.name for t in pending)
                raise ValidationError(
                    {
                        "conditional": f"{names} still pending: release only as a QA-approved "
                        "conditional release."
                    }
                )
        batch = batch_transition(
            actor=actor,
            batch=batch,
            to_state=to_state,
            reason=reason,
            expected_state=BatchState.IN_QC,
            password=password,
            request=request,
        )
        new_status = DoseUnitStatus.RELEASED if decision == "release" else DoseUnitStatus.REJECTED
        with gmp_write(actor=actor, permission="batches.release_batch", reason=reason):
            DoseUnit.objects.filter(batch=batch, status=DoseUnitStatus.QUARANTINED).update(
                status=new_status
            )
            pending = pending_release_tests(batch) if decision == "release" else []
            record = ReleaseDecision.objects.create(
                batch=batch,
                decision=decision,
                conditional=bool(pending),
                reason=reason,
                decided_by=actor,
                decided_at=timezone.now(),
                closed_at=None if pending else timezone.now(),
            )
            record.pending_tests.set(pending)
    return batch


# --- dose at a level ---


@dataclass
class DoseCalculation:
    level: str
    weight_kg: Decimal | None = None
    weight_measured_on: object = None
    dose_car_nk_cells: float = 0.0
    car_nk_cells_per_ml: float = 0.0
    volume_ml: float = 0.0
    cd3_cells_per_kg: float = 0.0
    cd3_limit_per_kg: float = DEFAULT_CD3_LIMIT_PER_KG
    arithmetic: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def _cd3_limit(batch: Batch) -> float:
    from qc.models import QcTestDefinition

    definition = (
        QcTestDefinition.objects.filter(
            spec_set__template=batch.template, spec_set__status="approved", code="cd3_per_kg"
        )
        .only("upper_limit")
        .first()
    )
    return (
        definition.upper_limit
        if definition and definition.upper_limit
        else DEFAULT_CD3_LIMIT_PER_KG
    )


def dose_calculate(
    *, recipient: Recipient, dose_unit: DoseUnit, level: ProtocolDoseLevel, on=None
) -> DoseCalculation:
    """Dose = level x weight; volume = dose / CAR-NK concentration; shown with the arithmetic,
    and every reason the dose cannot be given."""
    on = on or timezone.localdate()
    calc = DoseCalculation(level=level.code, cd3_limit_per_kg=_cd3_limit(dose_unit.batch))
    weight = recipient.weights.order_by("-measured_on", "-recorded_at").first()
    if recipient.dose_level != level.code:
        calc.refusals.append(
            f"Recipient {recipient.subject_id} is assigned "
            f"{recipient.dose_level or 'no dose level'}, not {level.code}."
        )
    intended = dose_unit.batch.intended_recipient_id
    if intended is not None and intended != recipient.pk:
        calc.refusals.append(
            f"Batch {dose_unit.batch.lot_number} was made for another recipient, "
            f"not {recipient.subject_id}."
        )
    if weight is None:
        calc.refusals.append("The recipient has no recorded body weight.")
        return calc
    calc.weight_kg, calc.weight_measured_on = weight.weight_kg, weight.measured_on
    age = (on - weight.measured_on).days
    if age > level.max_weight_age_days:
        calc.refusals.append(
            f"The weight was measured {age} days ago ({weight.measured_on}); the protocol allows "
            f"{level.max_weight_age_days}."
        )
    kg = float(weight.weight_kg)
    calc.dose_car_nk_cells = level.car_nk_cells_per_kg * kg
    calc.car_nk_cells_per_ml = dose_unit.car_nk_cells_per_ml
    calc.volume_ml = calc.dose_car_nk_cells / calc.car_nk_cells_per_ml
    cd3_per_ml = dose_unit.total_cells_per_ml * float(dose_unit.cd3_positive_pct) / 100
    calc.cd3_cells_per_kg = calc.volume_ml * cd3_per_ml / kg
    per_kg, car_pct, conc = (
        level.car_nk_cells_per_kg,
        dose_unit.car_positive_pct,
        calc.car_nk_cells_per_ml,
    )
    calc.arithmetic = [
        f"Dose = {per_kg:.3g} CAR-NK cells/kg x {kg:g} kg = {calc.dose_car_nk_cells:.3g} cells",
        f"CAR-NK/mL = {dose_unit.total_cells_per_ml:.3g} cells/mL x {car_pct} % = {conc:.3g}",
        f"Volume = {calc.dose_car_nk_cells:.3g} / {conc:.3g} per mL = {calc.volume_ml:.2f} mL",
        f"CD3+ = {calc.volume_ml:.2f} mL x {cd3_per_ml:.3g}/mL / {kg:g} kg "
        f"= {calc.cd3_cells_per_kg:.3g}/kg (limit {calc.cd3_limit_per_kg:.3g}/kg)",
    ]
    if calc.volume_ml > float(dose_unit.volume_ml):
        calc.refusals.append(
            f"The bag holds {dose_unit.volume_ml} mL ({dose_unit.car_nk_cells:.3g} CAR-NK cells); "
            f"the dose needs {calc.volume_ml:.2f} mL."
        )
    if calc.cd3_cells_per_kg >= calc.cd3_limit_per_kg:
        calc.refusals.append(
            f"CD3+ T cells would be {calc.cd3_cells_per_kg:.3g} per kg, at or above the limit of "
            f"{calc.cd3_limit_per_kg:.3g} per kg."
        )
    if dose_unit.expires_at <= timezone.now():
        calc.refusals.append(f"The bag expired at {dose_unit.expires_at:%Y-%m-%d %H:%M %Z}.")
    return calc


def dose_assign(
    *,
    actor,
    dose_unit: DoseUnit,
    recipient: Recipient,
    level_code: str,
    reason: str = "Dose assigned",
) -> DoseUnit:
    level = ProtocolDoseLevel.objects.filter(code=level_code).first()
    if level is None:
        raise ValidationError({"dose_level": f"No protocol dose level {level_code!r}."})
    with gmp_write(actor=actor, permission="batches.assign_dose", reason=reason):
        unit = DoseUnit.objects.select_for_update().select_related("batch").get(pk=dose_unit.pk)
        if unit.status != DoseUnitStatus.RELEASED:
            raise ValidationError(
                {"dose_unit": f"The bag is {unit.get_status_display().lower()}, not released."}
            )
        calc = dose_calculate(recipient=recipient, dose_unit=unit, level=level)
        if calc.refusals:
            raise ValidationError({"dose": calc.refusals})
        unit.recipient, unit.dose_level = recipient, level
        unit.dose_car_nk_cells = calc.dose_car_nk_cells
        unit.dose_volume_ml = Decimal(f"{calc.volume_ml:.2f}")
        unit.status = DoseUnitStatus.ASSIGNED
        unit.save()
    return unit
