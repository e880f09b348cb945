"""Unit selection: HLA typing as entered, donor-specific antibodies, and the record of why a
unit was chosen for a recipient (written by the allocation in batches/services/donor.py)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from batches import hla
from batches.models import CordBloodUnit, DonorSpecificAntibody, Recipient, UnitSelection
from batches.selectors.unit_selection import unit_match
from carnk_mfg.audit import gmp_write, validate_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def hla_typing_checked(fields: dict[str, Any]) -> None:
    """Put the typing fields present in `fields` in canonical form, or raise a per-field
    ValidationError naming what cannot be read."""
    typing = {name: fields[name] for name in hla.FIELD_OF_LOCUS.values() if name in fields}
    try:
        fields.update(hla.normalized_typing(typing))
    except hla.TypingErrors as exc:
        raise ValidationError(exc.errors) from None


def dsa_record(
    *,
    actor: User,
    recipient: Recipient,
    unit: CordBloodUnit,
    present: bool,
    tested_on: date,
    mfi: int | None = None,
    specificity: str = "",
    reason: str = "Donor-specific antibody result recorded",
) -> DonorSpecificAntibody:
    errors: dict[str, str] = {}
    if present and mfi is None:
        errors["mfi"] = "A positive result needs its MFI."
    if tested_on and tested_on > timezone.localdate():
        errors["tested_on"] = f"The test date cannot be in the future ({tested_on})."
    if errors:
        raise ValidationError(errors)
    with gmp_write(actor=actor, permission="batches.record_dsa", reason=reason):
        dsa = DonorSpecificAntibody(
            recipient=recipient,
            unit=unit,
            present=present,
            mfi=mfi,
            specificity=specificity,
            tested_on=tested_on,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        validate_record(dsa, exclude=["recorded_by", "recipient", "unit"])
        dsa.save()
    return dsa


def selection_record(
    *, actor: User, unit: CordBloodUnit, recipient: Recipient, rationale: str
) -> UnitSelection:
    """The selection of `unit` for `recipient`, with the match as shown now. For callers
    inside `gmp_write` (the allocation), so the record and its trail row share a transaction."""
    if not (rationale or "").strip():
        raise ValidationError(
            {"selection_rationale": "Say why this unit was chosen for this recipient."}
        )
    match = unit_match(unit=unit, recipient=recipient)
    selection = UnitSelection(
        unit=unit,
        recipient=recipient,
        rationale=rationale.strip(),
        match_grade=str(match.grade)[:120],
        unit_kir_ligands=str(match.unit_ligands),
        recipient_kir_ligands=str(match.recipient_ligands),
        kir_mismatch=str(match.mismatch)[:200],
        dsa=match.dsa,
        selected_by=actor,
        selected_at=timezone.now(),
    )
    validate_record(selection, exclude=["selected_by", "unit", "recipient", "dsa"])
    selection.save()
    return selection
