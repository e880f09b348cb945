"""What unit selection shows: the match of a cord blood unit to a recipient (grade, KIR
ligands of both, the KIR-ligand mismatch) and the recipient's latest donor-specific antibody
result against the unit. The rules themselves are in batches/hla.py."""

from __future__ import annotations

from dataclasses import dataclass

from batches import hla
from batches.models import CordBloodUnit, DonorSpecificAntibody, Recipient


@dataclass
class UnitMatch:
    unit: CordBloodUnit
    recipient: Recipient
    grade: hla.MatchGrade
    unit_ligands: hla.KirLigands
    recipient_ligands: hla.KirLigands
    mismatch: hla.KirMismatch
    dsa: DonorSpecificAntibody | None
    unreadable: list[str]  # "unit HLA-B" etc.: old free text that could not be read


def latest_dsa(*, unit: CordBloodUnit, recipient: Recipient) -> DonorSpecificAntibody | None:
    return (
        DonorSpecificAntibody.objects.filter(unit=unit, recipient=recipient)
        .order_by("-tested_on", "-recorded_at", "-id")
        .first()
    )


def unit_match(*, unit: CordBloodUnit, recipient: Recipient) -> UnitMatch:
    unit_typing, recipient_typing = hla.Typing.of(unit), hla.Typing.of(recipient)
    unit_ligands = hla.kir_ligands(unit_typing, unit.kir_ligand_group)
    recipient_ligands = hla.kir_ligands(recipient_typing, recipient.kir_ligand_group)
    return UnitMatch(
        unit=unit,
        recipient=recipient,
        grade=hla.match_grade(unit_typing, recipient_typing),
        unit_ligands=unit_ligands,
        recipient_ligands=recipient_ligands,
        mismatch=hla.kir_mismatch(unit_ligands, recipient_ligands),
        dsa=latest_dsa(unit=unit, recipient=recipient),
        unreadable=[f"unit HLA-{locus}" for locus in unit_typing.unreadable]
        + [f"recipient HLA-{locus}" for locus in recipient_typing.unreadable],
    )
