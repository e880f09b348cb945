"""Formulation into bags, batch record review, release or rejection, and dose assignment
(DESIGN section 6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from batches import ports
from batches.models import (
    FORMULATION_STATES,
    NOT_INFUSED_STATUSES,
    Batch,
    BatchState,
    DoseUnit,
    DoseUnitStatus,
    ExecutedStep,
    Infusion,
    LookbackEntry,
    Presentation,
    ProductDefinition,
    ProtocolDoseLevel,
    Recall,
    Recipient,
    ReleaseDecision,
)
from batches.models.release import division_validator
from batches.selectors import bag_not_usable, performed_steps_of, release_readiness
from batches.services.chain_of_identity import chain_of_identity_assign_locked
from batches.services.lifecycle import TransitionConflict, lock_batch, move_locked_batch
from batches.services.training import require_release_training, require_review_training
from carnk_mfg.audit import gmp_write
from carnk_mfg.models import ElectronicSignature, SignatureMeaning
from carnk_mfg.notation import lab_number_text as lab
from carnk_mfg.signatures import signed_write

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _harvest_values(batch: Batch) -> dict[str, Any]:
    step = (
        ExecutedStep.objects.filter(batch=batch, template_step__is_harvest=True)
        .select_related("template_step")
        .first()
    )
    if step is None:
        raise ValidationError({"batch": "The batch has no recorded harvest."})
    values: dict[str, Any] = step.values  # the harvest step's recorded parameters, by name
    return values


def dose_units_formulate(
    *,
    actor: User,
    password: str,
    batch: Batch,
    bags: list[dict[str, Any]],
    request: HttpRequest | None = None,
) -> list[DoseUnit]:
    """Fill the harvested product into bags; concentration, CAR+ and CD3+ come from the
    harvest record, the product code and the expiry from the template's product definition.
    Signed by the operator."""
    values = _harvest_values(batch)
    errors, divisions = _formulation_errors(bags, values)
    if errors:
        raise ValidationError(errors)
    with signed_write(
        actor=actor,
        password=password,
        permission="batches.formulate_doseunit",
        meaning=SignatureMeaning.PERFORMED,
        label=f"Batch {batch.lot_number} formulated into {len(bags)} bag(s)",
        request=request,
    ) as signing:
        locked = lock_batch(batch)
        if locked.state not in FORMULATION_STATES:
            raise ValidationError(
                {"batch": f"A {locked.get_state_display().lower()} batch cannot be formulated."}
            )
        taken = set(locked.dose_units.values_list("division", flat=True))
        clash = sorted(divisions & taken)
        if clash:
            raise ValidationError({"bags": f"Division(s) {', '.join(clash)} already exist."})
        # Read now, not from the caller's batch: the codes and stability as they stand.
        product = ProductDefinition.objects.filter(templates=locked.template_id).first()
        if product is None:
            raise ValidationError({"batch": "The batch's process template names no product."})
        units = DoseUnit.objects.bulk_create(
            _filled_bags(locked, product, bags, values, actor=actor)
        )
        signing.sign(locked, attests="bags")
    return units


def bag_expiry(product: ProductDefinition, presentation: str, formulated_at: datetime) -> datetime:
    """When a bag expires: its formulation plus the product's stability for its presentation
    (hours for a fresh bag, months for a cryopreserved one)."""
    return formulated_at + product.stability(presentation)


def _formulation_errors(
    bags: list[dict[str, Any]], values: dict[str, Any]
) -> tuple[dict[str, str], set[str]]:
    """What is wrong with the bags asked for, before anything is signed: each bag's division,
    presentation and volume, and the bags together against the harvested volume. Returns the
    errors and the divisions named."""
    errors: dict[str, str] = {}
    if not bags:
        errors["bags"] = "Formulate at least one bag."
    seen: set[str] = set()
    total = Decimal(0)
    for index, bag in enumerate(bags):
        # Case is kept: a division's second character is a small letter or 0 (ST-001).
        division = str(bag.get("division", "")).strip()
        try:
            division_validator(division)
        except ValidationError as exc:
            errors[f"bags.{index}.division"] = exc.messages[0]
        else:
            if division in seen:
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
    return errors, seen


def _filled_bags(
    batch: Batch,
    product: ProductDefinition,
    bags: list[dict[str, Any]],
    values: dict[str, Any],
    *,
    actor: User,
) -> list[DoseUnit]:
    """The dose units of the bags, unsaved; the cells per mL, CAR+ and CD3+ of the harvest."""
    now = timezone.now()
    return [
        DoseUnit(
            batch=batch,
            division=str(bag["division"]).strip(),
            product_code=product.bag_product_code(str(bag["division"]).strip()),
            presentation=bag["presentation"],
            volume_ml=bag["volume_ml"],
            total_cells_per_ml=float(values["final_concentration"]),
            car_positive_pct=Decimal(str(values["car_positive_pct"])),
            cd3_positive_pct=Decimal(str(values["cd3_positive_pct"])),
            expires_at=bag_expiry(product, bag["presentation"], now),
            created_by=actor,
            created_at=now,
        )
        for bag in bags
    ]


def _four_eyes(batch: Batch, actor: User, doing: str) -> None:
    if performed_steps_of(batch, actor):
        raise ValidationError(
            {"reviewer": f"You performed steps of this batch; another QA reviewer must {doing}."}
        )


def batch_record_review(
    *, actor: User, password: str, batch: Batch, request: HttpRequest | None = None
) -> ElectronicSignature:
    """QA's signed review of the whole batch record (the signature attests a manifest of it),
    by someone who performed no step of the batch and is current on its steps' review
    procedures."""
    require_review_training(actor, batch.template.steps.all())
    with signed_write(
        actor=actor,
        password=password,
        permission="batches.release_batch",
        meaning=SignatureMeaning.REVIEWED,
        label=f"Batch record review: batch {batch.lot_number}",
        request=request,
    ) as signing:
        locked = lock_batch(batch)
        if locked.state != BatchState.IN_QC:
            raise ValidationError(
                {"batch": "The batch record is reviewed while the batch is in QC."}
            )
        _four_eyes(locked, actor, "review it")
        return signing.sign(locked, attests="batch_record")


# Kept in one piece: QA's release decision reads as one signed sequence, in the order the
# database and the auditor both check it: the batch locked and still in QC, four eyes, every
# release gate, the decision row before the state moves, the bags, then the signature.
def batch_release_decide(
    *,
    actor: User,
    password: str,
    batch: Batch,
    decision: str,
    reason: str,
    conditional: bool = False,
    request: HttpRequest | None = None,
) -> Batch:
    """QA's release or rejection: the only way a batch becomes released or rejected. Release
    needs every gate of `release_readiness` met (a conditional release, explicitly, where only
    tests the spec lets release pending are open) and a releaser who performed no step of the
    batch. The decision row is written before the state moves (the database insists).
    Concurrent decisions serialize on the batch lock: one wins, the rest get a 409."""
    if decision not in ("release", "reject"):
        raise ValidationError({"decision": "Choose release or reject."})
    if not (reason or "").strip():
        raise ValidationError({"reason": "Give the reason for this decision."})
    releasing = decision == "release"
    require_release_training(actor)
    with signed_write(
        actor=actor,
        password=password,
        permission="batches.release_batch",
        meaning=SignatureMeaning.RELEASED if releasing else SignatureMeaning.REJECTED,
        label=f"Batch {batch.lot_number} {decision}",
        reason=reason,
        request=request,
    ) as signing:
        locked = lock_batch(batch)
        if locked.state != BatchState.IN_QC:
            raise TransitionConflict(
                f"Batch {locked.lot_number} is now {locked.get_state_display().lower()}, not in "
                "QC: someone else changed it first, or it is not ready for a decision."
            )
        pending = []
        if releasing:
            _four_eyes(locked, actor, "release it")
            readiness = release_readiness(locked)
            if readiness.problems:
                raise ValidationError(
                    {"decision": "Not releasable: " + " ".join(readiness.problems)}
                )
            pending = readiness.pending
            if pending and not conditional:
                names = ", ".join(t.definition.name for t in pending)
                raise ValidationError(
                    {
                        "conditional": f"{names} still pending: release only as a QA-approved "
                        "conditional release."
                    }
                )
        now = timezone.now()
        record = ReleaseDecision.objects.create(
            batch=locked,
            decision=decision,
            conditional=bool(pending),
            reason=reason.strip(),
            decided_by=actor,
            decided_at=now,
            closed_at=None if pending else now,
        )
        record.pending_tests.set(pending)
        move_locked_batch(locked, BatchState.RELEASED if releasing else BatchState.REJECTED)
        DoseUnit.objects.filter(batch=locked, status=DoseUnitStatus.QUARANTINED).update(
            status=DoseUnitStatus.RELEASED if releasing else DoseUnitStatus.REJECTED
        )
        signing.sign(locked, attests="batch_record", comment=reason)
    batch.refresh_from_db()
    return batch


# --- recall ---


def batch_recall(
    *, actor: User, password: str, batch: Batch, reason: str, request: HttpRequest | None = None
) -> Recall:
    """QA recalls a released batch, signed."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Give the reason for the recall."})
    with signed_write(
        actor=actor,
        password=password,
        permission="batches.recall_batch",
        meaning=SignatureMeaning.RECALLED,
        label=f"Recall of batch {batch.lot_number}",
        reason=reason,
        request=request,
    ) as signing:
        recall = recall_locked_batch(actor=actor, batch=lock_batch(batch), reason=reason.strip())
        signing.sign(recall)
    return recall


def recall_locked_batch(*, actor: User, batch: Batch, reason: str, qc_test: Any = None) -> Recall:
    """Inside a transaction holding the batch lock: recall it at once. Every bag not yet
    infused is recalled (blocked at the bedside, refused for dose and issue); the lookback
    lists the bags already infused and their recipients; an open conditional release is
    marked failed; QA and clinical staff are told by notice and e-mail as soon as this
    commits."""
    if batch.state != BatchState.RELEASED:
        raise ValidationError(
            {
                "batch": "Only a released batch is recalled; this one is "
                f"{batch.get_state_display().lower()}."
            }
        )
    now = timezone.now()
    recall = Recall.objects.create(
        batch=batch, reason=reason, qc_test=qc_test, raised_by=actor, raised_at=now
    )
    move_locked_batch(batch, BatchState.RECALLED)
    DoseUnit.objects.filter(batch=batch, status__in=NOT_INFUSED_STATUSES).update(
        status=DoseUnitStatus.RECALLED
    )
    LookbackEntry.objects.bulk_create(
        [
            LookbackEntry(
                recall=recall,
                dose_unit=infusion.dose_unit,
                recipient=infusion.recipient,
                infusion=infusion,
                infused_at=infusion.started_at,
            )
            for infusion in Infusion.objects.filter(dose_unit__batch=batch).select_related(
                "dose_unit", "recipient"
            )
        ]
    )
    ReleaseDecision.objects.filter(batch=batch, decision="release", failed_at__isnull=True).update(
        failed_at=now, failure=reason, closed_at=now
    )
    ports.notify_recall(recall)
    return recall


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
    cd3_limit_per_kg: float = 0.0
    arithmetic: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def dose_calculate(
    *, recipient: Recipient, dose_unit: DoseUnit, level: ProtocolDoseLevel, on: date | None = None
) -> DoseCalculation:
    """Dose = level x weight; volume = dose / CAR-NK concentration; shown with the arithmetic,
    and every reason the dose cannot be given."""
    on = on or timezone.localdate()
    calc = DoseCalculation(level=level.code, cd3_limit_per_kg=level.max_cd3_cells_per_kg)
    weight = recipient.weights.order_by("-measured_on", "-recorded_at").first()
    calc.refusals.extend(_assignment_refusals(recipient, dose_unit, level))
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
    _work_out_dose(calc, dose_unit, level, kg=float(weight.weight_kg))
    calc.refusals.extend(_bag_refusals(calc, dose_unit))
    return calc


def _assignment_refusals(
    recipient: Recipient, dose_unit: DoseUnit, level: ProtocolDoseLevel
) -> list[str]:
    """The recipient must be assigned this level, and the bag's batch made for them (if it was
    made for anyone)."""
    refusals = []
    if recipient.dose_level != level.code:
        refusals.append(
            f"Recipient {recipient.subject_id} is assigned "
            f"{recipient.dose_level or 'no dose level'}, not {level.code}."
        )
    intended = dose_unit.batch.intended_recipient_id
    if intended is not None and intended != recipient.pk:
        refusals.append(
            f"Batch {dose_unit.batch.lot_number} was made for another recipient, "
            f"not {recipient.subject_id}."
        )
    return refusals


def _work_out_dose(
    calc: DoseCalculation, dose_unit: DoseUnit, level: ProtocolDoseLevel, *, kg: float
) -> None:
    """The dose, the volume of this bag that holds it and the CD3+ cells that come with it,
    into `calc`, with the arithmetic as the clinician checks it."""
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
        f"Dose = {lab(per_kg)} CAR-NK cells/kg x {kg:g} kg = {lab(calc.dose_car_nk_cells)} cells",
        f"CAR-NK/mL = {lab(dose_unit.total_cells_per_ml)} cells/mL x {car_pct} % = {lab(conc)}",
        f"Volume = {lab(calc.dose_car_nk_cells)} / {lab(conc)} per mL = {calc.volume_ml:.2f} mL",
        f"CD3+ = {calc.volume_ml:.2f} mL x {lab(cd3_per_ml)}/mL / {kg:g} kg "
        f"= {lab(calc.cd3_cells_per_kg)}/kg (limit {lab(calc.cd3_limit_per_kg)}/kg)",
    ]


def _bag_refusals(calc: DoseCalculation, dose_unit: DoseUnit) -> list[str]:
    """The bag must hold the dose, keep CD3+ T cells under the limit, be in date and not
    recalled."""
    refusals = []
    if calc.volume_ml > float(dose_unit.volume_ml):
        refusals.append(
            f"The bag holds {dose_unit.volume_ml} mL ({lab(dose_unit.car_nk_cells)} CAR-NK cells); "
            f"the dose needs {calc.volume_ml:.2f} mL."
        )
    if calc.cd3_cells_per_kg >= calc.cd3_limit_per_kg:
        refusals.append(
            f"CD3+ T cells would be {lab(calc.cd3_cells_per_kg)} per kg, at or above the limit of "
            f"{lab(calc.cd3_limit_per_kg)} per kg."
        )
    if dose_unit.expires_at <= timezone.now():
        refusals.append(f"The bag expired at {dose_unit.expires_at:%Y-%m-%d %H:%M %Z}.")
    if dose_unit.status == DoseUnitStatus.RECALLED:
        refusals.append(bag_not_usable(dose_unit, "released"))
    return refusals


def dose_assign(
    *,
    actor: User,
    dose_unit: DoseUnit,
    recipient: Recipient,
    level_code: str,
    reason: str = "Dose assigned",
) -> DoseUnit:
    level = ProtocolDoseLevel.objects.filter(code=level_code).first()
    if level is None:
        raise ValidationError({"dose_level": f"No protocol dose level {level_code!r}."})
    with gmp_write(actor=actor, permission="batches.assign_dose", reason=reason):
        unit = (
            DoseUnit.objects.select_for_update(of=("self",))
            .select_related("batch")
            .get(pk=dose_unit.pk)
        )
        if unit.status != DoseUnitStatus.RELEASED:
            raise ValidationError({"dose_unit": bag_not_usable(unit, "released")})
        calc = dose_calculate(recipient=recipient, dose_unit=unit, level=level)
        if calc.refusals:
            raise ValidationError({"dose": calc.refusals})
        unit.recipient, unit.dose_level = recipient, level
        unit.dose_car_nk_cells = calc.dose_car_nk_cells
        unit.dose_volume_ml = Decimal(f"{calc.volume_ml:.2f}")
        unit.status = DoseUnitStatus.ASSIGNED
        unit.save()
        chain_of_identity_assign_locked(actor=actor, batch=unit.batch, recipient=recipient)
    return unit
