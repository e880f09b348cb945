"""A bag (dose unit) page: the bag with its batch, recipient and dose level, its hand-offs and
its bedside checks."""

from __future__ import annotations

from batches.models import CustodyEvent, DoseUnit


def bags_for_page():
    return DoseUnit.objects.select_related("batch__source_unit", "recipient", "dose_level")


def bag_custody(unit: DoseUnit):
    return CustodyEvent.objects.filter(dose_unit=unit).select_related(
        "released_by", "received_by", "recorded_by"
    )


def bag_checks(unit: DoseUnit):
    return unit.bedside_checks.select_related("checked_by", "recipient")
