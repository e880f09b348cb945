"""QA's signed trend records, held by the database as the application's own role: a baseline's
limits are never edited or removed, and a signal's signed assessment, and what fired, are
final."""

import pytest
from django.utils import timezone
from psycopg2 import errors

from qc.models import TrendBaseline, TrendSignal
from qc.services import trends
from tests.db.test_app_role import app_db  # noqa: F401 - the fixture, used by name below
from tests.factories import PASSWORD
from tests.trend_batches import tnc_attribute

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def baseline(baseline_batches, qa):
    trends.scan_trends()
    return trends.trend_baseline_fix(
        actor=qa,
        password=PASSWORD,
        attribute=tnc_attribute(),
        lots=[b.lot_number for b in baseline_batches],
        reason="baseline",
    )


@pytest.fixture
def signal(baseline):
    return TrendSignal.objects.create(
        point=baseline.points.earliest("observed_at"),
        baseline=baseline,
        rule="1 point beyond 3 sigma",
        value=1.0,
        raised_at=timezone.now(),
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE qc_trendbaseline SET sigma = sigma * 2 WHERE id = %s",
        "DELETE FROM qc_trendbaseline WHERE id = %s",
    ],
    ids=["edit", "remove"],
)
def test_a_signed_baseline_stays(app_db, baseline, statement):  # noqa: F811
    with pytest.raises(errors.RaiseException):
        app_db((statement, [baseline.pk]))
    assert TrendBaseline.objects.get(pk=baseline.pk).sigma == baseline.sigma


def test_what_fired_never_changes(app_db, signal):  # noqa: F811
    with pytest.raises(errors.RaiseException, match="stay as they are"):
        app_db(("UPDATE qc_trendsignal SET rule = 'nothing' WHERE id = %s", [signal.pk]))
    with pytest.raises(errors.RaiseException):
        app_db(("DELETE FROM qc_trendsignal WHERE id = %s", [signal.pk]))


def test_a_signed_assessment_is_final(app_db, signal, qa):  # noqa: F811
    trends.trend_signal_assess(
        actor=qa, password=PASSWORD, signal=signal, assessment="no_action", comment="Within noise."
    )
    with pytest.raises(errors.RaiseException, match="stay as they are"):
        app_db(
            (
                "UPDATE qc_trendsignal SET assessment_comment = 'rewritten' WHERE id = %s",
                [signal.pk],
            )
        )
    assert TrendSignal.objects.get(pk=signal.pk).assessment_comment == "Within noise."


def test_an_assessment_without_its_signer_is_refused(app_db, signal):  # noqa: F811
    with pytest.raises(errors.CheckViolation, match="trend_signal_assessment_whole"):
        app_db(
            (
                "UPDATE qc_trendsignal SET assessment = 'no_action', assessment_comment = 'x'"
                " WHERE id = %s",
                [signal.pk],
            )
        )
