"""What work is due on a batch: the next template step and whether it is due or late by its
planned day after day 0, the culture day, and the technicians' worklists read from that one
rule (steps due, counts due, batches on hold)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from batches.models import Batch, BatchState, CellCount, ExecutedStep, TemplateStep
from batches.selectors.batch_record import batch_list

S = BatchState
# States in which the next step is still to be done (on hold: once QA has dispositioned).
WORKING_STATES = (S.PLANNED, S.IN_PROCESS, S.ON_HOLD)
# What a technician's step worklist holds: a step due now, one late, one due later today.
STEP_DUE = ("due", "late")


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
        work.update(timed(step, batch.day0_at, now))
    if batch.state == S.ON_HOLD:
        work["text"] += " · on hold until QA dispositions the deviation"
    return work


def timed(step: TemplateStep, day0_at: datetime, now: datetime) -> dict[str, Any]:
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


def batches_in_work() -> QuerySet[Batch]:
    """Batches whose next step may be due, with the template steps and recorded steps the
    due rule reads (one query each, however many batches), oldest first."""
    return (
        batch_list()
        .filter(state__in=WORKING_STATES)
        .prefetch_related(
            Prefetch("template__steps", queryset=TemplateStep.objects.order_by("order")),
            Prefetch(
                "steps",
                queryset=ExecutedStep.objects.only("id", "batch", "template_step").order_by(),
            ),
        )
        .order_by("created_at", "id")
    )


def step_is_due(work: dict[str, Any], today: date) -> bool:
    """Due now, late, or due later today (local date): what a technician works on today."""
    if work["status"] in STEP_DUE:
        return True
    due_at = work["due_at"]
    return work["status"] == "upcoming" and timezone.localdate(due_at) <= today


def steps_due(*, now: datetime) -> list[tuple[Batch, dict[str, Any]]]:
    """(batch, its due work) for every batch whose next step is due today, late first, then
    soonest due: the technicians' step worklist (home page and the batch list's filter)."""
    today = timezone.localdate(now)
    found = [
        (batch, {**due_work(batch, now), "culture_day": culture_day(batch, now)})
        for batch in batches_in_work()
    ]
    due = [(batch, work) for batch, work in found if step_is_due(work, today)]
    # Late before due; a batch without day 0 yet (due at once) before timed ones.
    due.sort(key=lambda pair: (pair[1]["status"] != "late", pair[1]["due_at"] or now))
    return due


def counts_due(*, now: datetime) -> list[tuple[Batch, int]]:
    """(batch, culture day) for each batch in process past day 0 with no count yet for
    today's culture day: in-process counts are taken any day, and a day with none is the
    technician's to do."""
    in_process = list(
        batch_list().filter(state=S.IN_PROCESS, day0_at__isnull=False).order_by("created_at", "id")
    )
    days = {batch.pk: culture_day(batch, now) for batch in in_process}
    counted = set(
        CellCount.objects.filter(batch__in=in_process).values_list("batch_id", "day").distinct()
    )
    return [
        (batch, day)
        for batch in in_process
        if (day := days[batch.pk]) is not None and (batch.pk, day) not in counted
    ]


def batches_on_hold() -> QuerySet[Batch]:
    """Batches held until QA dispositions their deviation, longest held first."""
    return batch_list().filter(state=S.ON_HOLD).order_by("created_at", "id")
