"""Batch lifecycle: the one place a batch's state is set (DESIGN section 4).

`move_locked_batch` is the only writer of `Batch.state`. People ask for the routine moves
through `batch_transition`, which locks the row, checks the table and the actor's permission,
records who, when and why, and takes an e-signature where the table says so. The other moves
belong to the services that decide them: release and rejection to QA's release decision, the
recall to a failed conditional release or QA's recall, holds and their end to deviations.
The database enforces the same pairs (pgtrigger FSM) and refuses released/rejected without a
release decision, so no path around this module can do it either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from batches.models import Batch, BatchState
from batches.models.batch_record import ACTIVE_STATES, DB_TRANSITIONS, TERMINABLE_STATES
from batches.selectors import next_template_step
from carnk_mfg.audit import gmp_write
from carnk_mfg.errors import Conflict
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import require_permission
from carnk_mfg.signatures import signed_write

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class TransitionConflict(Conflict):
    """The batch was not in the state the caller expected: someone else moved it first."""


@dataclass(frozen=True)
class Transition:
    permission: str
    signature: str | None = None  # meaning of the required e-signature, if any
    attests: str = "record"
    # A routine move forward along the process: its reason is the process itself, so none is
    # asked for (the trail records ROUTINE_FORWARD_REASON). Holds, terminations and
    # corrections still need the person's own reason.
    routine_forward: bool = False


# What the trail records as the why of a routine forward move given without a reason.
ROUTINE_FORWARD_REASON = "Routine forward transition"
REASON_NEEDED = "Give the reason for this change."


S = BatchState
# The moves anyone with the permission may ask for through `batch_transition`.
TRANSITIONS: dict[tuple[str, str], Transition] = {
    (S.PLANNED, S.IN_PROCESS): Transition("batches.transition_batch", routine_forward=True),
    (S.IN_PROCESS, S.HARVESTED): Transition(
        "batches.transition_batch",
        SignatureMeaning.PERFORMED,
        attests="manufacturing_steps",
        routine_forward=True,
    ),
    (S.HARVESTED, S.IN_QC): Transition("batches.transition_batch", routine_forward=True),
    **{
        (s, S.TERMINATED): Transition(
            "batches.release_batch", SignatureMeaning.REJECTED, attests="batch_record"
        )
        for s in TERMINABLE_STATES
    },
}


def transition_permissions() -> set[str]:
    """Every permission some move of `batch_transition` needs: without any, a caller may
    ask for none."""
    return {t.permission for t in TRANSITIONS.values()}


# The moves only their own service makes, and where a person goes to make them.
RELEASE_QUEUE = (
    "A batch is released or rejected only by QA's release decision, after the batch record "
    "review: use the release queue (/release/), or POST /api/v1/batches/{lot}/release/."
)
DECIDED_ELSEWHERE: dict[tuple[str, str], str] = {
    (S.IN_QC, S.RELEASED): RELEASE_QUEUE,
    (S.IN_QC, S.REJECTED): RELEASE_QUEUE,
    (S.RELEASED, S.RECALLED): (
        "A batch is recalled by QA's signed recall (POST /api/v1/batches/{lot}/recall/), or "
        "at once by a result out of specification after a conditional release."
    ),
    **{
        (s, S.ON_HOLD): "A hold starts with a deviation and ends with its QA disposition."
        for s in ACTIVE_STATES
    },
    **{
        (S.ON_HOLD, s): "A hold starts with a deviation and ends with its QA disposition."
        for s in ACTIVE_STATES
    },
}
assert set(TRANSITIONS) | set(DECIDED_ELSEWHERE) == set(DB_TRANSITIONS), (
    "service and database transition tables differ"
)
assert not set(TRANSITIONS) & set(DECIDED_ELSEWHERE)


def allowed_next_states(batch: Batch) -> list[str]:
    """The states a person may ask for from here (release and rejection are not among them)."""
    return [to for (frm, to) in TRANSITIONS if frm == batch.state]


def lock_batch(batch: Batch) -> Batch:
    """Lock the batch row for the rest of the transaction (no_key: children may still insert)."""
    return Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)


def reason_required(from_state: str, to_state: str) -> bool:
    """Whether asking for this move needs a reason: every move but a routine forward one (a
    move there is not refuses for its own reasons, see `refusal_for`)."""
    move = TRANSITIONS.get((from_state, to_state))
    return move is None or not move.routine_forward


def routine_forward_moves() -> list[tuple[str, str]]:
    """The (from, to) moves that go forward along the process and need no reason."""
    return [pair for pair, move in TRANSITIONS.items() if move.routine_forward]


def routine_forward_move(from_state: str) -> str | None:
    """The state a routine forward move takes a batch to from `from_state`, if there is one."""
    return next((to for frm, to in routine_forward_moves() if frm == from_state), None)


def refusal_for(to_state: str, from_state: str) -> str:
    """Why `batch_transition` will not make this move, or "" when it is one it makes."""
    if to_state not in BatchState.values:
        return f"Unknown state {to_state!r}."
    if (from_state, to_state) in TRANSITIONS:
        return ""
    elsewhere = DECIDED_ELSEWHERE.get((from_state, to_state))
    if elsewhere:
        return elsewhere
    if to_state in (S.RELEASED, S.REJECTED):
        return RELEASE_QUEUE
    return f"A batch cannot go from {from_state} to {to_state}."


def batch_transition(
    *,
    actor: User,
    batch: Batch,
    to_state: str,
    reason: str = "",
    expected_state: str | None = None,
    password: str = "",
    request: HttpRequest | None = None,
) -> Batch:
    """Move `batch` to `to_state`. `expected_state` (default: the state the caller saw)
    makes two concurrent requests serialize: the second finds the batch moved and gets a
    TransitionConflict, which the API answers with 409."""
    expected_state = expected_state or batch.state
    refusal = refusal_for(to_state, expected_state)
    if refusal:
        raise ValidationError({"to_state": refusal})
    step = TRANSITIONS[(expected_state, to_state)]
    require_permission(actor, step.permission)
    reason = (reason or "").strip()
    if not reason:
        if reason_required(expected_state, to_state):
            raise ValidationError({"reason": REASON_NEEDED})
        reason = ROUTINE_FORWARD_REASON
    label = f"Batch {batch.lot_number}: {expected_state} → {to_state}"
    if step.signature:
        with signed_write(
            actor=actor,
            password=password,
            permission=step.permission,
            meaning=step.signature,
            label=label,
            reason=reason,
            request=request,
        ) as signing:
            locked = _locked_in(batch, expected_state)
            check_gates(locked, to_state)
            move_locked_batch(locked, to_state)
            signing.sign(locked, attests=step.attests, comment=reason)
    else:
        with gmp_write(actor=actor, permission=step.permission, reason=reason):
            locked = _locked_in(batch, expected_state)
            check_gates(locked, to_state)
            move_locked_batch(locked, to_state)
    batch.refresh_from_db()
    return batch


def _locked_in(batch: Batch, expected_state: str) -> Batch:
    locked = lock_batch(batch)
    if locked.state != expected_state:
        raise TransitionConflict(
            f"Batch {locked.lot_number} is now {locked.get_state_display().lower()}, "
            f"not {BatchState(expected_state).label.lower()}: someone else changed it first."
        )
    return locked


def move_locked_batch(locked: Batch, to_state: str) -> None:
    """Set the new state of a batch already locked in this transaction: the only writer of
    `Batch.state`. Its callers are this module, the release decision and recall, and the
    deviation services (hold on open, resume on QA disposition)."""
    if (locked.state, to_state) not in DB_TRANSITIONS:
        raise ValidationError({"to_state": f"A batch cannot go from {locked.state} to {to_state}."})
    locked.held_from_state = locked.state if to_state == S.ON_HOLD else ""
    locked.state = to_state
    locked.state_changed_at = timezone.now()
    locked.save(update_fields=["state", "held_from_state", "state_changed_at"])


def transition_blocker(batch: Batch, to_state: str) -> str:
    """What in the batch record stands in the way of a move the table allows, or "" when
    nothing does. `batch_transition` refuses with it; the batch page shows it on the
    disabled button, so nobody learns it only by trying."""
    if to_state == S.HARVESTED:
        missing = next_template_step(batch)
        if missing is not None:
            return (
                f"Record every step first: step {missing.order} ({missing.name}) "
                "is not recorded yet."
            )
    if to_state != S.TERMINATED and batch.deviations.filter(state="open").exists():
        return "The batch has an open deviation awaiting QA."
    return ""


def check_gates(batch: Batch, to_state: str) -> None:
    """What must be true of the batch record before each routine move (beyond the table)."""
    blocker = transition_blocker(batch, to_state)
    if blocker:
        raise ValidationError({"to_state": blocker})
