"""Reads: querysets shaped for each page and endpoint, so views stay thin."""

from __future__ import annotations

import pghistory.models
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, QuerySet

from batches.models import CordBloodUnit, Recipient, WeightMeasurement
from carnk_mfg.models import ElectronicSignature


def cord_blood_unit_list() -> QuerySet[CordBloodUnit]:
    return CordBloodUnit.objects.all()


def recipient_list() -> QuerySet[Recipient]:
    return Recipient.objects.prefetch_related(
        Prefetch(
            "weights", queryset=WeightMeasurement.objects.order_by("-measured_on", "-recorded_at")
        )
    )


def current_weight(recipient: Recipient) -> WeightMeasurement | None:
    weights = list(recipient.weights.all())  # prefetched newest first
    return weights[0] if weights else None


def audit_history(record) -> QuerySet:
    """Every trail event of one record, oldest first, with who, why and the changed values."""
    return pghistory.models.Events.objects.tracks(record).order_by("pgh_created_at")


def signatures_of(record) -> QuerySet[ElectronicSignature]:
    return ElectronicSignature.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=str(record.pk)
    ).select_related("signer")
