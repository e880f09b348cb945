"""Which work is due on a batch: the next step, due or late by its planned day after day 0
(default template: steps 1 and 2 on day 0, late after a day; step 3 on day 4, late after two),
and the culture day."""

from datetime import timedelta

import pytest

from batches.presenters.due_work import culture_day, due_work, next_step_of

pytestmark = pytest.mark.django_db


def test_a_planned_batch_is_not_started(planned_batch, read):
    batch = read(planned_batch)
    work = due_work(batch, now=batch.created_at)
    assert work["step"].order == 1
    assert (work["status"], work["text"]) == ("planned", "Not started")
    assert culture_day(batch, batch.created_at) is None


def test_the_thaw_is_due_as_soon_as_manufacturing_starts(started_batch, read):
    batch = read(started_batch)
    work = due_work(batch, now=batch.created_at)
    assert (work["status"], work["text"]) == ("due", "Due now (day 0)")
    assert work["due_at"] is None  # no day 0 yet


def test_a_day_0_step_left_undone_is_late_the_next_day(started_batch, record_steps, read, day0):
    batch = read(record_steps(started_batch, 1))
    assert batch.day0_at == day0
    step = next_step_of(batch)
    assert step is not None and step.order == 2
    on_time = due_work(batch, now=day0 + timedelta(hours=12))
    assert (on_time["status"], on_time["text"]) == ("due", "Due now (day 0)")
    assert on_time["due_at"] == day0 and on_time["late_at"] == day0 + timedelta(days=1)
    late = due_work(batch, now=day0 + timedelta(days=1, minutes=1))
    assert (late["status"], late["text"]) == ("late", "LATE: planned for day 0")


def test_a_later_step_is_upcoming_then_due_then_late(started_batch, record_steps, read, day0):
    batch = read(record_steps(started_batch, 2))
    step = next_step_of(batch)
    assert step is not None
    assert (step.order, step.planned_day, step.late_after_days) == (3, 4, 2)
    statuses = [
        due_work(batch, now=day0 + timedelta(days=days))["status"] for days in (1, 4, 6, 6.1)
    ]
    assert statuses == ["upcoming", "due", "due", "late"]
    assert due_work(batch, now=day0 + timedelta(days=1))["text"] == "Day 4"
    assert due_work(batch, now=day0 + timedelta(days=5))["text"] == "Due now (day 4)"


def test_on_hold_says_so_and_closed_batches_have_no_work(started_batch, record_steps, read, day0):
    batch = read(record_steps(started_batch, 2))
    batch.state = "on_hold"
    assert due_work(batch, now=day0 + timedelta(days=1))["text"] == (
        "Day 4 · on hold until QA dispositions the deviation"
    )
    for state in ("harvested", "in_qc", "released", "terminated"):
        batch.state = state
        work = due_work(batch, now=day0)
        assert (work["status"], work["text"]) == ("", "—")


def test_every_step_recorded_is_done(started_batch, record_steps, read, day0):
    start = day0 - timedelta(days=18)  # the harvest (day 14) in the past too
    batch = read(record_steps(started_batch, 5, start=start))
    assert next_step_of(batch) is None
    work = due_work(batch, now=day0)
    assert (work["status"], work["text"]) == ("done", "All steps recorded")


def test_culture_day_counts_whole_days_from_day_0(started_batch, record_steps, read, day0):
    batch = read(record_steps(started_batch, 1))
    assert culture_day(batch, day0) == 0
    assert culture_day(batch, day0 + timedelta(days=3, hours=23)) == 3
    assert culture_day(batch, day0 - timedelta(hours=1)) == 0  # never negative
