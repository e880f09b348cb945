"""Reads for process trending: what each batch contributes to the trends, an attribute's
series, the baseline in force, and the chart of one attribute.

Which figures are trended lives here, in `batch_trend_values`: numeric step parameters, the
figures from the cell counts (fold expansion and population doublings at each culture day,
total viable cells at harvest), the hours from thaw to each later step, and numeric QC
results (the reportable one: the last reviewed test of each definition).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber

from batches.models import Batch, CellCount, ExecutedStep, ValueType
from batches.models.batch_record import fold_expansion, population_doublings
from batches.selectors.counts import current_counts
from qc import spc
from qc.models import QcTest, TestState
from qc.models.trends import TrendAttribute, TrendBaseline, TrendPoint, TrendSignal, TrendSource

# The run rules look back at most this many points (8 in a row on one side).
LONGEST_RULE = 8


@dataclass(frozen=True)
class TrendValue:
    """One figure of one batch, with what identifies its attribute."""

    source: str
    key: str
    name: str
    unit: str
    value: float
    observed_at: datetime
    spec_set_id: int | None = None
    spec_lower: float | None = None
    spec_upper: float | None = None


def _step_values(steps: Sequence[ExecutedStep]) -> list[TrendValue]:
    found = []
    for step in steps:
        for param in step.template_step.parameters.all():
            raw = step.values.get(param.code)
            if param.value_type != ValueType.NUMBER or not isinstance(raw, int | float):
                continue
            found.append(
                TrendValue(
                    source=TrendSource.STEP_PARAMETER,
                    key=f"step:{step.template_step.code}:{param.code}",
                    name=f"{step.template_step.name}: {param.name}",
                    unit=param.unit,
                    value=float(raw),
                    observed_at=step.performed_at,
                    spec_lower=param.min_value,
                    spec_upper=param.max_value,
                )
            )
    return found


def _step_timing(steps: Sequence[ExecutedStep]) -> list[TrendValue]:
    """Hours from the first step (the thaw) to each later step."""
    if not steps:
        return []
    first = min(steps, key=lambda s: s.template_step.order)
    return [
        TrendValue(
            source=TrendSource.STEP_TIMING,
            key=f"hours_to:{step.template_step.code}",
            name=f"Hours from {first.template_step.name} to {step.template_step.name}",
            unit="h",
            value=(step.performed_at - first.performed_at).total_seconds() / 3600,
            observed_at=step.performed_at,
        )
        for step in steps
        if step.template_step.order > first.template_step.order
    ]


def _count_values(batch: Batch, harvested: ExecutedStep | None) -> list[TrendValue]:
    counts = [c for c in current_counts(batch) if c.total_viable_cells]
    day0 = next((c.total_viable_cells for c in counts if c.day == 0), None)
    found = []
    for count in counts:
        fold = fold_expansion(day0, count.total_viable_cells or 0) if count.day else None
        doublings = population_doublings(fold)
        if fold is not None and doublings is not None:
            found += [
                TrendValue(
                    source=TrendSource.CELL_COUNT,
                    key=f"fold:{count.day}",
                    name=f"Fold expansion, day {count.day}",
                    unit="fold",
                    value=fold,
                    observed_at=count.measured_at,
                ),
                TrendValue(
                    source=TrendSource.CELL_COUNT,
                    key=f"doublings:{count.day}",
                    name=f"Population doublings, day {count.day}",
                    unit="doublings",
                    value=doublings,
                    observed_at=count.measured_at,
                ),
            ]
    if harvested is not None and counts:
        last = max(counts, key=lambda c: (c.day, c.measured_at))
        found.append(
            TrendValue(
                source=TrendSource.CELL_COUNT,
                key="tvc_harvest",
                name="Total viable cells at harvest",
                unit="cells",
                value=float(last.total_viable_cells or 0),
                observed_at=harvested.performed_at,
            )
        )
    return found


def _qc_values(batch: Batch) -> list[TrendValue]:
    """The last reviewed numeric result of each QC test definition."""
    tests = (
        QcTest.objects.filter(batch=batch, state=TestState.REVIEWED, result_numeric__isnull=False)
        .select_related("definition")
        .order_by("definition_id", "reviewed_at", "id")
    )
    reportable = {test.definition_id: test for test in tests}
    return [
        TrendValue(
            source=TrendSource.QC_RESULT,
            key=f"qc:{test.definition.code}",
            name=test.definition.name,
            unit=test.definition.unit,
            value=float(test.result_numeric or 0),
            observed_at=test.sampled_at or test.resulted_at or test.reviewed_at or test.due_at,
            spec_set_id=test.definition.spec_set_id,
            spec_lower=test.definition.lower_limit,
            spec_upper=test.definition.upper_limit,
        )
        for test in reportable.values()
    ]


def batch_trend_values(batch: Batch) -> list[TrendValue]:
    """Every trended figure the batch's record holds today (finite values only)."""
    steps = list(
        ExecutedStep.objects.filter(batch=batch)
        .select_related("template_step")
        .prefetch_related("template_step__parameters")
    )
    harvested = next((s for s in steps if s.template_step.is_harvest), None)
    found = [
        *_step_values(steps),
        *_step_timing(steps),
        *_count_values(batch, harvested),
        *_qc_values(batch),
    ]
    return [v for v in found if math.isfinite(v.value)]


def batches_changed_since(since: datetime, until: datetime) -> set[int]:
    """Batches whose steps, counts or reviewed QC results were recorded in (since, until]."""
    steps = ExecutedStep.objects.filter(recorded_at__gt=since, recorded_at__lte=until)
    counts = CellCount.objects.filter(recorded_at__gt=since, recorded_at__lte=until)
    tests = QcTest.objects.filter(reviewed_at__gt=since, reviewed_at__lte=until)
    return {
        *steps.values_list("batch_id", flat=True),
        *counts.values_list("batch_id", flat=True),
        *tests.values_list("batch_id", flat=True),
    }


def baseline_in_force(attribute: TrendAttribute) -> TrendBaseline | None:
    return attribute.baselines.order_by("-fixed_at", "-id").first()


def limits_of(baseline: TrendBaseline) -> spc.ControlLimits:
    return spc.ControlLimits(
        centre=baseline.centre,
        sigma=baseline.sigma,
        mean_moving_range=baseline.mean_moving_range,
        baseline_points=baseline.point_count,
    )


def _up_to(point: TrendPoint) -> Q:
    """Points of the series at or before this one (time, then batch, breaks ties)."""
    return Q(observed_at__lt=point.observed_at) | Q(
        observed_at=point.observed_at, batch_id__lte=point.batch_id
    )


def recent_values(point: TrendPoint, how_many: int = LONGEST_RULE) -> list[float]:
    """The values of the `how_many` points ending at this one, oldest first: all a rule reads,
    so judging a new point costs the same whatever the length of the series."""
    rows = (
        TrendPoint.objects.filter(_up_to(point), attribute_id=point.attribute_id)
        .order_by("-observed_at", "-batch_id")
        .values_list("value", flat=True)[:how_many]
    )
    return list(reversed(rows))


def series(attribute: TrendAttribute) -> QuerySet[TrendPoint]:
    """The attribute's points in time order, each with its batch's lot number."""
    return (
        attribute.points.order_by("observed_at", "batch_id")
        .select_related("batch")
        .only("id", "value", "observed_at", "batch__lot_number", "attribute_id")
    )


def trend_attribute_list() -> QuerySet[TrendAttribute]:
    """Every trended figure with its number of points and of signals not yet assessed.

    Each count is a subquery of its own: the points counted from the series index alone, the
    open signals from their partial index, so one figure costs the same whatever the number
    of assessed signals (a join of the two would read every point's signals)."""
    points = (
        TrendPoint.objects.filter(attribute=OuterRef("pk"))
        .order_by()
        .values("attribute")
        .annotate(n=Count("*"))
        .values("n")
    )
    unassessed = (
        TrendSignal.objects.filter(assessment="", point__attribute=OuterRef("pk"))
        .order_by()
        .values("point__attribute")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        TrendAttribute.objects.select_related("template", "spec_set")
        .annotate(
            point_count=Coalesce(Subquery(points), 0),
            open_signals=Coalesce(Subquery(unassessed), 0),
        )
        .order_by("template_id", "source", "key", "id")
    )


def recent_series(attributes: Sequence[TrendAttribute], how_many: int) -> dict[int, list[float]]:
    """The newest `how_many` values of each attribute, oldest first, in one query (the trend
    list's sparklines)."""
    numbered = TrendPoint.objects.filter(attribute__in=attributes).annotate(
        newest=Window(
            RowNumber(),
            partition_by=[F("attribute_id")],
            order_by=[F("observed_at").desc(), F("batch_id").desc()],
        )
    )
    rows = numbered.filter(newest__lte=how_many).values_list("attribute_id", "value", "newest")
    found: dict[int, list[tuple[int, float]]] = {}
    for attribute_id, value, newest in rows:
        found.setdefault(attribute_id, []).append((newest, value))
    return {a: [v for _, v in sorted(pairs, reverse=True)] for a, pairs in found.items()}


def latest_signals(attributes: Sequence[TrendAttribute]) -> dict[int, TrendSignal]:
    """The newest signal of each attribute, in one query."""
    signals = (
        TrendSignal.objects.filter(point__attribute__in=attributes)
        .select_related("point__batch")
        .order_by("point__attribute_id", "-raised_at", "-id")
        .distinct("point__attribute_id")
    )
    return {s.point.attribute_id: s for s in signals}


def open_signals() -> QuerySet[TrendSignal]:
    """Signals QA has not assessed yet, newest first."""
    return TrendSignal.objects.filter(assessment="").select_related(
        "point__attribute__template", "point__batch"
    )


@dataclass
class AttributeChart:
    """What a control chart of one attribute shows."""

    attribute: TrendAttribute
    points: list[TrendPoint]
    baseline: TrendBaseline | None
    limits: spc.ControlLimits | None
    moving_ranges: list[float]
    signals: dict[int, list[TrendSignal]] = field(default_factory=dict)
    capability: spc.Capability | None = None
    capability_missing: str = ""


def capability_of(
    attribute: TrendAttribute, values: list[float]
) -> tuple[spc.Capability | None, str]:
    if attribute.spec_lower is None and attribute.spec_upper is None:
        return None, "No specification limits: no capability."
    try:
        return (
            spc.capability(
                values,
                lower=attribute.spec_lower,
                upper=attribute.spec_upper,
                minimum_points=settings.TREND_CAPABILITY_MIN_POINTS,
            ),
            "",
        )
    except spc.NotEnoughPoints as exc:
        return None, str(exc)


def latest_points(attribute: TrendAttribute, how_many: int) -> list[TrendPoint]:
    """The attribute's newest `how_many` points, oldest first (an index range read)."""
    newest = series(attribute).order_by("-observed_at", "-batch_id")[:how_many]
    return list(reversed(newest))


def attribute_chart(attribute: TrendAttribute) -> AttributeChart:
    """The chart of one attribute over its newest TREND_CHART_POINTS points: limits, signals
    and capability over those (three queries, whatever the number of batches)."""
    points = latest_points(attribute, settings.TREND_CHART_POINTS)
    baseline = baseline_in_force(attribute)
    by_point: dict[int, list[TrendSignal]] = {}
    drawn = {p.pk: p for p in points}
    signals = TrendSignal.objects.filter(point__in=list(drawn)).order_by("id")
    for signal in signals.select_related("assessed_by"):
        signal.point = drawn[signal.point_id]  # with its batch: no query per signal shown
        by_point.setdefault(signal.point_id, []).append(signal)
    values = [p.value for p in points]
    capability, missing = capability_of(attribute, values)
    return AttributeChart(
        attribute=attribute,
        points=points,
        baseline=baseline,
        limits=limits_of(baseline) if baseline else None,
        moving_ranges=spc.moving_ranges(values),
        signals=by_point,
        capability=capability,
        capability_missing=missing,
    )
