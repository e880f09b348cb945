"""Deviations of a batch: opened (the batch goes on hold), classified with their root cause,
and dispositioned (closed) by QA, signed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from batches.models import (
    ACTIVE_STATES,
    CAPA_REQUIRED,
    TERMINABLE_STATES,
    Batch,
    BatchState,
    Deviation,
    DeviationClassification,
    DeviationDisposition,
    DeviationKind,
    DeviationState,
    ExecutedStep,
)
from batches.services.lifecycle import lock_batch, move_locked_batch
from carnk_mfg.audit import gmp_write, validate_record
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


def deviation_close_blocker(deviation: Deviation) -> dict[str, str]:
    """Why `deviation` cannot be closed as it stands, per field, or {} when it can: it is
    classified, its root cause recorded, and a major or critical one (`CAPA_REQUIRED`) has at
    least one CAPA. The database's trigger on deviations holds the same."""
    errors = {}
    if not deviation.classification:
        errors["classification"] = (
            "Classify the deviation (minor, major or critical) before closing it."
        )
    if not (deviation.root_cause or "").strip():
        errors["root_cause"] = "Record the root cause before closing the deviation."
    if (
        deviation.classification in CAPA_REQUIRED
        and deviation.pk is not None
        and not deviation.capa_links.exists()
    ):
        errors["capa"] = (
            f"A {deviation.get_classification_display().lower()} deviation is closed only "
            "with at least one CAPA: raise one first."
        )
    return errors


def _classify(deviation: Deviation, *, actor: User, classification: str, root_cause: str) -> None:
    """Set what is given of the classification and root cause on a locked deviation."""
    if classification and classification not in DeviationClassification.values:
        raise ValidationError({"classification": "Choose minor, major or critical."})
    changed = False
    if classification:
        deviation.classification, changed = classification, True
    if (root_cause or "").strip():
        deviation.root_cause, changed = root_cause.strip(), True
    if changed:
        deviation.classified_by, deviation.classified_at = actor, timezone.now()
        validate_record(
            deviation, exclude=["batch", "step", "opened_by", "dispositioned_by", "classified_by"]
        )


def deviation_classify(
    *, actor: User, deviation: Deviation, classification: str, root_cause: str = ""
) -> Deviation:
    """QA classifies an open deviation (minor, major, critical) and records its root cause
    as far as it is known, before closing it (a CAPA may be raised on it meanwhile)."""
    if not classification:
        raise ValidationError({"classification": "Choose minor, major or critical."})
    with gmp_write(
        actor=actor,
        permission="batches.classify_deviation",
        reason=f"Deviation {deviation.pk} classified {classification}",
    ):
        deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
        if deviation.state != DeviationState.OPEN:
            raise ValidationError({"classification": "This deviation is already closed."})
        _classify(deviation, actor=actor, classification=classification, root_cause=root_cause)
        deviation.save()
    return deviation


def deviation_disposition(
    *,
    actor: User,
    password: str,
    deviation: Deviation,
    disposition: str,
    notes: str,
    classification: str = "",
    root_cause: str = "",
    request: HttpRequest | None = None,
) -> Deviation:
    """QA's signed disposition, which closes the deviation: classified, with its root cause
    (given here or before) and, when major or critical, a CAPA (`deviation_close_blocker`).
    Accepting the last open deviation resumes the batch where it was held; rejecting
    terminates the batch."""
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
        _classify(deviation, actor=actor, classification=classification, root_cause=root_cause)
        blocker = deviation_close_blocker(deviation)
        if blocker:
            raise ValidationError(blocker)
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
