"""The batch list: each batch with its state badge, the work that is due and its culture
day."""

from __future__ import annotations

from django.db.models import Prefetch

from batches import selectors
from batches.models import BatchState, ExecutedStep, TemplateStep
from batches.presenters.due_work import culture_day, due_work

S = BatchState

# Badge colours of the shared stylesheet, by batch state.
STATE_BADGES: dict[str, str] = {
    S.PLANNED: "",
    S.IN_PROCESS: "allocated",
    S.HARVESTED: "allocated",
    S.IN_QC: "pending",
    S.RELEASED: "released",
    S.REJECTED: "rejected",
    S.RECALLED: "rejected",
    S.ON_HOLD: "quarantined",
    S.TERMINATED: "discarded",
}


def batches_for_list():
    """Every batch, newest first, with the template steps and the recorded steps the due
    work column needs (one query each, however many batches)."""
    return (
        selectors.batch_list()
        .prefetch_related(
            Prefetch("template__steps", queryset=TemplateStep.objects.order_by("order")),
            Prefetch(
                "steps",
                queryset=ExecutedStep.objects.only("id", "batch", "template_step").order_by(),
            ),
        )
        .order_by("-created_at", "-id")
    )


def batch_rows(batches, now) -> list[dict]:
    return [
        {
            "batch": batch,
            "badge": STATE_BADGES.get(batch.state, ""),
            "due": due_work(batch, now),
            "day": culture_day(batch, now),
        }
        for batch in batches
    ]
