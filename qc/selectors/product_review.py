"""Reads for the periodic product review of one template version over a date range: what
the PDF shows, filled into its plain inputs. The cost is a fixed handful of queries plus one
per trended figure, whatever the number of batches."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from batches.models import (
    Batch,
    BatchState,
    Deviation,
    DeviationKind,
    DeviationState,
    ProcessTemplate,
)
from qc.documents.product_review import (
    AttributeReview,
    BatchLine,
    ChartPoint,
    OosLine,
    ProductReview,
    SignalLine,
)
from qc.models import QcTest, TrendAttribute, TrendBaseline, TrendSignal
from qc.models.trends import SignalAssessment
from qc.presenters.results import shown_result
from qc.selectors import trends


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start of the first day, start of the day after the last) in the site's zone."""
    zone = timezone.get_current_timezone()
    first = datetime.combine(start, time.min, tzinfo=zone)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return first, after


def _batches(template: ProcessTemplate, first: datetime, after: datetime) -> list[Batch]:
    return list(
        Batch.objects.filter(template=template, created_at__gte=first, created_at__lt=after)
        .select_related("release_decision", "recall")
        .only(
            "lot_number",
            "state",
            "created_at",
            "release_decision__decision",
            "recall__id",
        )
        .order_by("created_at", "id")
    )


def _outcomes(batches: list[Batch]) -> tuple[int, int, int]:
    """Released (a recalled batch was released first), rejected, recalled."""
    released = rejected = recalled = 0
    for batch in batches:
        decision = getattr(batch, "release_decision", None)
        if decision is not None and decision.decision == "release":
            released += 1
        if decision is not None and decision.decision == "reject":
            rejected += 1
        if getattr(batch, "recall", None) is not None:
            recalled += 1
    return released, rejected, recalled


def _deviations(
    template: ProcessTemplate, first: datetime, after: datetime
) -> tuple[list[tuple[str, int]], int]:
    """Deviations opened in the period on the template's batches, counted by kind (the
    record's classification), and how many are still open."""
    rows = Deviation.objects.filter(
        batch__template=template, opened_at__gte=first, opened_at__lt=after
    ).values_list("kind", "state")
    by_kind: Counter[str] = Counter()
    still_open = 0
    for kind, state in rows:
        by_kind[kind] += 1
        still_open += state == DeviationState.OPEN
    labels = dict(DeviationKind.choices)
    return [(labels.get(k, k), n) for k, n in sorted(by_kind.items())], still_open


def _out_of_spec(template: ProcessTemplate, first: datetime, after: datetime) -> list[OosLine]:
    tests = (
        QcTest.objects.filter(
            batch__template=template,
            in_spec=False,
            resulted_at__gte=first,
            resulted_at__lt=after,
        )
        .select_related("batch", "definition")
        .order_by("resulted_at", "id")
    )
    return [
        OosLine(
            lot_number=t.batch.lot_number,
            test_name=t.definition.name,
            result=shown_result(t),
            specification=t.definition.spec_text,
            resulted_at=timezone.localtime(t.resulted_at),
            state=t.get_state_display(),
        )
        for t in tests
        if t.resulted_at is not None
    ]


def _baselines_at(attributes: list[TrendAttribute], after: datetime) -> dict[int, TrendBaseline]:
    """The baseline in force at the end of the period for each attribute, in one query."""
    found = (
        TrendBaseline.objects.filter(attribute__in=attributes, fixed_at__lt=after)
        .select_related("fixed_by")
        .order_by("attribute_id", "-fixed_at", "-id")
        .distinct("attribute_id")
    )
    return {b.attribute_id: b for b in found}


def _signals(
    attributes: list[TrendAttribute], first: datetime, after: datetime
) -> dict[int, list[TrendSignal]]:
    """Signals fired by points of the period, oldest first, in one query."""
    found = (
        TrendSignal.objects.filter(
            point__attribute__in=attributes,
            point__observed_at__gte=first,
            point__observed_at__lt=after,
        )
        .select_related("point__batch", "assessed_by")
        .order_by("point__observed_at", "point__batch_id", "id")
    )
    by_attribute: dict[int, list[TrendSignal]] = {}
    for signal in found:
        by_attribute.setdefault(signal.point.attribute_id, []).append(signal)
    return by_attribute


def _signal_line(signal: TrendSignal) -> SignalLine:
    assessed_by = signal.assessed_by
    return SignalLine(
        lot_number=signal.point.batch.lot_number,
        rule=signal.rule,
        value=signal.value,
        raised_at=timezone.localtime(signal.raised_at),
        assessment=SignalAssessment(signal.assessment).label if signal.assessment else "",
        comment=signal.assessment_comment,
        investigation_reference=signal.investigation_reference,
        assessed_by=(assessed_by.get_full_name() or assessed_by.username) if assessed_by else "",
        assessed_at=timezone.localtime(signal.assessed_at) if signal.assessed_at else None,
    )


def _attribute_review(
    attribute: TrendAttribute,
    first: datetime,
    after: datetime,
    baseline: TrendBaseline | None,
    signals: list[TrendSignal],
) -> AttributeReview:
    points = list(trends.series(attribute).filter(observed_at__gte=first, observed_at__lt=after))
    fired = {s.point_id for s in signals}
    values = [p.value for p in points]
    capability, missing = trends.capability_of(attribute, values)
    chosen = ""
    if baseline is not None:
        who = baseline.fixed_by.get_full_name() or baseline.fixed_by.username
        chosen = f"{baseline.chosen_as}; signed by {who}, {baseline.fixed_at:%Y-%m-%d}"
    return AttributeReview(
        name=attribute.name,
        unit=attribute.unit,
        spec_lower=attribute.spec_lower,
        spec_upper=attribute.spec_upper,
        points=[
            ChartPoint(
                p.batch.lot_number, timezone.localtime(p.observed_at), p.value, p.pk in fired
            )
            for p in points
        ],
        limits=trends.limits_of(baseline) if baseline else None,
        baseline=chosen,
        capability=capability,
        capability_missing=missing,
        signals=[_signal_line(s) for s in signals],
    )


def product_review(template: ProcessTemplate, start: date, end: date) -> ProductReview:
    """Everything the periodic product review of the template shows for [start, end], both
    days included, in the site's zone."""
    first, after = period_bounds(start, end)
    batches = _batches(template, first, after)
    released, rejected, recalled = _outcomes(batches)
    deviations, still_open = _deviations(template, first, after)
    attributes = list(
        TrendAttribute.objects.filter(template=template).order_by("source", "key", "id")
    )
    baselines = _baselines_at(attributes, after)
    signals = _signals(attributes, first, after)
    states = dict(BatchState.choices)
    return ProductReview(
        template=str(template),
        start=start,
        end=end,
        generated_at=timezone.localtime(),
        batches=[
            BatchLine(b.lot_number, timezone.localtime(b.created_at), states.get(b.state, b.state))
            for b in batches
        ],
        released=released,
        rejected=rejected,
        recalled=recalled,
        deviations_by_kind=deviations,
        deviations_open=still_open,
        out_of_spec=_out_of_spec(template, first, after),
        attributes=[
            _attribute_review(a, first, after, baselines.get(a.pk), signals.get(a.pk, []))
            for a in attributes
        ],
    )
