"""Due work: finding what has gone overdue and flagging it once, in the manner of
healthchecks' `sendalerts`. QC tests and follow-up visits are scanned this one way.

Each row stores when it is due (`due_at`) and, per question a scan asks of it, a flag field
that stays empty until the row is flagged. A question selects the rows it concerns whose flag
is still unset, soonest due first: the shape a partial index on `due_at` serves, so rows
already flagged or closed cost the scan nothing. The scan claims a batch of them with one
UPDATE of the flag over the rows picked by `SELECT ... FOR UPDATE SKIP LOCKED`, so scans
running at once on several workers never flag a row twice; then, in the same audited
transaction, it hands the rows it claimed to the caller's `announce`, which writes their
notices to an outbox (sent after the commit, each once, by whoever owns the outbox).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from django.db import connection, transaction
from django.db.models import Field, Model, Q, QuerySet

from carnk_mfg.audit import audited

CLAIM_LIMIT = 5000  # per question per scan; a backlog drains over the next minutes

M = TypeVar("M", bound=Model)


def unflagged(rows: QuerySet[M], *, flag_field: str, selects: Q) -> QuerySet[M]:
    """The rows a question selects (`selects`, which says "still open") whose flag is still
    unset, soonest due first."""
    return rows.filter(selects, **{f"{flag_field}__isnull": True}).order_by("due_at")


def quoted_column(model: type[Model], field_name: str) -> str:
    """The quoted column of one of the model's fields, for the few set-based statements
    written in SQL."""
    field = model._meta.get_field(field_name)
    if not isinstance(field, Field) or not field.column:
        raise TypeError(f"{model.__name__}.{field_name} has no column")
    return connection.ops.quote_name(field.column)


def claim(
    candidates: QuerySet[M],
    *,
    flag_field: str,
    now: datetime,
    limit: int = CLAIM_LIMIT,
) -> list[int]:
    """Lock and flag up to `limit` of `candidates` (from `unflagged`) in one statement: the
    rows are picked with `FOR UPDATE SKIP LOCKED`, so another scan skips them, and the UPDATE
    re-checks the flag, so each row is claimed by exactly one scan. Returns the ids claimed.

    One set-based UPDATE ... RETURNING, whatever the number of rows: the trail's row triggers
    still write one event per flagged row, with the context of the enclosing `audited` block
    (pghistory sets it ahead of the UPDATE)."""
    model = candidates.model
    picked = candidates.select_for_update(skip_locked=True, of=("self",)).values("id")[:limit]
    picked_sql, picked_params = picked.query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    pk = quoted_column(model, model._meta.pk.name)
    column = quoted_column(model, flag_field)
    with connection.cursor() as cursor:
        # The pick is a CTE, evaluated once: as a subquery of `IN`, PostgreSQL may run it
        # again per row, and each rerun skips the rows just locked, so more than `limit` rows
        # would be flagged.
        cursor.execute(
            f"WITH picked AS MATERIALIZED ({picked_sql}) "  # noqa: S608 - names from the model's meta
            f"UPDATE {table} SET {column} = %s FROM picked "
            f"WHERE {table}.{pk} = picked.id AND {table}.{column} IS NULL "
            f"RETURNING {table}.{pk}",
            [*picked_params, now],
        )
        return [row[0] for row in cursor.fetchall()]


def flag_ids_once(
    candidates: QuerySet[M],
    *,
    flag_field: str,
    now: datetime,
    announce: Callable[[list[int]], object],
    reason: str,
) -> list[int]:
    """One question of a scan, in its own audited transaction (the trail names `reason`, and
    no person): claim the rows, then `announce(ids)` writes their notices, so a flag is never
    set without its notice nor a notice written for a row another scan flagged. Nothing is
    sent here: the caller sends from the outbox after the transaction commits."""
    with transaction.atomic(), audited(actor=None, reason=reason):
        ids = claim(candidates, flag_field=flag_field, now=now)
        if ids:
            announce(ids)
    return ids


def flag_once(
    candidates: QuerySet[M],
    *,
    flag_field: str,
    now: datetime,
    announce: Callable[[list[M]], object],
    reason: str,
    related: Sequence[str] = (),
) -> list[int]:
    """`flag_ids_once`, announcing the claimed rows as instances with `related` joined (for
    the few rows of a scan whose notices are built from the records themselves)."""
    manager = candidates.model._default_manager

    def announce_rows(ids: list[int]) -> object:
        return announce(list(manager.filter(id__in=ids).select_related(*related)))

    return flag_ids_once(
        candidates, flag_field=flag_field, now=now, announce=announce_rows, reason=reason
    )
