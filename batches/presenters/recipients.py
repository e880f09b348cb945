"""The recipient pages: each listed recipient with their current weight, and a recipient's
weights newest first."""

from __future__ import annotations

from batches import selectors


def recipient_rows(recipients) -> list[dict]:
    return [{"recipient": r, "weight": selectors.current_weight(r)} for r in recipients]


def recipient_weights(recipient):
    return recipient.weights.select_related("recorded_by").order_by("-measured_on", "-recorded_at")
