"""Reads of the batch record: the batch list and one batch's record page, its steps, growth,
custody, signatures and trail."""

from __future__ import annotations

from typing import Any

import pghistory.models
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Prefetch, Q, QuerySet

from batches.models import (
    Batch,
    CustodyEvent,
    Deviation,
    DeviationState,
    ExecutedStep,
    MaterialUse,
    TemplateStep,
)
from batches.models.batch_record import fold_expansion, population_doublings
from batches.selectors.counts import PREFETCHED, current_counts, current_counts_query
from carnk_mfg.audit import references_trail
from carnk_mfg.signatures import signature_intact, signatures_for

# One signature as the record page lists it: the signature and whether what it attests holds.
SignatureRow = dict[str, Any]
# One count of the growth chart, with its fold expansion and population doublings.
GrowthPoint = dict[str, Any]


def batch_trail(batch: Batch) -> list[pghistory.models.Events]:
    return list(references_trail(batch))


def unit_custody(unit_id: int) -> list[CustodyEvent]:
    """Hand-offs of a cord blood unit, oldest first."""
    return list(
        CustodyEvent.objects.filter(unit_id=unit_id).select_related(
            "released_by", "received_by", "recorded_by"
        )
    )


def batch_signatures(batch: Batch) -> tuple[list[SignatureRow], dict[int, list[SignatureRow]]]:
    """Every signature of the batch record in one query: on the batch (lifecycle moves,
    formulation, review, release), its steps, its deviations and its QC reviews, each with
    whether what it attests still holds. Returns the rows, and per step the step's own rows."""
    signed = [batch, *batch.steps.all(), *batch.deviations.all(), *batch.qc_tests.all()]
    records = {
        (ContentType.objects.get_for_model(record).pk, str(record.pk)): record for record in signed
    }
    rows: list[SignatureRow] = []
    by_step: dict[int, list[SignatureRow]] = {}
    step_type = ContentType.objects.get_for_model(ExecutedStep).pk
    for sig in signatures_for(*signed):
        record = records.get((sig.content_type_id, sig.object_id))
        row = {"signature": sig, "intact": record is not None and signature_intact(sig, record)}
        rows.append(row)
        if sig.content_type_id == step_type:
            by_step.setdefault(int(sig.object_id), []).append(row)
    return rows, by_step


def next_template_step(batch: Batch) -> TemplateStep | None:
    """The first template step not yet recorded on the batch, or None when all are."""
    done = ExecutedStep.objects.filter(batch=batch).values("template_step_id")
    return (
        TemplateStep.objects.filter(template_id=batch.template_id)
        .exclude(pk__in=done)
        .order_by("order")
        .first()
    )


def batch_list() -> QuerySet[Batch]:
    return Batch.objects.select_related("source_unit", "template", "intended_recipient").annotate(
        steps_done=Count("steps", distinct=True),
        open_deviations=Count("deviations", filter=Q(deviations__state="open"), distinct=True),
    )


def batch_detail(lot_number: str, *, whole_record: bool = True) -> Batch:
    """One batch with everything its record shows, in a fixed number of queries: its current
    counts (one per culture day), its steps (one per template step), and with `whole_record`
    its deviations and custody hand-offs; without it, its open deviations alone (the batch
    page reads the latest of each list through `batches.selectors.sublists`)."""
    return (
        Batch.objects.select_related(
            "source_unit",
            "template",
            "intended_recipient",
            "created_by",
            "release_decision__decided_by",
            "recall__raised_by",
        )
        .prefetch_related(
            "release_decision__pending_tests__definition",
            "recall__lookback__recipient",
            "recall__lookback__dose_unit__batch",
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


def growth_series(batch: Batch) -> list[GrowthPoint]:
    """The current counts with fold expansion from the day-0 count and population
    doublings."""
    current = current_counts(batch)
    day0 = next(
        (c.total_viable_cells for c in current if c.day == 0 and c.total_viable_cells), None
    )
    series: list[GrowthPoint] = []
    for c in current:
        fold = fold_expansion(day0, c.total_viable_cells) if c.total_viable_cells else None
        series.append(
            {
                "count": c,
                "day": c.day,
                "total_viable_cells": c.total_viable_cells,
                "viability_pct": float(c.viability_pct),
                "fold_expansion": fold,
                "population_doublings": population_doublings(fold),
            }
        )
    return series


def expansion_flag(batch: Batch, series: list[GrowthPoint] | None = None) -> str:
    """A warning when the expansion at or after the harvest day is outside the template's
    expected range (DESIGN section 2)."""
    series = series if series is not None else growth_series(batch)
    steps = list(batch.template.steps.all())
    harvest_day = next((s.planned_day for s in steps if s.is_harvest), None)
    if harvest_day is None:
        return ""
    late = [p for p in series if p["day"] >= harvest_day and p["fold_expansion"] is not None]
    if not late:
        return ""
    fold = late[-1]["fold_expansion"]
    low, high = batch.template.expected_fold_min, batch.template.expected_fold_max
    if fold < low or fold > high:
        day = late[-1]["day"]
        return f"Fold expansion {fold:.0f}x on day {day} is outside the expected {low:g}–{high:g}x."
    return ""
