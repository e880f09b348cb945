"""Planning a batch and recording its executed steps with their materials; a step that
departs from the template is saved only with a deviation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from batches import ports
from batches.models import (
    Batch,
    BatchState,
    CordBloodUnit,
    DeviationKind,
    Equipment,
    EquipmentUse,
    ExecutedStep,
    MaterialUse,
    ProcessTemplate,
    Recipient,
    Room,
    StepParameter,
    TemplateStatus,
    TemplateStep,
    UnitStatus,
    ValueType,
)
from batches.selectors import next_template_step
from batches.services.batch_record.deviations import open_deviation_locked
from batches.services.chain_of_identity import chain_of_identity_assign_locked
from batches.services.donor import allocate_locked_unit
from batches.services.equipment import step_equipment_check
from batches.services.inventory import lot_draw_locked, overdraw_message
from batches.services.irradiation import feeder_dose_errors
from batches.services.lifecycle import lock_batch
from batches.services.materials import LOT_MODELS, Lot, lot_usability
from batches.services.training import step_training_blocker
from carnk_mfg import isbt128
from carnk_mfg.audit import gmp_write
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.notation import lab_number_text
from carnk_mfg.roles import require_permission
from carnk_mfg.signatures import signed_write
from carnk_mfg.timeutil import check_happened

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _next_din() -> str:
    """A new DIN for the batch from this facility's code, the year and a database sequence."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('batches_din_sequence')")
        (number,) = cursor.fetchone()
    return isbt128.validate_din(f"{settings.ISBT_FACILITY_CODE}{timezone.now():%y}{number:06d}")


def batch_create(
    *,
    actor: User,
    source_unit: CordBloodUnit,
    template: ProcessTemplate,
    unit_fraction_used_pct: Decimal,
    intended_recipient: Recipient | None = None,
    lot_number: str = "",
    reason: str = "Batch planned",
    urgent_need_justification: str = "",
    urgent_need_physician: str = "",
    room: Room | None = None,
) -> Batch:
    """Plan a batch from a cord blood unit and an approved template version. The unit is
    allocated on its first batch (an ineligible or incomplete one only under a recorded
    urgent medical need); one unit may feed several batches up to 100 % of it."""
    require_permission(actor, "batches.add_batch")
    if template.status != TemplateStatus.APPROVED:
        raise ValidationError({"template": f"{template} is not an approved template version."})
    with gmp_write(actor=actor, permission="batches.add_batch", reason=reason):
        unit = CordBloodUnit.objects.select_for_update(no_key=True).get(pk=source_unit.pk)
        if unit.status != UnitStatus.ALLOCATED:
            unit = allocate_locked_unit(
                actor=actor,
                unit=unit,
                justification=urgent_need_justification,
                physician=urgent_need_physician,
            )
        used = unit.batches.exclude(state=BatchState.TERMINATED).aggregate(
            total=Sum("unit_fraction_used_pct")
        )["total"] or Decimal(0)
        if used + unit_fraction_used_pct > 100:
            raise ValidationError(
                {"unit_fraction_used_pct": f"Only {100 - used}% of unit {unit.din} is left."}
            )
        now = timezone.now()
        din = _next_din()
        batch = Batch(
            lot_number=lot_number.strip() or f"CNK-{din[5:]}",
            source_unit=unit,
            template=template,
            din=din,
            intended_recipient=intended_recipient,
            room=room,
            unit_fraction_used_pct=unit_fraction_used_pct,
            state=BatchState.PLANNED,
            state_changed_at=now,
            created_by=actor,
            created_at=now,
        )
        try:
            batch.full_clean(
                exclude=["created_by", "source_unit", "template", "intended_recipient", "room"]
            )
            batch.save()
        except IntegrityError as exc:
            raise ValidationError({"lot_number": f"Lot number {batch.lot_number} exists."}) from exc
        if intended_recipient is not None:
            chain_of_identity_assign_locked(actor=actor, batch=batch, recipient=intended_recipient)
    return batch


@dataclass
class DeviationInput:
    what: str
    why: str
    impact: str


@dataclass
class StepCheck:
    """What the template says about a proposed step: values cleaned, and its departures."""

    values: dict[str, object] = field(default_factory=dict)  # by parameter code, as saved
    # (lot, quantity drawn in the lot's unit or None, its index in the request)
    lots: list[tuple[Lot, Decimal | None, int]] = field(default_factory=list)
    departures: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    equipment: list[Equipment] = field(default_factory=list)  # scanned, each usable


def _clean_value(
    param: StepParameter,
    raw: object,
    errors: dict[str, str],
    departures: list[tuple[str, str]],
) -> object:
    name = f"values.{param.code}"
    if raw in (None, ""):
        if param.required:
            errors[name] = f"{param.name} is required."
        return None
    if param.value_type == ValueType.NUMBER:
        try:
            value = float(Decimal(str(raw)))
        except (InvalidOperation, ValueError):
            errors[name] = f"{param.name} must be a number, not {str(raw)[:40]!r}."
            return None
        if value != value or value in (float("inf"), float("-inf")):
            errors[name] = f"{param.name} must be a finite number."
            return None
        low, high = param.min_value, param.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            departures.append(
                (
                    DeviationKind.OUT_OF_RANGE,
                    f"{param.name} {lab_number_text(value)} {param.unit} is outside the "
                    f"allowed range: {param.range_text}.",
                )
            )
        return value
    if param.value_type == ValueType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("true", "yes", "1", "on"):
            return True
        if str(raw).lower() in ("false", "no", "0", "off"):
            return False
        errors[name] = f"{param.name} must be yes or no."
        return None
    if param.value_type == ValueType.CHOICE:
        if raw not in param.choices:
            errors[name] = f"{param.name} must be one of {', '.join(param.choices)}."
            return None
        return raw
    text = str(raw).strip()
    if len(text) > 500:
        errors[name] = f"{param.name} is longer than 500 characters."
    return text


def _scanned_source_unit(
    param: StepParameter, raw: object, batch: Batch, errors: dict[str, str]
) -> str | None:
    """The source unit's DIN as scanned at the bench: it must be this batch's own unit, as
    the bedside check insists for bags. A wrong unit is refused, never saved."""
    name = f"values.{param.code}"
    if raw in (None, ""):
        if param.required:
            errors[name] = f"{param.name} is required: scan the cord blood unit's DIN barcode."
        return None
    try:
        scanned = isbt128.din_from_scan(str(raw)[:40])
    except isbt128.DINError as exc:
        errors[name] = f"{param.name}: {exc.message}."
        return None
    unit = batch.source_unit
    if scanned.text != unit.din:
        errors[name] = (
            f"WRONG CORD BLOOD UNIT: scanned {scanned.text} {scanned.check_character}, but batch "
            f"{batch.lot_number} is made from unit {unit.din_eye_readable}. Nothing was saved."
        )
        return None
    return scanned.text


def check_step(
    *,
    batch: Batch,
    template_step: TemplateStep,
    performed_at: datetime,
    values: dict[str, Any],
    materials: list[dict[str, Any]],
    equipment: list[str] | None = None,
) -> StepCheck:
    """Validate a proposed step against the template; raise for what cannot be saved at all,
    list the departures that can be saved only with a deviation."""
    errors: dict[str, str] = {}
    check = StepCheck()
    if not isinstance(values, dict):
        raise ValidationError({"values": "Values must be an object of parameter code to value."})
    _check_values(check, errors, batch=batch, template_step=template_step, values=values)
    _check_timing(
        check, errors, batch=batch, template_step=template_step, performed_at=performed_at
    )
    if not isinstance(materials, list):
        raise ValidationError({"materials": "Materials must be a list of {kind, lot_number}."})
    _check_materials(
        check, errors, template_step=template_step, performed_at=performed_at, materials=materials
    )
    check.equipment = step_equipment_check(
        errors,
        template_step=template_step,
        scanned=equipment or [],
        on=timezone.localdate(performed_at),
    )
    if not errors:
        errors.update(
            feeder_dose_errors(
                template_step=template_step,
                values=check.values,
                lots=[lot for lot, _, _ in check.lots],
            )
        )
    if errors:
        raise ValidationError(errors)
    return check


def recorded_step_departures(step: ExecutedStep) -> list[tuple[str, str]]:
    """The departures of a step as recorded, judged by the same checks as at recording:
    values outside their range and lateness (kind, text). QA's review reads them here."""
    check = StepCheck()
    for param in step.template_step.parameters.all():
        if param.value_type != ValueType.UNIT_DIN:  # a wrong unit is never saved
            _clean_value(param, step.values.get(param.code), {}, check.departures)
    late = lateness(step.template_step, step.performed_at, day0=step.batch.day0_at)
    if late:
        check.departures.append((DeviationKind.LATE, late))
    return check.departures


def _check_values(
    check: StepCheck,
    errors: dict[str, str],
    *,
    batch: Batch,
    template_step: TemplateStep,
    values: dict[str, Any],
) -> None:
    """Each value against its parameter: no unknown codes, each cleaned by its type."""
    params = list(template_step.parameters.all())
    known = {p.code for p in params}
    for code in values:
        if code not in known:
            errors[f"values.{code}"] = f"The step has no parameter {code!r}."
    for param in params:
        raw = values.get(param.code)
        if param.value_type == ValueType.UNIT_DIN:
            check.values[param.code] = _scanned_source_unit(param, raw, batch, errors)
        else:
            check.values[param.code] = _clean_value(param, raw, errors, check.departures)


def _check_timing(
    check: StepCheck,
    errors: dict[str, str],
    *,
    batch: Batch,
    template_step: TemplateStep,
    performed_at: datetime,
) -> None:
    """Not in the future nor before the batch was planned; late against the template's day."""
    check_happened(
        errors,
        "performed_at",
        performed_at,
        what="A step",
        not_before=(batch.created_at, f"batch {batch.lot_number} was planned"),
    )
    late = lateness(template_step, performed_at, day0=batch.day0_at)
    if late:
        check.departures.append((DeviationKind.LATE, late))


def lateness(template_step: TemplateStep, performed_at: datetime, *, day0: datetime | None) -> str:
    """Why a step performed at `performed_at` is late against its template day, or "" (the
    first step sets day 0, so it is never late)."""
    day0 = day0 or performed_at
    if performed_at <= day0 + timedelta(
        days=template_step.planned_day + template_step.late_after_days
    ):
        return ""
    return (
        f"{template_step.name} performed on day {(performed_at - day0).days}, planned for day "
        f"{template_step.planned_day} (late after {template_step.late_after_days} day(s))."
    )


def _check_materials(
    check: StepCheck,
    errors: dict[str, str],
    *,
    template_step: TemplateStep,
    performed_at: datetime,
    materials: list[dict[str, Any]],
) -> None:
    """Each lot registered and usable on the day; lots the step does not use, and the
    materials it uses that no lot was given for, are departures."""
    expected = list(template_step.material_kinds)
    for index, item in enumerate(materials):
        if not isinstance(item, dict):
            errors[f"materials.{index}"] = "Each material is an object with kind and lot_number."
            continue
        # Whatever the request says; only the three known kinds find a model.
        kind: Any = item.get("kind")
        number = str(item.get("lot_number") or "").strip()
        model = LOT_MODELS.get(kind)
        if model is None:
            errors[f"materials.{index}.kind"] = "Kind must be vector, feeder or reagent."
            continue
        lot = model.objects.filter(lot_number=number).first()
        if lot is None:
            errors[f"materials.{index}.lot_number"] = f"No {kind} lot {number!r} is registered."
            continue
        usable = lot_usability(lot, on=timezone.localdate(performed_at))
        if not usable:
            errors[f"materials.{index}.lot_number"] = usable.reason
            continue
        quantity = _quantity_used(item.get("quantity"), lot, f"materials.{index}.quantity", errors)
        check.lots.append((lot, quantity, index))
        # "reagent:il2" in the template matches a reagent lot of that reagent.
        specific = f"{kind}:{getattr(lot, 'reagent', '')}"
        if specific in expected:
            expected.remove(specific)
        elif kind in expected:
            expected.remove(kind)
        else:
            check.departures.append(
                (DeviationKind.MATERIAL, f"{lot} is not a material this step uses.")
            )
    for missing in expected:
        check.departures.append(
            (DeviationKind.MATERIAL, f"No {missing.replace(':', ' ')} lot was used.")
        )


def _quantity_used(raw: Any, lot: Lot, name: str, errors: dict[str, str]) -> Decimal | None:
    """The quantity drawn from the lot, in its unit; none given draws nothing
    (batches.services.inventory). More than is on hand is refused here, before signing,
    and again under the lot's lock when the step is written."""
    if raw is None or str(raw).strip() == "":
        return None
    try:
        quantity = Decimal(str(raw).strip())
    except InvalidOperation:
        errors[name] = f"Quantity {str(raw)[:20]!r} is not a number."
        return None
    if not quantity.is_finite() or quantity <= 0 or quantity != round(quantity, 3):
        errors[name] = "The quantity used is above zero, to at most 3 decimals."
        return None
    if quantity >= 10**9:
        errors[name] = "The quantity used is too large."
        return None
    if quantity > lot.quantity_on_hand:
        errors[name] = overdraw_message(lot, quantity)
        return None
    return quantity


def step_record(
    *,
    actor: User,
    password: str,
    batch: Batch,
    template_step: TemplateStep,
    performed_at: datetime,
    values: dict[str, Any],
    materials: list[dict[str, Any]] | None = None,
    equipment: list[str] | None = None,
    notes: str = "",
    deviation: DeviationInput | None = None,
    request: HttpRequest | None = None,
) -> ExecutedStep:
    """Record an executed step, signed by its operator (current on the step's procedures),
    its lots and scanned equipment usable on the day. A step that departs from the template
    is saved only together with a deviation, which puts the batch on hold for QA."""
    materials = materials or []
    if template_step.template_id != batch.template_id:
        raise ValidationError({"step": "That step belongs to another template."})
    label = f"Batch {batch.lot_number} step {template_step.order}: {template_step.name}"
    # Cheap checks first so a plainly wrong request does not cost a signing attempt.
    _check_step_order(batch, template_step)
    check = check_step(
        batch=batch,
        template_step=template_step,
        performed_at=performed_at,
        values=values,
        materials=materials,
        equipment=equipment,
    )
    _check_deviation_given(check, deviation)
    untrained = step_training_blocker(template_step, actor, on=timezone.localdate(performed_at))
    if untrained:
        raise ValidationError({"step": untrained})
    with signed_write(
        actor=actor,
        password=password,
        permission="batches.record_step",
        meaning=SignatureMeaning.PERFORMED,
        label=label,
        reason=f"Step recorded: {template_step.name}",
        request=request,
    ) as signing:
        locked = lock_batch(batch)
        _check_batch_takes_step(locked, template_step)
        step = _write_step(
            actor=actor,
            batch=locked,
            template_step=template_step,
            performed_at=performed_at,
            check=check,
            notes=notes,
        )
        signing.sign(step, comment=notes)
        if deviation is not None:
            _open_step_deviation(
                actor=actor, batch=locked, step=step, check=check, deviation=deviation
            )
    return step


def _check_deviation_given(check: StepCheck, deviation: DeviationInput | None) -> None:
    """A step with departures needs a deviation, and a deviation needs its why and impact
    (and what departed, when the template check found nothing)."""
    if check.departures and deviation is None:
        raise ValidationError(
            {
                "deviation": "This step departs from the template: "
                + " ".join(text for _kind, text in check.departures)
                + " Record a deviation (what, why, impact) to save it."
            }
        )
    if deviation is not None and not (deviation.why.strip() and deviation.impact.strip()):
        raise ValidationError({"deviation": "A deviation needs why it happened and its impact."})
    if deviation is not None and not check.departures and not deviation.what.strip():
        raise ValidationError({"deviation": "Say what departed from the procedure."})


def step_blocker(batch: Batch) -> str:
    """What stops any step of this batch being recorded now, or "" when nothing does (the
    order of steps is `_check_step_order`'s). `step_record` refuses with it; the batch page
    shows it on the step it cannot offer."""
    if batch.state != BatchState.IN_PROCESS:
        if batch.state == BatchState.ON_HOLD:
            return "The batch is on hold: steps resume after QA dispositions the open deviation."
        return (
            "Steps are recorded while the batch is in process; "
            f"it is {batch.get_state_display().lower()}."
        )
    unit = batch.source_unit
    if not unit.usable_without_urgent_need and unit.urgent_medical_need_id is None:
        return (
            f"Cord blood unit {unit.din} is {unit.eligibility} and has no recorded "
            "urgent medical need."
        )
    return ""


def _check_batch_takes_step(locked: Batch, template_step: TemplateStep) -> None:
    """Under the batch lock: in process, the step next in order, and a usable unit."""
    blocker = step_blocker(locked)
    if blocker:
        raise ValidationError({"step": blocker})
    _check_step_order(locked, template_step)


def _write_step(
    *,
    actor: User,
    batch: Batch,
    template_step: TemplateStep,
    performed_at: datetime,
    check: StepCheck,
    notes: str,
) -> ExecutedStep:
    """The step, its materials and the QC tests it triggers; the first step starts day 0."""
    step = ExecutedStep.objects.create(
        batch=batch,
        template_step=template_step,
        performed_by=actor,
        performed_at=performed_at,
        values=check.values,
        notes=notes,
        recorded_at=timezone.now(),
    )
    for lot, quantity, index in check.lots:
        lot_draw_locked(lot, quantity, field=f"materials.{index}.quantity")
    MaterialUse.objects.bulk_create(
        [
            MaterialUse(step=step, quantity_used=quantity, **{f"{lot.kind}_lot": lot})
            for lot, quantity, _index in check.lots
        ]
    )
    EquipmentUse.objects.bulk_create(
        [EquipmentUse(step=step, equipment=equipment) for equipment in check.equipment]
    )
    ports.qc_plan_for_step(executed_step=step)
    if batch.day0_at is None:
        batch.day0_at = performed_at
        batch.save(update_fields=["day0_at"])
    return step


def _open_step_deviation(
    *,
    actor: User,
    batch: Batch,
    step: ExecutedStep,
    check: StepCheck,
    deviation: DeviationInput,
) -> None:
    kind = check.departures[0][0] if check.departures else DeviationKind.OTHER
    what = deviation.what or " ".join(text for _k, text in check.departures)
    open_deviation_locked(
        actor=actor,
        batch=batch,
        step=step,
        kind=kind,
        what=what,
        why=deviation.why,
        impact=deviation.impact,
    )


def _check_step_order(batch: Batch, template_step: TemplateStep) -> None:
    if ExecutedStep.objects.filter(batch=batch, template_step=template_step).exists():
        raise ValidationError(
            {"step": f"Step {template_step.order} ({template_step.name}) is already recorded."}
        )
    due = next_template_step(batch)
    if due is not None and due.pk != template_step.pk:
        raise ValidationError(
            {
                "step": f"Steps are recorded in template order: step {due.order} ({due.name}) "
                f"comes before step {template_step.order} ({template_step.name})."
            }
        )
