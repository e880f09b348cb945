"""The facility: registering a cleanroom, and the room a batch is made in (chosen when the
batch is planned or before its first step; the database keeps it fixed from day 0)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from batches.models import Batch, CleanroomGrade, Room
from batches.services.lifecycle import lock_batch
from carnk_mfg.audit import gmp_write, validate_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MANAGE = "batches.manage_room"


def room_create(*, actor: User, identifier: str, name: str, grade: str) -> Room:
    """QA registers a cleanroom with its Annex 1 grade."""
    if grade not in CleanroomGrade.values:
        raise ValidationError({"grade": "Choose grade A, B, C or D."})
    room = Room(
        identifier=identifier.strip(),
        name=name.strip(),
        grade=grade,
        created_by=actor,
        created_at=timezone.now(),
    )
    with gmp_write(actor=actor, permission=MANAGE, reason=f"Room {room.identifier} registered"):
        validate_record(room, exclude=["created_by"])
        try:
            room.save()
        except IntegrityError as exc:  # two registering the same room at once
            raise ValidationError({"identifier": f"Room {room.identifier} exists."}) from exc
    return room


def room_blocker(batch: Batch) -> str:
    """Why the batch's room cannot be set now, or "" when it can."""
    if batch.day0_at is not None:
        return (
            f"Batch {batch.lot_number} started on {batch.day0_at:%Y-%m-%d}; the room it is "
            "made in is part of its record from day 0."
        )
    return ""


def assign_room_locked(batch: Batch, room: Room | None) -> None:
    """Inside a transaction holding the batch lock: set the batch's room (planning it, or
    before its first step)."""
    blocker = room_blocker(batch)
    if blocker:
        raise ValidationError({"room": blocker})
    batch.room = room
    batch.save(update_fields=["room"])


def batch_room_set(*, actor: User, batch: Batch, room: Room) -> Batch:
    """Name the room a planned batch (no step yet) will be made in."""
    with gmp_write(
        actor=actor,
        permission="batches.add_batch",
        reason=f"Batch {batch.lot_number} to be made in {room.identifier}",
    ):
        locked = lock_batch(batch)
        assign_room_locked(locked, room)
    return locked
