"""Process trending on real batch records: the scan turns steps into trend points, QA fixes a
signed baseline, a new point beyond the limits raises one signal and one notice per QA
person, whatever the number of scans, and QA's signed assessment is final."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from carnk_mfg.models import ElectronicSignature
from qc import spc
from qc.models import Channel, Notification, TrendPoint, TrendSignal
from qc.selectors import trends as trend_selectors
from qc.selectors.notices import unread_notices
from qc.services import trends
from tests.factories import PASSWORD
from tests.trend_batches import (
    BASELINE_TNC,
    TNC,
    thawed_batch,
    tnc_attribute,
)


def test_the_scan_reads_each_figure_of_a_batch_once(in_qc_batch):
    first = trends.scan_trends()
    assert first.batches == 1 and first.points > 0
    points = {p.attribute.key: p.value for p in TrendPoint.objects.select_related("attribute")}
    assert points[TNC] == pytest.approx(9e8)
    assert points["step:harvest:car_positive_pct"] == pytest.approx(55)
    # The harvest was recorded 14 days after the thaw.
    assert points["hours_to:harvest"] == pytest.approx(14 * 24)
    # Text parameters (the scanned DIN) are not trended.
    assert not any(key.endswith(":cbu_din") for key in points)
    # Nothing new: a second scan reads the batch again but changes no point.
    again = trends.scan_trends()
    assert again.points == 0
    assert TrendPoint.objects.count() == len(points)


def test_qa_fixes_a_signed_baseline(baseline_batches, qa, settings):
    trends.scan_trends()
    attribute = tnc_attribute()
    baseline = trends.trend_baseline_fix(
        actor=qa,
        password=PASSWORD,
        attribute=attribute,
        lots=[b.lot_number for b in baseline_batches],
        reason="First ten batches of the validated process",
    )
    by_hand = spc.control_limits(BASELINE_TNC)
    assert baseline.centre == pytest.approx(by_hand.centre)
    assert baseline.sigma == pytest.approx(by_hand.sigma)
    assert baseline.point_count == 10
    assert baseline.points.count() == 10
    assert ElectronicSignature.objects.filter(
        object_id=str(baseline.pk), meaning="approved"
    ).exists()
    # Within the limits: no signal.
    assert not TrendSignal.objects.exists()


def test_a_baseline_needs_enough_points_and_known_lots(baseline_batches, qa):
    trends.scan_trends()
    attribute = tnc_attribute()
    with pytest.raises(ValidationError) as short:
        trends.trend_baseline_fix(
            actor=qa,
            password=PASSWORD,
            attribute=attribute,
            lots=[b.lot_number for b in baseline_batches[:4]],
            reason="too few",
        )
    assert "at least 10 points; these give 4" in str(short.value)
    with pytest.raises(ValidationError) as unknown:
        trends.trend_baseline_fix(
            actor=qa,
            password=PASSWORD,
            attribute=attribute,
            lots=["CNK-NOPE"],
            reason="wrong lot",
        )
    assert "CNK-NOPE" in str(unknown.value)


def test_a_technician_may_not_fix_a_baseline(baseline_batches, technician):
    from django.core.exceptions import PermissionDenied

    trends.scan_trends()
    with pytest.raises(PermissionDenied):
        trends.trend_baseline_fix(
            actor=technician,
            password=PASSWORD,
            attribute=tnc_attribute(),
            lots=[b.lot_number for b in baseline_batches],
            reason="not mine to fix",
        )


def test_a_point_beyond_the_limits_raises_one_signal_and_notice(
    baseline_batches, qa, technician, approved_template
):
    trends.scan_trends()
    trends.trend_baseline_fix(
        actor=qa,
        password=PASSWORD,
        attribute=tnc_attribute(),
        lots=[b.lot_number for b in baseline_batches],
        reason="baseline",
    )
    odd = thawed_batch(technician, approved_template, 5.0e8, timezone.now() - timedelta(hours=1))
    result = trends.scan_trends()
    assert result.signals == 1
    signal = TrendSignal.objects.get()
    assert signal.point.batch == odd
    assert signal.rule == str(spc.Rule.BEYOND_3_SIGMA)
    notices = Notification.objects.filter(trend_signal=signal)
    assert {(n.recipient, n.channel) for n in notices} == {
        (qa, Channel.EMAIL),
        (qa, Channel.IN_APP),
    }
    assert unread_notices(qa).filter(trend_signal=signal).exists()
    # Scanned again (and the batch read again in the overlap): nothing new.
    assert trends.scan_trends(now=timezone.now() + timedelta(minutes=1)).signals == 0
    assert TrendSignal.objects.count() == 1 and notices.count() == 2
    assert [s.pk for s in trend_selectors.open_signals()] == [signal.pk]

    assessed = trends.trend_signal_assess(
        actor=qa,
        password=PASSWORD,
        signal=signal,
        assessment="investigation",
        comment="Post-thaw TNC far below the process; unit handling to be checked.",
        investigation_reference="INV-2026-014",
    )
    assert assessed.assessed_by == qa
    assert not unread_notices(qa).filter(trend_signal=signal).exists()
    assert not trend_selectors.open_signals().exists()
    with pytest.raises(ValidationError, match="already assessed"):
        trends.trend_signal_assess(
            actor=qa,
            password=PASSWORD,
            signal=signal,
            assessment="no_action",
            comment="second thoughts",
        )


def test_an_investigation_must_be_named(baseline_batches, qa):
    trends.scan_trends()
    point = TrendPoint.objects.filter(attribute__key=TNC).earliest("observed_at")
    attribute = tnc_attribute()
    baseline = trends.trend_baseline_fix(
        actor=qa,
        password=PASSWORD,
        attribute=attribute,
        lots=[b.lot_number for b in baseline_batches],
        reason="baseline",
    )
    signal = TrendSignal.objects.create(
        point=point, baseline=baseline, rule="made up", value=1.0, raised_at=timezone.now()
    )
    with pytest.raises(ValidationError) as refused:
        trends.trend_signal_assess(
            actor=qa, password=PASSWORD, signal=signal, assessment="investigation", comment="x"
        )
    assert "investigation_reference" in refused.value.message_dict


def test_the_chart_reads_limits_signals_and_capability(baseline_batches, qa, settings):
    settings.TREND_CAPABILITY_MIN_POINTS = 10
    trends.scan_trends()
    attribute = tnc_attribute()
    chart = trend_selectors.attribute_chart(attribute)
    assert [p.value for p in chart.points] == pytest.approx(BASELINE_TNC)
    assert chart.limits is None  # no baseline yet
    trends.trend_baseline_fix(
        actor=qa,
        password=PASSWORD,
        attribute=attribute,
        lots=[b.lot_number for b in baseline_batches],
        reason="baseline",
    )
    chart = trend_selectors.attribute_chart(attribute)
    assert chart.limits is not None
    assert chart.limits.centre == pytest.approx(sum(BASELINE_TNC) / 10)
    if attribute.spec_lower is None and attribute.spec_upper is None:
        assert chart.capability is None and "No specification" in chart.capability_missing
    else:
        assert chart.capability is not None and chart.capability.points == 10
