"""The bedside pages: a bedside check with the bag, batch and recipient its page names."""

from __future__ import annotations

from batches.models import BedsideCheck, DoseUnit, Infusion


def checks_for_page():
    return BedsideCheck.objects.select_related("dose_unit__batch", "recipient", "checked_by")


def infusion_of(unit: DoseUnit) -> Infusion | None:
    """The bag's infusion, if it has been started."""
    return Infusion.objects.filter(dose_unit=unit).first()


def infusion_of_bag(check: BedsideCheck) -> Infusion | None:
    """The infusion of the bag a check scanned, if it has been started (from any check)."""
    return None if check.dose_unit is None else infusion_of(check.dose_unit)
