"""Batch lifecycle: the one function that moves a batch between states (DESIGN section 4).

It locks the batch row, checks the transition table and the actor's permission, records who,
when and why in the trail, and takes an e-signature where the table says so. The database
enforces the same pairs (pgtrigger FSM on Batch.state), so a raw UPDATE cannot skip a state.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from batches.models import Batch, BatchState
from batches.models.batch import ACTIVE_STATES, DB_TRANSITIONS
from carnk_mfg.audit import gmp_write
from carnk_mfg.errors import Conflict
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import require_permission
from carnk_mfg.signatures import signature_apply, signature_authenticate


class TransitionConflict(Conflict):
    """The batch was not in the state the caller expected: someone else moved it first."""


@dataclass(frozen=True)
class Transition:
    permission: str
    signature: str | None = None  # meaning of the required e-signature, if any


S = BatchState
TRANSITIONS: dict[tuple[str, str], Transition] = {
    (S.PLANNED, S.IN_PROCESS): Transition("batches.transition_batch"),
    (S.IN_PROCESS, S.HARVESTED): Transition("batches.transition_batch", SignatureMeaning.PERFORMED),
    (S.HARVESTED, S.IN_QC): Transition("batches.transition_batch"),
    (S.IN_QC, S.RELEASED): Transition("batches.release_batch", SignatureMeaning.RELEASED),
    (S.IN_QC, S.REJECTED): Transition("batches.release_batch", SignatureMeaning.REJECTED),
    **{(s, S.ON_HOLD): Transition("batches.open_deviation") for s in ACTIVE_STATES},
    **{(S.ON_HOLD, s): Transition("batches.disposition_deviation") for s in ACTIVE_STATES},
    **{
        (s, S.TERMINATED): Transition("batches.release_batch", SignatureMeaning.REJECTED)
        for s in [*ACTIVE_STATES, S.ON_HOLD]
    },
}
assert set(TRANSITIONS) == set(DB_TRANSITIONS), "service and database transition tables differ"


def allowed_next_states(batch: Batch) -> list[str]:
    return [to for (frm, to) in TRANSITIONS if frm == batch.state]


def lock_batch(batch: Batch) -> Batch:
    """Lock the batch row for the rest of the transaction (no_key: children may still insert)."""
    return Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)


def batch_transition(
    *,
    actor,
    batch: Batch,
    to_state: str,
    reason: str,
    expected_state: str | None = None,
    password: str = "",
    request: HttpRequest | None = None,
) -> Batch:
    """Move `batch` to `to_state`. `expected_state` (default: the state the caller saw)
    makes two concurrent requests serialize: the second finds the batch moved and gets a
    TransitionConflict, which the API answers with 409."""
    expected_state = expected_state or batch.state
    step = TRANSITIONS.get((expected_state, to_state))
    if to_state not in BatchState.values:
        raise ValidationError({"to_state": f"Unknown state {to_state!r}."})
    if step is None:
        raise ValidationError(
            {"to_state": f"A batch cannot go from {expected_state} to {to_state}."}
        )
    require_permission(actor, step.permission)
    if to_state == S.ON_HOLD or (expected_state == S.ON_HOLD and to_state != S.TERMINATED):
        raise ValidationError(
            {"to_state": "A hold starts with a deviation and ends with its QA disposition."}
        )
    label = f"Batch {batch.lot_number}: {expected_state} → {to_state}"
    if step.signature:
        signature_authenticate(
            signer=actor,
            password=password,
            meaning=step.signature,
            record_label=label,
            request=request,
        )
    with gmp_write(actor=actor, permission=step.permission, reason=reason):
        locked = lock_batch(batch)
        if locked.state != expected_state:
            raise TransitionConflict(
                f"Batch {locked.lot_number} is now {locked.get_state_display().lower()}, "
                f"not {BatchState(expected_state).label.lower()}: someone else changed it first."
            )
        _check_gates(locked, to_state, actor)
        move_locked_batch(locked, to_state)
        if step.signature:
            signature_apply(
                signer=actor,
                meaning=step.signature,
                record=locked,
                record_label=label,
                comment=reason,
            )
    batch.refresh_from_db()
    return batch


def move_locked_batch(locked: Batch, to_state: str) -> None:
    """Set the new state on a batch already locked in this transaction. Callers are this
    module and the deviation services (hold on open, resume on QA disposition)."""
    if (locked.state, to_state) not in TRANSITIONS:
        raise ValidationError({"to_state": f"A batch cannot go from {locked.state} to {to_state}."})
    locked.held_from_state = locked.state if to_state == S.ON_HOLD else ""
    locked.state = to_state
    locked.state_changed_at = timezone.now()
    locked.save(update_fields=["state", "held_from_state", "state_changed_at"])


def _check_release(batch: Batch, actor) -> None:
    """Release needs every release-required QC test reviewed and in spec (the newest test of
    each, so a passing retest counts), or still open where the spec allows release pending;
    and a releaser who performed no manufacturing step of this batch (four eyes)."""
    from qc.models import QcTest, TestState

    if batch.steps.filter(performed_by=actor).exists():
        raise ValidationError(
            {
                "to_state": "You performed manufacturing steps of this batch; another QA "
                "reviewer must release it."
            }
        )
    newest = {}
    for test in (
        QcTest.objects.filter(batch=batch, definition__required_for_release=True)
        .select_related("definition")
        .order_by("definition_id", "triggered_at", "id")
    ):
        newest[test.definition_id] = test
    if not newest:
        raise ValidationError({"to_state": "The batch has no release QC tests yet."})
    problems = []
    for test in newest.values():
        name = test.definition.name
        if test.state == TestState.REVIEWED and test.in_spec:
            continue
        pending_allowed = test.definition.may_release_pending
        if test.state in (TestState.PLANNED, TestState.SAMPLED) and pending_allowed:
            continue
        if test.state == TestState.REVIEWED and test.in_spec is False:
            problems.append(f"{name} is out of specification")
        else:
            problems.append(f"{name} is {test.get_state_display().lower()}")
    if problems:
        raise ValidationError({"to_state": "Not releasable: " + "; ".join(problems) + "."})


def _check_gates(batch: Batch, to_state: str, actor=None) -> None:
    """What must be true of the batch record before each state (beyond the table)."""
    from batches.selectors import next_template_step

    if to_state == S.HARVESTED:
        missing = next_template_step(batch)
        if missing is not None:
            raise ValidationError(
                {"to_state": f"Step {missing.order} ({missing.name}) is not recorded yet."}
            )
    if (
        to_state not in (S.TERMINATED, S.ON_HOLD, S.REJECTED)
        and batch.deviations.filter(state="open").exists()
    ):
        raise ValidationError({"to_state": "The batch has an open deviation awaiting QA."})
    if to_state == S.RELEASED:
        _check_release(batch, actor)
