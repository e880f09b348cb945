"""Writes of process trending: the scan that turns the batch record into trend points and
judges each new point against the run rules, QA's signed baseline, and QA's signed
assessment of a signal. Signals reach QA through the outbox, once per point and rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from batches.models import Batch
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import Role
from carnk_mfg.signatures import signed_write
from qc import spc
from qc.models.trends import (
    SignalAssessment,
    TrendAttribute,
    TrendBaseline,
    TrendPoint,
    TrendScan,
    TrendSignal,
)
from qc.selectors import trends as selectors
from qc.services.notices import post_notices, role_members, send_outbox

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

# A step, count or result is stamped before its transaction commits: the scan reads this far
# back again each time so a slow commit is never missed (reading a batch twice is harmless).
SCAN_OVERLAP = timedelta(minutes=10)
# The first scan reads the whole record.
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TrendScanResult:
    batches: int
    points: int
    signals: int


def _attributes_for(
    batch: Batch, values: Sequence[selectors.TrendValue], now: datetime
) -> dict[tuple[str, int | None], TrendAttribute]:
    """The attribute of each value, created the first time a figure is seen."""
    wanted = {(v.key, v.spec_set_id): v for v in values}
    TrendAttribute.objects.bulk_create(
        [
            TrendAttribute(
                template_id=batch.template_id,
                spec_set_id=spec_set_id,
                source=v.source,
                key=key,
                name=v.name[:200],
                unit=v.unit[:40],
                spec_lower=v.spec_lower,
                spec_upper=v.spec_upper,
                created_at=now,
            )
            for (key, spec_set_id), v in wanted.items()
        ],
        ignore_conflicts=True,
    )
    found = TrendAttribute.objects.filter(
        template_id=batch.template_id, key__in={key for key, _ in wanted}
    )
    return {(a.key, a.spec_set_id): a for a in found}


def trend_points_refresh(batch: Batch, *, now: datetime) -> list[TrendPoint]:
    """Bring the batch's trend points in step with its record; returns the points that are
    new or whose value changed (the ones the rules judge)."""
    values = selectors.batch_trend_values(batch)
    if not values:
        return []
    attributes = _attributes_for(batch, values, now)
    existing = {p.attribute_id: p for p in TrendPoint.objects.filter(batch=batch)}
    changed = []
    for value in values:
        attribute = attributes[(value.key, value.spec_set_id)]
        point = existing.get(attribute.pk)
        if point is None:
            point = TrendPoint(attribute=attribute, batch=batch)
        elif point.value == value.value and point.observed_at == value.observed_at:
            continue
        point.value, point.observed_at, point.updated_at = value.value, value.observed_at, now
        changed.append(point)
    TrendPoint.objects.bulk_create(
        [p for p in changed if p.pk is None],
        update_conflicts=True,
        unique_fields=["attribute", "batch"],
        update_fields=["value", "observed_at", "updated_at"],
    )
    TrendPoint.objects.bulk_update(
        [p for p in changed if p.pk is not None], ["value", "observed_at", "updated_at"]
    )
    return changed


def _raise_signals(
    found: Iterable[tuple[TrendPoint, TrendBaseline, spc.Rule]], now: datetime
) -> int:
    """Write each (point, baseline, rule) as a signal, once, and tell QA of the new ones."""
    rows = [
        TrendSignal(point=p, baseline=b, rule=str(rule), value=p.value, raised_at=now)
        for p, b, rule in found
    ]
    if not rows:
        return 0
    TrendSignal.objects.bulk_create(rows, ignore_conflicts=True)
    signals = list(
        TrendSignal.objects.filter(
            point__in=[r.point for r in rows], rule__in={r.rule for r in rows}, raised_at=now
        ).select_related("point__attribute__template", "point__batch")
    )
    post_notices(
        about="trend_signal",
        notices=[
            (
                s,
                f"Trend signal: {s.point.attribute.name[:120]}, batch {s.point.batch.lot_number}",
                f"{s.rule} for {s.point.attribute} at batch {s.point.batch.lot_number} "
                f"(value {s.value:g}). Assess it on the trend page.",
            )
            for s in signals
        ],
        people=role_members(Role.QA),
        now=now,
    )
    return len(signals)


def _judge(points: Sequence[TrendPoint], now: datetime) -> int:
    """The run rules on each new or changed point against its attribute's baseline in force,
    for points made after the baseline's own (a point inside it shaped the limits)."""
    baselines: dict[int, TrendBaseline | None] = {}
    fired = []
    for point in points:
        if point.attribute_id not in baselines:
            baselines[point.attribute_id] = selectors.baseline_in_force(point.attribute)
        baseline = baselines[point.attribute_id]
        if baseline is None or point.observed_at <= baseline.covers_until:
            continue
        values = selectors.recent_values(point)
        limits = selectors.limits_of(baseline)
        fired += [
            (point, baseline, rule) for rule in spc.rules_fired_at(values, len(values) - 1, limits)
        ]
    return _raise_signals(fired, now)


def scan_trends(*, now: datetime | None = None) -> TrendScanResult:
    """Read what the batch record gained since the last scan into trend points and judge the
    new points. One scan at a time (a second one finds the row locked and returns)."""
    now = now or timezone.now()
    with transaction.atomic():
        scan = TrendScan.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if scan is None:
            if TrendScan.objects.filter(pk=1).exists():
                return TrendScanResult(batches=0, points=0, signals=0)
            scan, _ = TrendScan.objects.get_or_create(pk=1, defaults={"read_up_to": BEGINNING})
            scan = TrendScan.objects.select_for_update().get(pk=1)
        batch_ids = selectors.batches_changed_since(scan.read_up_to - SCAN_OVERLAP, now)
        changed: list[TrendPoint] = []
        for batch in Batch.objects.filter(pk__in=batch_ids).order_by("pk"):
            changed += trend_points_refresh(batch, now=now)
        signals = _judge(changed, now)
        scan.read_up_to = now
        scan.save(update_fields=["read_up_to"])
        if signals:
            transaction.on_commit(send_outbox)
    return TrendScanResult(batches=len(batch_ids), points=len(changed), signals=signals)


def _chosen_points(
    attribute: TrendAttribute,
    lots: Sequence[str] | None,
    from_date: date | None,
    to_date: date | None,
) -> tuple[list[TrendPoint], str]:
    """The baseline's points as QA chose them (lots, or a date range), and how, in words."""
    points = selectors.series(attribute)
    if lots and (from_date or to_date):
        raise ValidationError({"lots": "Choose the baseline by lots or by dates, not both."})
    if lots:
        wanted = {lot.strip() for lot in lots if lot.strip()}
        chosen = [p for p in points.filter(batch__lot_number__in=wanted)]
        missing = sorted(wanted - {p.batch.lot_number for p in chosen})
        if missing:
            raise ValidationError(
                {"lots": f"No point of {attribute.name} for: {', '.join(missing)}."}
            )
        return chosen, f"Lots {', '.join(sorted(wanted))}"[:300]
    if not (from_date and to_date):
        raise ValidationError({"from_date": "Give the lots, or both dates of the range."})
    if to_date < from_date:
        raise ValidationError({"to_date": "The range ends before it starts."})
    chosen = list(points.filter(observed_at__date__gte=from_date, observed_at__date__lte=to_date))
    return chosen, f"Points made {from_date:%Y-%m-%d} to {to_date:%Y-%m-%d}"


def _judge_after_baseline(baseline: TrendBaseline, now: datetime) -> int:
    """Judge every point made after a newly fixed baseline, in one read of the series."""
    points = list(selectors.series(baseline.attribute))
    values = [p.value for p in points]
    limits = selectors.limits_of(baseline)
    fired = [
        (point, baseline, rule)
        for i, point in enumerate(points)
        if point.observed_at > baseline.covers_until
        for rule in spc.rules_fired_at(values, i, limits)
    ]
    return _raise_signals(fired, now)


def trend_baseline_fix(
    *,
    actor: User,
    password: str,
    attribute: TrendAttribute,
    reason: str,
    lots: Sequence[str] | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    request: HttpRequest | None = None,
) -> TrendBaseline:
    """QA fixes the points the control limits rest on, signed; the limits are computed now
    and kept as signed, and the points after the baseline are judged against them."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why these points make the baseline."})
    chosen, chosen_as = _chosen_points(attribute, lots, from_date, to_date)
    if len(chosen) < settings.TREND_BASELINE_MIN_POINTS:
        raise ValidationError(
            {
                "lots" if lots else "from_date": (
                    f"A baseline needs at least {settings.TREND_BASELINE_MIN_POINTS} points; "
                    f"these give {len(chosen)}."
                )
            }
        )
    limits = spc.control_limits([p.value for p in chosen])
    now = timezone.now()
    with signed_write(
        actor=actor,
        password=password,
        permission="qc.fix_trend_baseline",
        meaning=SignatureMeaning.APPROVED,
        label=f"Control-limit baseline of {attribute}",
        reason=reason,
        request=request,
    ) as signing:
        baseline = TrendBaseline.objects.create(
            attribute=attribute,
            chosen_as=chosen_as,
            centre=limits.centre,
            sigma=limits.sigma,
            mean_moving_range=limits.mean_moving_range,
            point_count=limits.baseline_points,
            covers_until=max(p.observed_at for p in chosen),
            reason=reason.strip(),
            fixed_by=actor,
            fixed_at=now,
        )
        baseline.points.set(chosen)
        signing.sign(baseline, attests="trend_baseline")
        if _judge_after_baseline(baseline, now):
            transaction.on_commit(send_outbox)
    return baseline


def trend_signal_assess(
    *,
    actor: User,
    password: str,
    signal: TrendSignal,
    assessment: str,
    comment: str,
    investigation_reference: str = "",
    request: HttpRequest | None = None,
) -> TrendSignal:
    """QA's signed assessment of a signal: no action, or an investigation opened (named)."""
    errors = {}
    if assessment not in SignalAssessment.values:
        errors["assessment"] = "No action needed, or investigation opened."
    if not (comment or "").strip():
        errors["comment"] = "Say what the signal means for the process."
    if assessment == SignalAssessment.INVESTIGATION and not investigation_reference.strip():
        errors["investigation_reference"] = "Name the investigation that was opened."
    if errors:
        raise ValidationError(errors)
    with signed_write(
        actor=actor,
        password=password,
        permission="qc.assess_trend_signal",
        meaning=SignatureMeaning.REVIEWED,
        label=f"Assessment of trend signal: {signal.rule}",
        reason=comment,
        request=request,
    ) as signing:
        locked = TrendSignal.objects.select_for_update().get(pk=signal.pk)
        if locked.assessed_at is not None:
            raise ValidationError({"assessment": "This signal was already assessed."})
        locked.assessment = assessment
        locked.assessment_comment = comment.strip()
        locked.investigation_reference = investigation_reference.strip()
        locked.assessed_by, locked.assessed_at = actor, timezone.now()
        locked.save()
        signing.sign(locked)
    return locked
