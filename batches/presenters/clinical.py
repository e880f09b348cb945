"""Clinical pages after infusion: which follow-up visits are overdue or due soon, and an
infusion with its adverse events, safety switch activations and visits."""

from __future__ import annotations

from datetime import timedelta

from batches.models import Infusion
from batches.selectors import worklists

DUE_WITHIN = timedelta(days=7)


def visits_due(*, now) -> dict:
    """Open visits past due (the one overdue rule of `selectors.visit_overdue_q`) and those
    due within DUE_WITHIN, each soonest first."""
    return {
        "overdue": list(worklists.visits_overdue(now=now)),
        "due_soon": list(worklists.visits_due_soon(now=now, within=DUE_WITHIN)),
    }


def infusions_for_page():
    return Infusion.objects.select_related("recipient", "dose_unit__batch", "administered_by")


def infusion_records(infusion: Infusion) -> dict:
    """What followed the infusion: adverse events and switch activations newest first,
    visits in the order they are due."""
    return {
        "events": infusion.adverse_events.order_by("-onset_at"),
        "switches": infusion.safety_switch.order_by("-given_at"),
        "visits": infusion.visits.order_by("due_at"),
    }
