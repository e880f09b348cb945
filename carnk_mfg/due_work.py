"""Due work: finding what has gone overdue and flagging it once, in the manner of
healthchecks' `sendalerts`. QC tests and follow-up visits are scanned this one way.

Each row stores when it is due (`due_at`) and, per question a scan asks of it, a flag field
that stays empty until the row is flagged. A question selects the rows it concerns whose flag
is still unset, soonest due first: the shape a partial index on `due_at` serves, so rows
already flagged or closed cost the scan nothing. The scan claims a batch of them with
`SELECT ... FOR UPDATE SKIP LOCKED` and a conditional UPDATE of the flag, so scans running at
once on several workers never flag a row twice; then, in the same audited transaction, it
hands the rows it claimed to the caller's `announce`, which writes their notices to an outbox
(sent later, each once, by whoever owns the outbox).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from django.db import transaction
from django.db.models import Model, Q, QuerySet

from carnk_mfg.audit import audited

CLAIM_LIMIT = 5000  # per question per scan; a backlog drains over the next minutes

M = TypeVar("M", bound=Model)


def unflagged(rows: QuerySet[M], *, flag_field: str, selects: Q) -> QuerySet[M]:
    """The rows a question selects (`selects`, which says "still open") whose flag is still
    unset, soonest due first."""
    return rows.filter(selects, **{f"{flag_field}__isnull": True}).order_by("due_at")


def claim(
    candidates: QuerySet[M],
    *,
    flag_field: str,
    now: datetime,
    related: Sequence[str] = (),
    limit: int = CLAIM_LIMIT,
) -> list[M]:
    """Inside a transaction: lock and flag up to `limit` of `candidates` (from `unflagged`).
    Another scan skips the locked rows, and the UPDATE re-checks the flag, so each row is
    claimed by exactly one scan. Returns the rows claimed, with `related` joined."""
    ids = list(
        candidates.select_for_update(skip_locked=True, of=("self",)).values_list("id", flat=True)[
            :limit
        ]
    )
    if not ids:
        return []
    # The model's default manager: for the rows scanned (QC tests, follow-up visits) it is
    # their one manager, `objects`.
    manager = candidates.model._default_manager
    manager.filter(id__in=ids, **{f"{flag_field}__isnull": True}).update(**{flag_field: now})
    return list(manager.filter(id__in=ids).select_related(*related))


def flag_once(
    candidates: QuerySet[M],
    *,
    flag_field: str,
    now: datetime,
    announce: Callable[[list[M]], object],
    reason: str,
    related: Sequence[str] = (),
) -> list[M]:
    """One question of a scan, in its own audited transaction (the trail names `reason`, and
    no person): claim the rows, then `announce(rows)` writes their notices, so a flag is never
    set without its notice nor a notice written for a row another scan flagged."""
    with transaction.atomic(), audited(actor=None, reason=reason):
        rows = claim(candidates, flag_field=flag_field, now=now, related=related)
        if rows:
            announce(rows)
    return rows
