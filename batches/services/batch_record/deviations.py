"""Deviations of a batch: opened (the batch goes on hold) and dispositioned by QA, signed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from batches.models import (
    ACTIVE_STATES,
    TERMINABLE_STATES,
    Batch,
    BatchState,
    Deviation,
    DeviationDisposition,
    DeviationKind,
    DeviationState,
    ExecutedStep,
)
from batches.services.lifecycle import lock_batch, move_locked_batch
from carnk_mfg.audit import gmp_write
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.signatures import signed_write

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def open_deviation_locked(
    *,
    actor: User,
    batch: Batch,
    step: ExecutedStep | None,
    kind: str,
    what: str,
    why: str,
    impact: str,
) -> Deviation:
    """Inside a transaction that holds the batch lock: record the deviation and hold the
    batch (a batch in manufacturing or QC; one already on hold stays held)."""
    deviation = Deviation.objects.create(
        batch=batch,
        step=step,
        kind=kind,
        what=what,
        why=why,
        impact=impact,
        opened_by=actor,
        opened_at=timezone.now(),
    )
    if batch.state in ACTIVE_STATES:
        move_locked_batch(batch, BatchState.ON_HOLD)
    return deviation


def deviation_blocker(batch: Batch) -> str:
    """Why no deviation can be opened on this batch now, or "" when one can (the batch page
    shows it on the action it cannot offer)."""
    if batch.state not in TERMINABLE_STATES:
        return (
            "Deviations are opened on a batch still in manufacture or QC; "
            f"the batch is {batch.get_state_display().lower()}."
        )
    return ""


def deviation_open(
    *, actor: User, batch: Batch, kind: str, what: str, why: str, impact: str
) -> Deviation:
    if kind not in DeviationKind.values:
        raise ValidationError({"kind": f"Unknown deviation kind {kind!r}."})
    errors = {
        k: "Required."
        for k, v in (("what", what), ("why", why), ("impact", impact))
        if not (v or "").strip()
    }
    if errors:
        raise ValidationError(errors)
    with gmp_write(
        actor=actor, permission="batches.open_deviation", reason=f"Deviation: {what[:80]}"
    ):
        locked = lock_batch(batch)
        blocker = deviation_blocker(locked)
        if blocker:
            raise ValidationError({"batch": blocker})
        return open_deviation_locked(
            actor=actor, batch=locked, step=None, kind=kind, what=what, why=why, impact=impact
        )


def deviation_disposition(
    *,
    actor: User,
    password: str,
    deviation: Deviation,
    disposition: str,
    notes: str,
    request: HttpRequest | None = None,
) -> Deviation:
    """QA's signed disposition. Accepting the last open deviation resumes the batch where it
    was held; rejecting terminates the batch."""
    if disposition not in DeviationDisposition.values:
        raise ValidationError({"disposition": "Choose accept or reject_batch."})
    if not (notes or "").strip():
        raise ValidationError({"notes": "Give QA's rationale."})
    with signed_write(
        actor=actor,
        password=password,
        permission="batches.disposition_deviation",
        meaning=SignatureMeaning.APPROVED,
        label=f"Deviation {deviation.pk} on batch {deviation.batch.lot_number}: {disposition}",
        reason=f"Deviation {disposition}: {notes[:80]}",
        request=request,
    ) as signing:
        batch = lock_batch(deviation.batch)
        deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
        if deviation.state != DeviationState.OPEN:
            raise ValidationError({"disposition": "This deviation is already closed."})
        rejecting = disposition == DeviationDisposition.REJECT_BATCH
        if rejecting and batch.state not in TERMINABLE_STATES:
            raise ValidationError(
                {
                    "disposition": f"The batch is {batch.get_state_display().lower()} and "
                    "cannot be terminated; accept to close the deviation."
                }
            )
        deviation.state = DeviationState.CLOSED
        deviation.disposition = disposition
        deviation.disposition_notes = notes
        deviation.dispositioned_by = actor
        deviation.dispositioned_at = timezone.now()
        deviation.save()
        signing.sign(deviation, comment=notes)
        if rejecting:
            move_locked_batch(batch, BatchState.TERMINATED)
        elif (
            batch.state == BatchState.ON_HOLD
            and not batch.deviations.filter(state=DeviationState.OPEN).exists()
        ):
            move_locked_batch(batch, batch.held_from_state)
    return deviation


def environmental_deviations_open(
    *, actor: User, batches: list[Batch], what: str, why: str, impact: str
) -> list[Deviation]:
    """An environmental monitoring excursion: one deviation on each batch that was open in
    the room, in the caller's transaction (the excursion and its deviations commit together).
    Batches are locked in id order, so two excursions never wait on each other in a circle.
    Every batch gets its deviation whatever its state now (a released batch's record still
    needs QA's assessment); those in manufacture or QC are held until QA dispositions it."""
    with gmp_write(
        actor=actor,
        permission="batches.open_deviation",
        reason=f"Environmental excursion: {what[:80]}",
    ):
        return [
            open_deviation_locked(
                actor=actor,
                batch=lock_batch(batch),
                step=None,
                kind=DeviationKind.ENVIRONMENTAL,
                what=what,
                why=why,
                impact=impact,
            )
            for batch in sorted(batches, key=lambda b: b.pk)
        ]
