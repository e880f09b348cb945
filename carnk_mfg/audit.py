"""The audit trail's "who" and "why" (21 CFR 11.10(e)).

django-pghistory triggers record every insert, update and delete of a tracked table, whatever
path made it. What the triggers cannot know, the acting person or instrument and the reason,
is attached here as pghistory context; services open `audited(...)` around each write.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pghistory
import pghistory.config
import pghistory.models
from django.core.exceptions import ValidationError
from django.db import transaction

from carnk_mfg.roles import require_permission

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import Model, QuerySet
    from django.http import HttpRequest, HttpResponse


def actor_label(actor: User | AnonymousUser | None) -> dict[str, Any]:
    """The trail's view of an actor: a user, or an instrument acting through its key."""
    if actor is None or not actor.is_authenticated:
        return {"actor_kind": "system", "actor": None, "actor_name": "system"}
    if getattr(actor, "is_instrument", False):
        instrument = actor.instrument
        return {
            "actor_kind": "instrument",
            "actor": actor.pk,
            "actor_name": f"instrument {instrument.serial_number}",
            "instrument": instrument.pk,
        }
    return {
        "actor_kind": "user",
        "actor": actor.pk,
        "actor_name": actor.get_username(),
        "user": actor.pk,
    }


@contextlib.contextmanager
def audited(*, actor: User | AnonymousUser | None, reason: str, **extra: Any) -> Iterator[None]:
    """Attach who and why to every trail row written inside the block.

    Blocks nest (accepting an import submits its readings): pghistory keeps one context per
    outermost block and merges inner metadata into it for good, so the outer block's who and
    why are put back when an inner block ends; otherwise the rows written after it would
    carry the inner reason.
    """
    with pghistory.context() as context:
        outer = dict(context.metadata)
        context.metadata.update(**actor_label(actor), reason=reason, **extra)
        try:
            yield
        finally:
            context.metadata.clear()
            context.metadata.update(outer)


def trail_context_statement() -> tuple[str, list[str]]:
    """The statement (SQL, parameters) that hands the open block's who and why to the database
    for the rest of the transaction. pghistory attaches them only ahead of the statements
    that pass through Django's cursor and are not SELECTs; the trail's own writer functions
    (called with a SELECT) and COPY on psycopg's own cursor send this first."""
    with pghistory.context() as context:
        return (
            "SELECT set_config('pghistory.context_id', %s, true),"
            " set_config('pghistory.context_metadata', %s, true)",
            [str(context.id), json.dumps(context.metadata, cls=pghistory.config.json_encoder())],
        )


def trail_context_for_copy(cursor: Any) -> None:
    """Ahead of a COPY in the same transaction: the rows it writes are trailed with the open
    block's who and why."""
    cursor.execute(*trail_context_statement())


class AuditContextMiddleware:
    """Tag every write made while serving a request with its URL and signed-in user.

    A service's `audited(...)` adds the actor and reason on top (inner context wins); this
    catches writes no service makes, such as Django admin saves of user accounts.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        with pghistory.context(
            url=request.path, method=request.method, **actor_label(request.user)
        ):
            return self.get_response(request)


@contextlib.contextmanager
def gmp_write(
    *, actor: User | AnonymousUser | None, permission: str, reason: str, **extra: Any
) -> Iterator[None]:
    """The frame of every GMP write: permission, a reason, one transaction, who and why.

    Services open it around their changes (in the manner of Zulip's `do_*` actions), so the
    permission check and the trail's context cannot be forgotten on any entry path.
    """
    require_permission(actor, permission)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Give the reason for this change."})
    with transaction.atomic(), audited(actor=actor, reason=reason.strip(), **extra):
        yield


def validate_record(record: Model, *, exclude: Iterable[str] | None = None) -> None:
    """Run the model's field and constraint validation; raise one ValidationError per field."""
    record.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)


def audit_history(record: Model) -> QuerySet[pghistory.models.Events]:
    """Every trail event of one record, oldest first, with who, why and the changed values."""
    events: QuerySet[pghistory.models.Events] = pghistory.models.Events.objects.tracks(record)
    # The writes of one transaction share a time; the event table and id keep pages stable.
    return events.order_by("pgh_created_at", "pgh_model", "pgh_id")


def references_trail(record: Model) -> QuerySet[pghistory.models.Events]:
    """The record's own trail events and those of every record that points at it (a batch's
    steps, counts, deviations, custody and QC tests; a recipient's weights), oldest first."""
    events: QuerySet[pghistory.models.Events] = pghistory.models.Events.objects.references(record)
    return events.order_by("pgh_created_at")
