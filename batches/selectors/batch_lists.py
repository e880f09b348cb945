"""A batch's sub-lists (steps, counts, deviations, custody), each one queryset in its list
order, oldest first, so the API pages them in SQL; and the newest few of each, with totals,
for the batch's own answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from batches.models import Batch, CellCount, CustodyEvent, Deviation, ExecutedStep, MaterialUse


def batch_steps(batch: Batch) -> QuerySet[ExecutedStep]:
    """Executed steps in template order, with who performed them and the lots used."""
    materials = MaterialUse.objects.select_related("vector_lot", "feeder_lot", "reagent_lot")
    return (
        ExecutedStep.objects.filter(batch=batch)
        .select_related("template_step", "performed_by")
        .prefetch_related(Prefetch("materials", queryset=materials))
        .order_by("template_step__order", "id")
    )


def batch_counts_in_order(batch: Batch) -> QuerySet[CellCount]:
    """Every count, corrected ones too (each naming its correction), oldest first."""
    return (
        CellCount.objects.filter(batch=batch)
        .select_related("corrected_by")
        .order_by("measured_at", "id")
    )


def batch_deviations(batch: Batch) -> QuerySet[Deviation]:
    return (
        Deviation.objects.filter(batch=batch)
        .select_related("opened_by", "step__template_step")
        .prefetch_related("capas")
        .order_by("opened_at", "id")
    )


def batch_custody(batch: Batch) -> QuerySet[CustodyEvent]:
    """Hand-offs of the batch and of the cord blood unit it came from."""
    return (
        CustodyEvent.objects.filter(Q(batch=batch) | Q(unit_id=batch.source_unit_id))
        .select_related("released_by", "received_by")
        .order_by("occurred_at", "id")
    )


SUB_LISTS = {
    "steps": batch_steps,
    "counts": batch_counts_in_order,
    "deviations": batch_deviations,
    "custody": batch_custody,
}


@dataclass(frozen=True)
class Newest:
    """The newest rows of a sub-list (oldest of them first) and how many it holds in all."""

    rows: list[Any]
    total: int


def batch_newest(batch: Batch, how_many: int) -> dict[str, Newest]:
    """The newest `how_many` rows of each sub-list, in list order, with each list's total:
    a batch with thousands of counts still answers in a few small queries."""
    newest = {}
    for name, rows_of in SUB_LISTS.items():
        rows = rows_of(batch)
        latest = list(rows.reverse()[:how_many])[::-1]
        newest[name] = Newest(rows=latest, total=rows.count())
    return newest
