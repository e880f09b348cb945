"""Cord blood unit registration, storage, eligibility and allocation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest
from django.utils import timezone

from batches.models import (
    CordBloodUnit,
    DonorMarker,
    DonorTest,
    DonorTestResult,
    Eligibility,
    Recipient,
    UnitStatus,
    UrgentMedicalNeed,
)
from batches.selectors.donor import PanelAssessment, donor_panel_assessment
from batches.services.unit_selection import hla_typing_checked, selection_record
from carnk_mfg import isbt128
from carnk_mfg.audit import gmp_write, validate_record
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import require_permission
from carnk_mfg.signatures import signed_write
from carnk_mfg.timeutil import check_happened

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A unit whose eligibility QA may still determine: once allocated, consumed or discarded the
# determination is part of the record that led to its use.
ELIGIBILITY_OPEN = (UnitStatus.RECEIVED, UnitStatus.QUARANTINED, UnitStatus.AVAILABLE)


def _locked(unit: CordBloodUnit) -> CordBloodUnit:
    return CordBloodUnit.objects.select_for_update(no_key=True).get(pk=unit.pk)


def cord_blood_unit_register(
    *,
    actor: User,
    password: str,
    din: str,
    check_character: str,
    product_code: str,
    source_bank: str,
    collected_at: datetime,
    cryopreserved_at: datetime,
    volume_ml: Decimal,
    tnc_count: float,
    cd34_count: float,
    nrbc_count: float,
    viability_pct: Decimal,
    freezer: str,
    rack: str,
    box: str,
    position: str,
    hla_a: str = "",
    hla_b: str = "",
    hla_c: str = "",
    hla_drb1: str = "",
    kir_ligand_group: str = "",
    reason: str = "Cord blood unit received and registered",
    request: HttpRequest | None = None,
) -> CordBloodUnit:
    """Register a received unit; manual entry of the DIN requires its check character."""
    din = _din_checked(din, check_character)
    typing = {"hla_a": hla_a, "hla_b": hla_b, "hla_c": hla_c, "hla_drb1": hla_drb1}
    hla_typing_checked(typing)
    unit = CordBloodUnit(
        din=din,
        product_code=product_code,
        source_bank=source_bank,
        collected_at=collected_at,
        cryopreserved_at=cryopreserved_at,
        volume_ml=volume_ml,
        tnc_count=tnc_count,
        cd34_count=cd34_count,
        nrbc_count=nrbc_count,
        viability_pct=viability_pct,
        **typing,
        kir_ligand_group=kir_ligand_group,
        freezer=freezer,
        rack=rack,
        box=box,
        position=position,
        status=UnitStatus.RECEIVED,
        registered_by=actor,
        registered_at=timezone.now(),
    )
    _validate_unit(unit)
    _check_unit_times(collected_at=collected_at, cryopreserved_at=cryopreserved_at)
    _save_registration(unit, din, actor=actor, password=password, reason=reason, request=request)
    return unit


def _din_checked(din: str, check_character: str) -> str:
    """The DIN as typed, once its check character confirms it was typed right."""
    try:
        return isbt128.verify_check_character(din, check_character)
    except isbt128.DINError as exc:
        field = "check_character" if "check character" in str(exc) else "din"
        raise ValidationError({field: str(exc)}) from exc


def _check_unit_times(*, collected_at: datetime, cryopreserved_at: datetime) -> None:
    """Neither the collection nor the cryopreservation is in the future."""
    errors: dict[str, str] = {}
    check_happened(errors, "collected_at", collected_at, what="The collection")
    check_happened(errors, "cryopreserved_at", cryopreserved_at, what="The cryopreservation")
    if errors:
        raise ValidationError(errors)


def _save_registration(
    unit: CordBloodUnit,
    din: str,
    *,
    actor: User,
    password: str,
    reason: str,
    request: HttpRequest | None,
) -> None:
    """Save the new unit under the registering person's signature."""
    try:
        with signed_write(
            actor=actor,
            password=password,
            permission="batches.add_cordbloodunit",
            meaning=SignatureMeaning.PERFORMED,
            label=f"Cord blood unit {din} registration",
            reason=reason,
            request=request,
        ) as signing:
            unit.save()
            signing.sign(unit, attests="unit_registration")
    except IntegrityError as exc:
        # Two registrations of one DIN at once: the unique index decides.
        raise ValidationError({"din": f"DIN {din} is already registered."}) from exc


def _validate_unit(unit: CordBloodUnit) -> None:
    try:
        validate_record(unit, exclude=["registered_by"])
    except ValidationError as exc:
        errors = exc.message_dict
        if "din" in errors and CordBloodUnit.objects.filter(din=unit.din).exists():
            errors["din"] = [f"DIN {unit.din} is already registered."]
        if "__all__" in errors:
            cross = errors.pop("__all__")
            for msg in cross:
                key = "cryopreserved_at" if "cryo" in msg else "__all__"
                errors.setdefault(key, []).append(msg)
        raise ValidationError(errors) from None


def cord_blood_unit_move(
    *,
    actor: User,
    unit: CordBloodUnit,
    freezer: str,
    rack: str,
    box: str,
    position: str,
    reason: str,
) -> CordBloodUnit:
    with gmp_write(actor=actor, permission="batches.store_cordbloodunit", reason=reason):
        unit = _locked(unit)
        if unit.status in (UnitStatus.CONSUMED, UnitStatus.DISCARDED):
            raise ValidationError(
                {"status": f"A {unit.get_status_display().lower()} unit has no storage location."}
            )
        unit.freezer, unit.rack, unit.box, unit.position = freezer, rack, box, position
        validate_record(unit)
        unit.save(update_fields=["freezer", "rack", "box", "position"])
    return unit


def cord_blood_unit_determine_eligibility(
    *,
    actor: User,
    password: str,
    unit: CordBloodUnit,
    eligibility: str,
    notes: str,
    request: HttpRequest | None = None,
) -> CordBloodUnit:
    """QA's donor eligibility determination, signed. Eligible units become available; an
    ineligible or incomplete unit stays quarantined (usable only under urgent medical need).
    The donor test panel decides what may be chosen: eligible only with every required test
    present, sampled in the window and non-reactive; not incomplete once a marker is reactive
    (the donor is then ineligible, and the label must say so)."""
    decided = [Eligibility.ELIGIBLE, Eligibility.INELIGIBLE, Eligibility.INCOMPLETE]
    if eligibility not in decided:
        raise ValidationError({"eligibility": "Choose eligible, ineligible or incomplete."})
    if eligibility != Eligibility.ELIGIBLE and not (notes or "").strip():
        raise ValidationError({"notes": "Say why the donor is not eligible or what is missing."})
    with signed_write(
        actor=actor,
        password=password,
        permission="batches.determine_eligibility",
        meaning=SignatureMeaning.APPROVED,
        label=f"Donor eligibility of cord blood unit {unit.din}",
        reason=f"Donor eligibility determined: {eligibility}",
        request=request,
    ) as signing:
        unit = _locked(unit)
        if unit.status not in ELIGIBILITY_OPEN:
            raise ValidationError(
                {
                    "eligibility": f"The unit is {unit.get_status_display().lower()}; "
                    "its eligibility can no longer change."
                }
            )
        _check_against_panel(donor_panel_assessment(unit), eligibility, notes)
        unit.eligibility = eligibility
        unit.eligibility_notes = notes or ""
        unit.eligibility_determined_by = actor
        unit.eligibility_determined_at = timezone.now()
        unit.status = (
            UnitStatus.AVAILABLE if eligibility == Eligibility.ELIGIBLE else UnitStatus.QUARANTINED
        )
        unit.save()
        signing.sign(unit, attests="eligibility", comment=notes or "")
    return unit


def _check_against_panel(panel: PanelAssessment, eligibility: str, notes: str) -> None:
    """Refuse a determination the donor test panel does not support, naming each problem."""
    if eligibility == Eligibility.ELIGIBLE and panel.refusals:
        raise ValidationError({"eligibility": panel.refusals})
    procedure = panel.reactive_under_procedure
    if eligibility == Eligibility.ELIGIBLE and procedure and not (notes or "").strip():
        raise ValidationError(
            {
                "notes": f"Reactive: {', '.join(procedure)}. Name the procedure under which "
                "the unit may be used."
            }
        )
    if eligibility == Eligibility.INCOMPLETE and panel.reactive:
        raise ValidationError({"eligibility": panel.reasons})


def donor_test_record(
    *,
    actor: User,
    unit: CordBloodUnit,
    marker: str,
    sample_date: date,
    result: str,
    test_kit: str,
    kit_lot: str,
    laboratory: str,
    reason: str = "Donor test result recorded",
) -> DonorTest:
    """Record one test of the unit's donor. One result per marker: a result stands, and a
    repeat cannot replace a reactive one (21 CFR 1271.80(d)(1))."""
    _check_donor_test(
        marker=marker,
        sample_date=sample_date,
        result=result,
        test_kit=test_kit,
        kit_lot=kit_lot,
        laboratory=laboratory,
    )
    with gmp_write(actor=actor, permission="batches.record_donor_test", reason=reason):
        # The determination reads the panel under this lock: it sees a test whole or not at all.
        unit = _locked(unit)
        earlier = DonorTest.objects.filter(unit=unit, marker=marker, from_marker_list=False).first()
        if earlier is not None:
            raise ValidationError({"marker": _already_recorded(earlier)})
        test = DonorTest(
            unit=unit,
            marker=marker,
            sample_date=sample_date,
            result=result,
            test_kit=test_kit.strip(),
            kit_lot=kit_lot.strip(),
            laboratory=laboratory.strip(),
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        validate_record(test, exclude=["unit", "recorded_by"])
        test.save()
    return test


def _already_recorded(test: DonorTest) -> str:
    return (
        f"{test.get_marker_display()} is already recorded ({test.get_result_display().lower()}, "
        f"sampled {test.sample_date:%Y-%m-%d}); a result is not replaced by a repeat."
    )


def _check_donor_test(
    *,
    marker: str,
    sample_date: date,
    result: str,
    test_kit: str,
    kit_lot: str,
    laboratory: str,
) -> None:
    errors: dict[str, str] = {}
    if marker not in DonorMarker.values:
        errors["marker"] = "Choose one of the panel's markers."
    if result not in DonorTestResult.values:
        errors["result"] = "Choose non-reactive, reactive or indeterminate."
    if sample_date is None:
        errors["sample_date"] = "Give the date the donor's specimen was sampled."
    elif sample_date > timezone.localdate():
        errors["sample_date"] = f"The sample date cannot be in the future ({sample_date})."
    for name, value, what in (
        ("test_kit", test_kit, "the test kit"),
        ("kit_lot", kit_lot, "the kit's lot"),
        ("laboratory", laboratory, "the testing laboratory"),
    ):
        if not (value or "").strip():
            errors[name] = f"Name {what}."
    if errors:
        raise ValidationError(errors)


def cord_blood_unit_allocate(
    *,
    actor: User,
    unit: CordBloodUnit,
    reason: str,
    urgent_need_justification: str = "",
    urgent_need_physician: str = "",
    recipient: Recipient | None = None,
    selection_rationale: str = "",
) -> CordBloodUnit:
    """Allocate a unit to manufacturing. An ineligible or incomplete unit needs a recorded
    urgent-medical-need justification (21 CFR 1271.65(b)); a pending one cannot go at all.
    Allocated for a recipient, the selection is recorded with its rationale and the match
    (HLA grade, KIR ligands, donor-specific antibodies) as shown at the time."""
    if selection_rationale.strip() and recipient is None:
        raise ValidationError({"recipient": "Name the recipient the unit is selected for."})
    with gmp_write(actor=actor, permission="batches.allocate_cordbloodunit", reason=reason):
        unit = allocate_locked_unit(
            actor=actor,
            unit=_locked(unit),
            justification=urgent_need_justification,
            physician=urgent_need_physician,
        )
        if recipient is not None:
            selection_record(
                actor=actor, unit=unit, recipient=recipient, rationale=selection_rationale
            )
        return unit


def allocate_locked_unit(
    *, actor: User, unit: CordBloodUnit, justification: str = "", physician: str = ""
) -> CordBloodUnit:
    """The allocation rule, for callers already inside `gmp_write` holding the unit's lock
    (this service, and batch planning, which allocates an eligible unit on its first batch)."""
    if unit.eligibility == Eligibility.PENDING:
        raise ValidationError(
            {"eligibility": "Donor eligibility has not been determined by QA yet."}
        )
    if unit.status not in (UnitStatus.AVAILABLE, UnitStatus.QUARANTINED):
        raise ValidationError(
            {
                "status": "Only an available or quarantined unit can be allocated; "
                f"this one is {unit.get_status_display().lower()}."
            }
        )
    if unit.eligibility != Eligibility.ELIGIBLE:
        # Using an ineligible or incomplete unit is a medical decision, not a lab one.
        require_permission(actor, "batches.allocate_cordbloodunit")
        errors: dict[str, str] = {}
        if not justification.strip():
            errors["urgent_need_justification"] = (
                f"The donor is {unit.eligibility}: allocation needs a documented urgent "
                "medical need."
            )
        if not physician.strip():
            errors["urgent_need_physician"] = "Name the physician who declared the urgent need."
        if errors:
            raise ValidationError(errors)
        unit.urgent_medical_need = UrgentMedicalNeed.objects.create(
            unit=unit,
            justification=justification.strip(),
            physician=physician.strip(),
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
    unit.status = UnitStatus.ALLOCATED
    unit.save(update_fields=["status", "urgent_medical_need"])
    return unit


def cord_blood_unit_discard(*, actor: User, unit: CordBloodUnit, reason: str) -> CordBloodUnit:
    with gmp_write(actor=actor, permission="batches.discard_cordbloodunit", reason=reason):
        unit = _locked(unit)
        if unit.status in (UnitStatus.CONSUMED, UnitStatus.DISCARDED):
            raise ValidationError({"status": f"The unit is already {unit.status}."})
        unit.status = UnitStatus.DISCARDED
        unit.save(update_fields=["status"])
    return unit
