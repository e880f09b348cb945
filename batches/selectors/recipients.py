"""Reads of recipients and their weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet

from batches.models import Recipient, WeightMeasurement
from carnk_mfg.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def recipient_list() -> QuerySet[Recipient]:
    return Recipient.objects.select_related("treating_clinician").prefetch_related(
        Prefetch(
            "weights", queryset=WeightMeasurement.objects.order_by("-measured_on", "-recorded_at")
        )
    )


def current_weight(recipient: Recipient) -> WeightMeasurement | None:
    weights = list(recipient.weights.all())  # prefetched newest first
    return weights[0] if weights else None


def clinical_staff() -> QuerySet[User]:
    """Active users holding the clinical role: those who may treat a recipient."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.CLINICAL)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
