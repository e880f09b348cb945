"""The cord blood unit pages: the banks to filter by, the unit with what its page shows, and
which actions the unit's state and the user's roles allow now."""

from __future__ import annotations

from batches import hla, selectors
from batches.models import CordBloodUnit, UnitStatus
from carnk_mfg.audit import audit_history
from carnk_mfg.roles import actor_may
from carnk_mfg.web import history_rows, signature_rows

CLOSED = (UnitStatus.CONSUMED, UnitStatus.DISCARDED)
ELIGIBILITY_OPEN = (UnitStatus.RECEIVED, UnitStatus.QUARANTINED, UnitStatus.AVAILABLE)
ALLOCATION_OPEN = (UnitStatus.AVAILABLE, UnitStatus.QUARANTINED)


def source_banks(units) -> list[str]:
    """The banks the listed units came from, for the list's filter."""
    return sorted(set(units.order_by().values_list("source_bank", flat=True).distinct()))


def units_for_page():
    return selectors.cord_blood_unit_list().select_related(
        "registered_by", "eligibility_determined_by", "urgent_medical_need"
    )


def unit_page(unit: CordBloodUnit, *, user) -> dict:
    """The unit page's context without the action forms."""
    return {
        "unit": unit,
        "signatures": signature_rows(unit),
        "history": history_rows(audit_history(unit), CordBloodUnit),
        "panel": selectors.donor_panel_assessment(unit),
        "can_record_donor_test": actor_may(user, "batches.record_donor_test"),
        "can_determine": actor_may(user, "batches.determine_eligibility"),
        "can_allocate": actor_may(user, "batches.allocate_cordbloodunit"),
        "can_record_dsa": actor_may(user, "batches.record_dsa"),
        "unit_ligands": hla.kir_ligands(hla.Typing.of(unit), unit.kir_ligand_group),
        "selections": unit.selections.select_related("recipient", "selected_by", "dsa"),
        "dsa_results": unit.donor_specific_antibodies.select_related("recipient", "recorded_by"),
        "can_move": actor_may(user, "batches.store_cordbloodunit"),
        "can_discard": actor_may(user, "batches.discard_cordbloodunit"),
        "eligibility_open": unit.status in ELIGIBILITY_OPEN,
        "allocation_open": unit.status in ALLOCATION_OPEN,
        "needs_urgent_justification": not unit.usable_without_urgent_need,
        "unit_open": unit.status not in CLOSED,
    }
