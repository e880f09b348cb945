"""The bedside pages: a bedside check with the bag, batch and recipient its page names."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from batches.models import BedsideCheck, DoseUnit, Infusion, Recipient
from batches.selectors import lymphodepletion_blocker, recipients_awaiting_infusion


def checks_for_page():
    return BedsideCheck.objects.select_related("dose_unit__batch", "recipient", "checked_by")


def infusion_of(unit: DoseUnit) -> Infusion | None:
    """The bag's infusion, if it has been started."""
    return Infusion.objects.filter(dose_unit=unit).first()


def infusion_of_bag(check: BedsideCheck) -> Infusion | None:
    """The infusion of the bag a check scanned, if it has been started (from any check)."""
    return None if check.dose_unit is None else infusion_of(check.dose_unit)


@dataclass(frozen=True)
class AwaitingInfusion:
    recipient: Recipient
    blocker: str | None  # why not today for want of lymphodepletion; None: ready


def awaiting_infusion() -> list[AwaitingInfusion]:
    """The recipients with a bag assigned or issued to the ward, each with whether
    lymphodepletion lets them be infused today: the nurse sees a block before scanning."""
    today = timezone.localdate()
    return [
        AwaitingInfusion(recipient, lymphodepletion_blocker(recipient, on=today))
        for recipient in recipients_awaiting_infusion()
    ]
