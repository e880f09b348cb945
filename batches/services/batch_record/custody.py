"""Chain of custody: hand-offs of a cord blood unit or a batch between two named people."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.models import Batch, CordBloodUnit, CustodyEvent
from carnk_mfg.audit import gmp_write
from carnk_mfg.fields import field_errors
from carnk_mfg.roles import require_permission
from carnk_mfg.timeutil import check_happened

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def custody_record(
    *,
    actor: User,
    released_by: str,
    received_by: str,
    from_location: str,
    to_location: str,
    occurred_at: datetime,
    unit: CordBloodUnit | None = None,
    batch: Batch | None = None,
    temperature_c: Decimal | None = None,
    notes: str = "",
) -> CustodyEvent:
    """A hand-off between two named people (usernames), with where, when and temperature."""
    require_permission(actor, "batches.record_custody")
    user_model = get_user_model()
    errors: dict[str, str | list[str]] = {}
    parties: dict[str, User] = {}
    for key, username in (("released_by", released_by), ("received_by", received_by)):
        user = user_model.objects.filter(username=username, is_active=True).first()
        if user is None:
            errors[key] = f"No active user {username!r}."
        else:
            parties[key] = user
    if (unit is None) == (batch is None):
        errors["subject"] = "A custody event concerns either the unit or the batch."
    earliest: tuple[datetime, str] | None
    if batch is not None:
        earliest = (batch.created_at, f"batch {batch.lot_number} was planned")
    else:
        earliest = (unit.collected_at, "the cord blood unit was collected") if unit else None
    check_happened(errors, "occurred_at", occurred_at, what="A hand-off", not_before=earliest)
    errors.update(field_errors(CustodyEvent, {"temperature_c": temperature_c}))
    if not from_location.strip():
        errors["from_location"] = "Required."
    if not to_location.strip():
        errors["to_location"] = "Required."
    if errors:
        raise ValidationError(errors)
    subject = unit or batch
    with gmp_write(
        actor=actor,
        permission="batches.record_custody",
        reason=f"Custody of {subject}: {from_location} → {to_location}",
    ):
        return CustodyEvent.objects.create(
            unit=unit,
            batch=batch,
            released_by=parties["released_by"],
            received_by=parties["received_by"],
            from_location=from_location.strip(),
            to_location=to_location.strip(),
            occurred_at=occurred_at,
            temperature_c=temperature_c,
            notes=notes,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
