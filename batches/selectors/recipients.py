"""Reads of recipients and their weights."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from batches.models import Recipient, WeightMeasurement


def recipient_list() -> QuerySet[Recipient]:
    return Recipient.objects.prefetch_related(
        Prefetch(
            "weights", queryset=WeightMeasurement.objects.order_by("-measured_on", "-recorded_at")
        )
    )


def current_weight(recipient: Recipient) -> WeightMeasurement | None:
    weights = list(recipient.weights.all())  # prefetched newest first
    return weights[0] if weights else None
