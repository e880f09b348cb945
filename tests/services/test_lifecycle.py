"""The batch lifecycle: the transition table, its gates, and the one writer of a batch's
state (batches/services/lifecycle.py), called directly."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from batches.models import Batch
from batches.services import batch_record, lifecycle
from carnk_mfg.errors import Conflict
from carnk_mfg.signatures import signatures_for
from tests.factories import PASSWORD
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


def open_deviation(batch, actor):
    return batch_record.deviation_open(
        actor=actor, batch=batch, kind="other", what="Spill", why="Dropped", impact="None"
    )


# --- the table ---


@pytest.mark.parametrize(
    "state, allowed",
    [
        ("planned", {"in_process", "terminated"}),
        ("in_process", {"harvested", "terminated"}),
        ("harvested", {"in_qc", "terminated"}),
        ("in_qc", {"terminated"}),
        ("on_hold", {"terminated"}),
        ("released", set()),
        ("terminated", set()),
    ],
)
def test_allowed_next_states_never_offers_release(state, allowed):
    assert set(lifecycle.allowed_next_states(Batch(state=state))) == allowed


@pytest.mark.parametrize(
    "to_state, from_state, says",
    [
        ("in_process", "planned", ""),
        ("terminated", "on_hold", ""),
        ("shipped", "planned", "Unknown state 'shipped'"),
        ("released", "in_qc", "release queue"),
        ("rejected", "in_qc", "release queue"),
        ("released", "planned", "release queue"),
        ("recalled", "released", "signed recall"),
        ("on_hold", "in_process", "starts with a deviation"),
        ("in_process", "on_hold", "ends with its QA disposition"),
        ("in_qc", "planned", "cannot go from planned to in_qc"),
    ],
)
def test_refusal_for(to_state, from_state, says):
    refusal = lifecycle.refusal_for(to_state, from_state)
    assert (says in refusal) if says else refusal == ""


# --- the writer ---


def test_lock_batch_returns_the_row_as_it_stands(planned_batch):
    Batch.objects.filter(pk=planned_batch.pk).update(lot_number="CNK-MOVED")
    with transaction.atomic():
        locked = lifecycle.lock_batch(planned_batch)
    assert (locked.pk, locked.lot_number) == (planned_batch.pk, "CNK-MOVED")
    assert planned_batch.lot_number != "CNK-MOVED"


def test_move_locked_batch_sets_state_and_time_and_remembers_a_hold(planned_batch):
    before = planned_batch.state_changed_at
    with transaction.atomic():
        lifecycle.move_locked_batch(lifecycle.lock_batch(planned_batch), "on_hold")
    planned_batch.refresh_from_db()
    assert (planned_batch.state, planned_batch.held_from_state) == ("on_hold", "planned")
    assert planned_batch.state_changed_at > before
    with transaction.atomic():
        lifecycle.move_locked_batch(lifecycle.lock_batch(planned_batch), "planned")
    planned_batch.refresh_from_db()
    assert (planned_batch.state, planned_batch.held_from_state) == ("planned", "")


def test_move_locked_batch_refuses_a_pair_the_database_does_not_allow(planned_batch):
    with unchanged(planned_batch), pytest.raises(ValidationError, match="cannot go from"):
        lifecycle.move_locked_batch(planned_batch, "harvested")


def test_check_gates_passes_a_batch_ready_to_move(steps_done_batch):
    lifecycle.check_gates(steps_done_batch, "harvested")  # raises nothing


def test_check_gates_wants_every_step_before_harvest(running_batch, record_steps):
    record_steps(running_batch, ["thaw_isolation", "stimulation"])
    with pytest.raises(ValidationError, match=r"step 3 \(.*\) is not recorded yet"):
        lifecycle.check_gates(running_batch, "harvested")


def test_check_gates_holds_every_move_but_termination_on_an_open_deviation(
    running_batch, technician
):
    open_deviation(running_batch, technician)
    running_batch.refresh_from_db()
    with pytest.raises(ValidationError, match="open deviation"):
        lifecycle.check_gates(running_batch, "in_process")
    lifecycle.check_gates(running_batch, "terminated")  # raises nothing


# --- transitions people ask for ---


def test_transition_starts_a_batch_trailed_with_the_reason(planned_batch, technician):
    moved = lifecycle.batch_transition(
        actor=technician, batch=planned_batch, to_state="in_process", reason="Thaw today"
    )
    assert moved.state == "in_process"
    assert Batch.objects.get(pk=planned_batch.pk).state == "in_process"
    assert not signatures_for(planned_batch).exists()
    assert_trailed(planned_batch, actor=technician, reason="Thaw today", label="update")


def test_transition_to_harvested_is_signed_over_the_steps(steps_done_batch, technician):
    lifecycle.batch_transition(
        actor=technician,
        batch=steps_done_batch,
        to_state="harvested",
        reason="Harvest done",
        password=PASSWORD,
    )
    steps_done_batch.refresh_from_db()
    assert steps_done_batch.state == "harvested"
    (signature,) = signatures_for(steps_done_batch)
    assert (signature.meaning, signature.attests) == ("performed", "manufacturing_steps")
    assert_trailed(steps_done_batch, actor=technician, reason="Harvest done")


def test_termination_is_qas_signed_rejection(planned_batch, qa):
    lifecycle.batch_transition(
        actor=qa,
        batch=planned_batch,
        to_state="terminated",
        reason="Unit bag leaked",
        password=PASSWORD,
    )
    planned_batch.refresh_from_db()
    assert planned_batch.state == "terminated"
    (signature,) = signatures_for(planned_batch)
    assert (signature.meaning, signature.attests) == ("rejected", "batch_record")


@pytest.mark.parametrize("to_state", ["released", "harvested", "bogus"])
def test_transition_refuses_a_move_not_in_its_table(planned_batch, technician, to_state):
    with unchanged(planned_batch), pytest.raises(ValidationError) as exc:
        lifecycle.batch_transition(
            actor=technician, batch=planned_batch, to_state=to_state, reason="r"
        )
    assert "to_state" in exc.value.message_dict


def test_transition_refuses_a_batch_moved_meanwhile(planned_batch, technician):
    Batch.objects.filter(pk=planned_batch.pk).update(state="in_process")
    stale = planned_batch  # still says planned
    current = Batch.objects.get(pk=planned_batch.pk)
    with unchanged(current), pytest.raises(Conflict, match="someone else changed it first"):
        lifecycle.batch_transition(actor=technician, batch=stale, to_state="in_process", reason="r")


def test_transition_refuses_a_gate_not_met(running_batch, technician):
    with unchanged(running_batch), pytest.raises(ValidationError, match="not recorded yet"):
        lifecycle.batch_transition(
            actor=technician,
            batch=running_batch,
            to_state="harvested",
            reason="r",
            password=PASSWORD,
        )


@pytest.mark.parametrize("role", ["qc_analyst", "clinical", "admin"])
def test_transition_needs_the_permission(users_by_role, planned_batch, role):
    with unchanged(planned_batch), pytest.raises(PermissionDenied):
        lifecycle.batch_transition(
            actor=users_by_role[role], batch=planned_batch, to_state="in_process", reason="r"
        )


def test_termination_is_not_the_technicians(planned_batch, technician):
    with unchanged(planned_batch), pytest.raises(PermissionDenied):
        lifecycle.batch_transition(
            actor=technician,
            batch=planned_batch,
            to_state="terminated",
            reason="r",
            password=PASSWORD,
        )


def test_signed_transition_refuses_a_wrong_password(steps_done_batch, technician):
    with unchanged(steps_done_batch, signing_failures=1), pytest.raises(ValidationError) as exc:
        lifecycle.batch_transition(
            actor=technician,
            batch=steps_done_batch,
            to_state="harvested",
            reason="r",
            password="wrong",
        )
    assert "password" in exc.value.message_dict


# --- which moves need a reason ---


def test_routine_forward_moves_are_the_three_steps_along_the_process():
    assert lifecycle.routine_forward_moves() == [
        ("planned", "in_process"),
        ("in_process", "harvested"),
        ("harvested", "in_qc"),
    ]
    assert not lifecycle.reason_required("planned", "in_process")
    assert lifecycle.reason_required("in_process", "terminated")
    assert lifecycle.reason_required("in_process", "on_hold")  # a hold is never routine
    assert lifecycle.routine_forward_move("harvested") == "in_qc"
    assert lifecycle.routine_forward_move("in_qc") is None


def test_a_routine_forward_move_needs_no_reason_and_is_trailed_as_routine(
    planned_batch, technician
):
    lifecycle.batch_transition(actor=technician, batch=planned_batch, to_state="in_process")
    assert Batch.objects.get(pk=planned_batch.pk).state == "in_process"
    assert_trailed(
        planned_batch, actor=technician, reason=lifecycle.ROUTINE_FORWARD_REASON, label="update"
    )


def test_a_signed_forward_move_without_a_reason_is_signed_as_routine(steps_done_batch, technician):
    lifecycle.batch_transition(
        actor=technician,
        batch=steps_done_batch,
        to_state="harvested",
        reason="  ",
        password=PASSWORD,
    )
    (signature,) = signatures_for(steps_done_batch)
    assert signature.comment == lifecycle.ROUTINE_FORWARD_REASON
    assert_trailed(steps_done_batch, actor=technician, reason=lifecycle.ROUTINE_FORWARD_REASON)


def test_a_termination_without_a_reason_is_refused_on_the_reason(planned_batch, qa):
    with unchanged(planned_batch), pytest.raises(ValidationError) as refused:
        lifecycle.batch_transition(
            actor=qa, batch=planned_batch, to_state="terminated", reason="", password=PASSWORD
        )
    assert refused.value.message_dict == {"reason": [lifecycle.REASON_NEEDED]}


def test_the_blocker_the_page_shows_is_the_refusal(running_batch, technician):
    blocker = lifecycle.transition_blocker(running_batch, "harvested")
    assert blocker.startswith("Record every step first: step 1 (")
    with pytest.raises(ValidationError) as refused:
        lifecycle.batch_transition(
            actor=technician, batch=running_batch, to_state="harvested", password=PASSWORD
        )
    assert refused.value.message_dict == {"to_state": [blocker]}
    assert lifecycle.transition_blocker(running_batch, "terminated") == ""
