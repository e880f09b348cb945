"""The recipient pages: each listed recipient with their current weight, and a recipient's
weights newest first and lymphodepletion."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper

from batches import selectors
from batches.models import FollowUpEnd


def recipient_rows(recipients) -> list[dict]:
    return [{"recipient": r, "weight": selectors.current_weight(r)} for r in recipients]


def recipient_weights(recipient):
    return recipient.weights.select_related("recorded_by").order_by("-measured_on", "-recorded_at")


def recipient_care(recipient, *, now) -> dict:
    """What was given to the recipient and what followed: bags assigned with their dose,
    infusions (in progress or completed), adverse events newest first, follow-up visits in
    the order they are due."""
    return {
        "bags": list(
            recipient.doses.select_related("batch", "dose_level", "infusion").order_by(
                "batch__lot_number", "division"
            )
        ),
        "infusions": list(
            recipient.infusions.select_related("dose_unit__batch", "administered_by").order_by(
                "-started_at"
            )
        ),
        "events": list(
            recipient.adverse_events.select_related("infusion__dose_unit__batch").order_by(
                "-onset_at"
            )
        ),
        "follow_up_end": FollowUpEnd.objects.filter(recipient=recipient)
        .select_related("recorded_by")
        .first(),
        # Overdue is the one rule of `selectors.visit_overdue_q`.
        "visits": list(
            recipient.visits.annotate(
                overdue=ExpressionWrapper(
                    selectors.visit_overdue_q(now=now), output_field=BooleanField()
                )
            ).order_by("due_at", "id")
        ),
    }


def recipient_lymphodepletion(recipient, *, today) -> dict:
    """The recipient's lymphodepletion doses (each with its day relative to the planned
    infusion), the regimen and window expected, and whether it lets the infusion go ahead on
    the planned day (today when none is planned ahead)."""
    planned = recipient.planned_infusion_on
    on = planned if planned is not None and planned >= today else today
    fewest, most = selectors.lymphodepletion_window()
    return {
        "lymphodepletion_doses": list(recipient.lymphodepletion_doses.all()),
        "lymphodepletion_regimen": selectors.lymphodepletion_regimen(),
        "lymphodepletion_window": {"fewest": fewest, "most": most},
        "lymphodepletion_on": on,
        "lymphodepletion_blocker": selectors.lymphodepletion_blocker(recipient, on=on),
    }
