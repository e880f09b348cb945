"""Reads of the facility: rooms, and the one answer to "which batches were open in room R
between t1 and t2?" (`batches_open_in_room`), which environmental monitoring asks.

A batch is open in its room from day 0 (its first executed step, when the cells are thawed
and the work in the cabinet begins) until manufacturing ended. Steps are recorded only while
a batch is in process, so manufacturing is over once the batch has left that state for good
(harvested, terminated, or on from there): it ended at its last executed step (the harvest).
A batch in process, or on hold from in process, is open still. A batch never started (no
day 0) was never open."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.fields import DateTimeField

from batches.models import Batch, BatchState, ExecutedStep, Room

# Cells are in culture in the room: in process, or held from in process.
IN_MANUFACTURE = Q(state=BatchState.IN_PROCESS) | Q(
    state=BatchState.ON_HOLD, held_from_state=BatchState.IN_PROCESS
)


def rooms() -> QuerySet[Room]:
    return Room.objects.order_by("identifier")


def manufacturing_windows() -> QuerySet[Batch]:
    """Started batches, each annotated with `open_from` and `open_until` (null: open now)."""
    last_step = (
        ExecutedStep.objects.filter(batch=OuterRef("pk"))
        .order_by("-performed_at")
        .values("performed_at")[:1]
    )
    return Batch.objects.filter(day0_at__isnull=False).annotate(
        open_from=F("day0_at"),
        open_until=Case(
            When(IN_MANUFACTURE, then=Value(None, output_field=DateTimeField())),
            default=Subquery(last_step, output_field=DateTimeField()),
        ),
    )


def batches_open_in_room(room: Room, *, start: datetime, end: datetime) -> QuerySet[Batch]:
    """The batches open in `room` at any moment from `start` to `end` (both included), in id
    order (the order their rows are locked in)."""
    return (
        manufacturing_windows()
        .filter(Q(room=room, open_from__lte=end))
        .filter(Q(open_until__isnull=True) | Q(open_until__gte=start))
        .order_by("pk")
    )
