"""Overdue flagging at the edge of due time, and the alert that stays until review
(qc/services/overdue.py, qc/services/results.py), called directly with the clock controlled."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from qc.models import QcAlert, QcTest, QcTestDefinition
from qc.services import overdue, results
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def make_test(batch, code="endotoxin", due_in=timedelta(hours=24), at=T0):
    definition = QcTestDefinition.objects.get(spec_set__status="approved", code=code)
    return QcTest.objects.create(
        batch=batch, definition=definition, triggered_at=at, sample_due_at=at, due_at=at + due_in
    )


def test_a_test_becomes_overdue_exactly_after_due_at(planned_batch, approved_spec_set, qc_analyst):
    test = make_test(planned_batch)
    with time_machine.travel(test.due_at, tick=False):
        assert overdue.scan_overdue().overdue == 0  # at due_at: not yet
    with time_machine.travel(test.due_at + timedelta(microseconds=1), tick=False):
        assert overdue.scan_overdue().overdue == 1
    test.refresh_from_db()
    assert test.overdue_flagged_at == test.due_at + timedelta(microseconds=1)
    assert QcAlert.objects.filter(test=test, kind="overdue", cleared_at__isnull=True).count() == 1


def test_the_overdue_alert_stays_through_the_result_and_clears_on_review(
    planned_batch, approved_spec_set, qc_analyst
):
    reviewer = UserFactory.create(username="qc2", role="qc_analyst")
    test = make_test(planned_batch)
    with time_machine.travel(T0 + timedelta(hours=30), tick=False):
        overdue.scan_overdue()
        test = results.qc_result_enter(actor=qc_analyst, test=test, value="0.5", unit="EU/mL")
        assert test.in_spec is True
        assert QcTest.objects.filter(pk=test.pk, overdue_flagged_at__isnull=False).exists()
        assert QcAlert.objects.filter(test=test, cleared_at__isnull=True).count() == 1
        results.qc_result_review(actor=reviewer, password=PASSWORD, test=test)
    assert QcAlert.objects.filter(test=test, cleared_at__isnull=True).count() == 0
    with time_machine.travel(T0 + timedelta(hours=60), tick=False):
        assert overdue.scan_overdue().escalated == 0  # reviewed tests are closed
