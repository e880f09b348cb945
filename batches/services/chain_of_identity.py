"""Chain of Identity identifiers: one per batch and recipient, assigned when the chain begins
(a batch planned for its recipient, or a bag of a stock batch assigned to one)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.utils import timezone

from batches.models import Batch, ChainOfIdentity, Recipient
from carnk_mfg import isbt128

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def chain_of_identity_assign_locked(
    *, actor: User, batch: Batch, recipient: Recipient
) -> ChainOfIdentity:
    """The chain of `batch` and `recipient`, assigned now if it has none. Called inside the
    caller's audited write (the batch planned, the dose assigned). Two bags of one batch
    assigned to one recipient at once: the database's unique pair lets only one insert
    through (the other waits for it, inserts nothing, and reads it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('batches_chain_of_identity_sequence')")
        (number,) = cursor.fetchone()
    now = timezone.now()
    ChainOfIdentity.objects.bulk_create(
        [
            ChainOfIdentity(
                identifier=isbt128.coi_identifier(settings.ISBT_FACILITY_CODE, now.year, number),
                batch=batch,
                recipient=recipient,
                assigned_by=actor,
                assigned_at=now,
            )
        ],
        ignore_conflicts=True,
    )
    return ChainOfIdentity.objects.get(batch=batch, recipient=recipient)
