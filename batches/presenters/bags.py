"""Bag (dose unit) pages: the list of bags on their way to a patient, filterable by status and
recipient; a bag with its batch, recipient and dose level, its hand-offs with who confirmed
each, and its bedside checks."""

from __future__ import annotations

from django.db.models import QuerySet

from batches.models import CustodyEvent, DoseUnit, DoseUnitStatus
from carnk_mfg.signatures import signatures_for

# The bags the clinical side follows: from release to the patient.
BAG_LIST_STATUSES = [
    DoseUnitStatus.RELEASED,
    DoseUnitStatus.ASSIGNED,
    DoseUnitStatus.ISSUED,
    DoseUnitStatus.INFUSED,
]


def bags_for_page():
    return DoseUnit.objects.select_related("batch__source_unit", "recipient", "dose_level")


def bag_list(*, status: str = "", recipient: str = "") -> QuerySet[DoseUnit]:
    """Released, assigned, issued and infused bags (one status when given, one recipient's
    when given), soonest to expire first, with what their rows show."""
    bags = DoseUnit.objects.filter(status__in=[status] if status else BAG_LIST_STATUSES)
    if recipient:
        bags = bags.filter(recipient__subject_id=recipient)
    return bags.select_related("batch", "recipient", "dose_level", "infusion").order_by(
        "expires_at", "batch__lot_number", "division"
    )


def bag_custody(unit: DoseUnit) -> list[dict]:
    """The bag's hand-offs, oldest first, each with the signatures of its two parties."""
    events = list(
        CustodyEvent.objects.filter(dose_unit=unit)
        .select_related("released_by", "received_by", "recorded_by")
        .order_by("occurred_at", "id")
    )
    signed: dict[str, list] = {}
    for signature in signatures_for(*events).order_by("signed_at", "id") if events else []:
        signed.setdefault(signature.object_id, []).append(signature)
    return [{"event": e, "signatures": signed.get(str(e.pk), [])} for e in events]


def bag_checks(unit: DoseUnit):
    return unit.bedside_checks.select_related("checked_by", "recipient")


def bag_label_prints(unit: DoseUnit):
    """The bag's labels sent to the label printer, newest first, with who sent them."""
    return unit.label_print_jobs.select_related("printed_by")
