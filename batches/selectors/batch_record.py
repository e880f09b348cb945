"""Reads of the batch record: the batch list, one batch with what its record shows, its next
step and its growth. The record's lists (trail, signatures, steps, counts, custody,
deviations) newest first, to slice or page, are in `batches.selectors.sublists`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import (
    F,
    Func,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from batches.models import (
    Batch,
    CellCount,
    Deviation,
    DeviationState,
    ExecutedStep,
    MaterialUse,
    TemplateStep,
)
from batches.models.batch_record import fold_expansion, population_doublings
from batches.selectors.counts import PREFETCHED, current_counts, current_counts_query

# One signature as the record page lists it: the signature and whether what it attests holds.
SignatureRow = dict[str, Any]
# One count of the growth chart, with its fold expansion and population doublings.
GrowthPoint = dict[str, Any]


def next_template_step(batch: Batch) -> TemplateStep | None:
    """The first template step not yet recorded on the batch, or None when all are."""
    done = ExecutedStep.objects.filter(batch=batch).values("template_step_id")
    return (
        TemplateStep.objects.filter(template_id=batch.template_id)
        .exclude(pk__in=done)
        .order_by("order")
        .first()
    )


def _count_of(model: type[Model], **match: Any) -> Coalesce:
    """How many `model` rows of the outer batch match: a correlated subquery, so a page of
    batches counts for its own rows only, and counting the list needs no GROUP BY."""
    rows = (
        model._default_manager.filter(batch=OuterRef("pk"), **match)
        .order_by()
        .values("batch")
        .annotate(n=Func(F("id"), function="COUNT"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def batch_list() -> QuerySet[Batch]:
    return Batch.objects.select_related(
        "source_unit", "template", "intended_recipient", "room"
    ).annotate(
        steps_done=_count_of(ExecutedStep),
        open_deviations=_count_of(Deviation, state=DeviationState.OPEN),
    )


def batch_detail(lot_number: str, *, whole_record: bool = True) -> Batch:
    """One batch with everything its record shows, in a fixed number of queries: its current
    counts (one per culture day), its steps (one per template step), and with `whole_record`
    its deviations and custody hand-offs; without it, its open deviations alone (the batch
    page reads the latest of each list through `batches.selectors.sublists`)."""
    return (
        _batch_with_decisions()
        .prefetch_related(
            Prefetch(
                "template__steps",
                queryset=TemplateStep.objects.order_by("order").prefetch_related("parameters"),
            ),
            Prefetch(
                "steps",
                queryset=ExecutedStep.objects.select_related("template_step", "performed_by")
                .prefetch_related(
                    Prefetch(
                        "materials",
                        queryset=MaterialUse.objects.select_related(
                            "vector_lot", "feeder_lot", "reagent_lot"
                        ),
                    )
                )
                .order_by("template_step__order"),
            ),
            # The current counts alone (at most one per culture day): a batch may carry
            # many corrected ones, which the calculations do not read.
            Prefetch(
                "counts",
                queryset=current_counts_query().select_related("recorded_by"),
                to_attr=PREFETCHED,
            ),
            *_lists(whole_record),
        )
        .get(lot_number=lot_number)
    )


def _lists(whole_record: bool) -> list[Any]:
    """The deviations and hand-offs `batch_detail` reads: all, or the open deviations."""
    if whole_record:
        return ["deviations__opened_by", "custody__released_by", "custody__received_by"]
    open_ones = Deviation.objects.filter(state=DeviationState.OPEN)
    return [
        Prefetch("deviations", queryset=open_ones.select_related("opened_by", "dispositioned_by"))
    ]


def batch_summary(lot_number: str) -> Batch:
    """One batch with its template, release decision and recall, but not its sub-lists: the
    API's answer for a batch takes the newest of each from `batch_newest`, however long."""
    return (
        _batch_with_decisions()
        .prefetch_related(
            Prefetch("template__steps", queryset=TemplateStep.objects.order_by("order"))
        )
        .get(lot_number=lot_number)
    )


def _batch_with_decisions() -> QuerySet[Batch]:
    """Batches with their unit, template, recipient, release decision and recall joined."""
    return Batch.objects.select_related(
        "source_unit",
        "template",
        "intended_recipient",
        "created_by",
        "release_decision__decided_by",
        "recall__raised_by",
    ).prefetch_related(
        "release_decision__pending_tests__definition",
        "recall__lookback__recipient",
        "recall__lookback__dose_unit__batch",
    )


def day0_viable_cells(counts: Iterable[CellCount]) -> float | None:
    """What fold expansion is measured from: the first day-0 count (oldest first) with viable
    cells."""
    return next((c.total_viable_cells for c in counts if c.day == 0 and c.total_viable_cells), None)


def growth_point(count: CellCount, day0: float | None) -> GrowthPoint:
    """One count with its fold expansion from `day0` and its population doublings."""
    fold = fold_expansion(day0, count.total_viable_cells) if count.total_viable_cells else None
    return {
        "count": count,
        "day": count.day,
        "total_viable_cells": count.total_viable_cells,
        "viability_pct": float(count.viability_pct),
        "fold_expansion": fold,
        "population_doublings": population_doublings(fold),
    }


def growth_series(batch: Batch) -> list[GrowthPoint]:
    """The current counts with fold expansion from the day-0 count and population
    doublings."""
    current = current_counts(batch)
    day0 = day0_viable_cells(current)
    return [growth_point(c, day0) for c in current]


def growth_of(batch: Batch, counts: Iterable[CellCount]) -> list[GrowthPoint]:
    """Growth points of some of the batch's counts (a page of them), measured from the batch's
    day-0 count, which the page need not hold."""
    # Narrowed in SQL to the one row `day0_viable_cells` would pick (viable cells are never
    # negative), so a page costs the same however many counts the batch has.
    day0_counts = current_counts_query().filter(batch=batch, day=0, total_viable_cells__gt=0)
    day0 = day0_viable_cells(day0_counts[:1])
    return [growth_point(c, day0) for c in counts]


def expansion_flag(batch: Batch, series: list[GrowthPoint] | None = None) -> str:
    """A warning when the expansion at or after the harvest day is outside the template's
    expected range (DESIGN section 2)."""
    steps = list(batch.template.steps.all())
    harvest_day = next((s.planned_day for s in steps if s.is_harvest), None)
    if harvest_day is None:
        return ""
    if series is None:
        # Only the counts from the harvest day on decide it.
        late_counts = CellCount.objects.filter(batch=batch, day__gte=harvest_day)
        series = growth_of(batch, late_counts.order_by("measured_at", "id"))
    late = [p for p in series if p["day"] >= harvest_day and p["fold_expansion"] is not None]
    if not late:
        return ""
    fold = late[-1]["fold_expansion"]
    low, high = batch.template.expected_fold_min, batch.template.expected_fold_max
    if fold < low or fold > high:
        day = late[-1]["day"]
        return f"Fold expansion {fold:.0f}x on day {day} is outside the expected {low:g}–{high:g}x."
    return ""
