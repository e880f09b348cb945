"""What work is due on a batch: the next template step and whether it is due or late by its
planned day after day 0, and the culture day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from batches.models import Batch, BatchState, TemplateStep

S = BatchState
# States in which the next step is still to be done (on hold: once QA has dispositioned).
WORKING_STATES = (S.PLANNED, S.IN_PROCESS, S.ON_HOLD)


def next_step_of(batch: Batch) -> TemplateStep | None:
    """The first template step not yet recorded, from the batch's prefetched steps (the
    same answer as `selectors.next_template_step`, without a query per batch)."""
    done = {step.template_step_id for step in batch.steps.all()}
    return next((s for s in batch.template.steps.all() if s.pk not in done), None)


def due_work(batch: Batch, now: datetime) -> dict[str, Any]:
    """The next step and whether it is due or late by its planned day after day 0."""
    step = next_step_of(batch)
    work: dict[str, Any] = {"step": step, "status": "", "text": "", "due_at": None, "late_at": None}
    if batch.state not in WORKING_STATES:
        work["text"] = "—"
        return work
    if step is None:
        work.update(status="done", text="All steps recorded")
        return work
    if batch.state == S.PLANNED:
        work.update(status="planned", text="Not started")
        return work
    if batch.day0_at is None:
        # Day 0 is the thaw itself: the first step is due as soon as manufacturing starts.
        work.update(status="due", text="Due now (day 0)")
    else:
        work.update(_timed(step, batch.day0_at, now))
    if batch.state == S.ON_HOLD:
        work["text"] += " · on hold until QA dispositions the deviation"
    return work


def _timed(step: TemplateStep, day0_at: datetime, now: datetime) -> dict[str, Any]:
    due_at = day0_at + timedelta(days=step.planned_day)
    late_at = due_at + timedelta(days=step.late_after_days)
    if now > late_at:
        status, text = "late", f"LATE: planned for day {step.planned_day}"
    elif now >= due_at:
        status, text = "due", f"Due now (day {step.planned_day})"
    else:
        status, text = "upcoming", f"Day {step.planned_day}"
    return {"due_at": due_at, "late_at": late_at, "status": status, "text": text}


def culture_day(batch: Batch, now: datetime) -> int | None:
    if batch.day0_at is None:
        return None
    return max((now - batch.day0_at).days, 0)
