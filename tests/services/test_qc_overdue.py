"""Overdue flagging and the notification outbox (qc/services/overdue.py), called directly,
with the scan's clock passed in."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carnk_mfg.audit import audit_history
from qc.models import Notification, QcAlert, QcTest, QcTestDefinition
from qc.selectors import overdue_q
from qc.services import overdue
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


def a_test(batch, due_in_hours):
    definition = QcTestDefinition.objects.get(spec_set__status="approved", code="endotoxin")
    now = timezone.now()
    return QcTest.objects.create(
        batch=batch,
        definition=definition,
        triggered_at=now - timedelta(hours=1),
        sample_due_at=now - timedelta(hours=1),
        due_at=now + timedelta(hours=due_in_hours),
    )


def test_unflagged_selects_open_unflagged_tests_soonest_first(running_batch, approved_spec_set):
    later, sooner, flagged, closed = (a_test(running_batch, h) for h in (-1, -5, -3, -4))
    QcTest.objects.filter(pk=flagged.pk).update(overdue_flagged_at=timezone.now())
    QcTest.objects.filter(pk=closed.pk).update(state="reviewed")
    found = overdue.unflagged(
        flag_field="overdue_flagged_at", selects=overdue_q(now=timezone.now())
    )
    assert list(found) == [sooner, later]


def test_scan_flags_an_overdue_test_once_and_tells_qc(endotoxin, qc_analyst, other_analyst):
    when = endotoxin.due_at + timedelta(seconds=1)
    result = overdue.scan_overdue(now=when)
    assert (result.overdue, result.due_soon, result.escalated) == (1, 0, 0)
    endotoxin.refresh_from_db()
    assert endotoxin.overdue_flagged_at == when
    alert = QcAlert.objects.get(test=endotoxin, kind="overdue", cleared_at__isnull=True)
    told = Notification.objects.filter(alert=alert)
    assert {n.recipient for n in told} == {qc_analyst, other_analyst}
    assert told.count() == 4 and result.sent == 4
    assert len(mail.outbox) == 2 and mail.outbox[0].subject.startswith("QC overdue")
    assert_trailed(endotoxin, actor=None, reason="QC overdue scan", label="update")
    with unchanged(endotoxin):
        again = overdue.scan_overdue(now=when + timedelta(minutes=1))
    assert (again.overdue, again.sent) == (0, 0)


def test_scan_warns_before_due_and_escalates_to_qa_later(endotoxin, qc_analyst, qa, settings):
    settings.QC_DUE_SOON_LEAD_HOURS = 4
    settings.QC_ESCALATION_DELAY_HOURS = 24
    due = endotoxin.due_at
    assert overdue.scan_overdue(now=due - timedelta(hours=4, seconds=1)).due_soon == 0
    assert overdue.scan_overdue(now=due - timedelta(hours=4)).due_soon == 1
    assert overdue.scan_overdue(now=due + timedelta(hours=1)).overdue == 1
    assert overdue.scan_overdue(now=due + timedelta(hours=24, seconds=-1)).escalated == 0
    assert overdue.scan_overdue(now=due + timedelta(hours=24)).escalated == 1
    escalation = Notification.objects.filter(alert__kind="escalated")
    assert {n.recipient for n in escalation} == {qa}
    assert_trailed(endotoxin, actor=None, reason="QC escalation scan")


def test_scan_leaves_closed_tests_alone(endotoxin):
    QcTest.objects.filter(pk=endotoxin.pk).update(state="reviewed")
    with unchanged(endotoxin):
        result = overdue.scan_overdue(now=endotoxin.due_at + timedelta(days=3))
    assert (result.due_soon, result.overdue, result.escalated) == (0, 0, 0)


def test_scan_queries_do_not_grow_with_the_tests_it_flags(
    running_batch, approved_spec_set, qc_analyst, qa
):
    # A day and more overdue: each test is flagged overdue and escalated to QA in one scan,
    # so both questions write alerts and notices, and everything written is sent.
    queries = {}
    for newly in (5, 50):
        tests = [a_test(running_batch, -30) for _ in range(newly)]
        with CaptureQueriesContext(connection) as captured:
            result = overdue.scan_overdue()
        assert (result.overdue, result.escalated, result.sent) == (newly, newly, newly * 4)
        queries[newly] = len(captured)
        # The set-based flagging still leaves each test its own trail events, who and why.
        for test in tests:
            flagged = [e.pgh_context for e in audit_history(test) if e.pgh_label == "update"]
            assert [(c["actor_name"], c["reason"]) for c in flagged] == [
                ("system", "QC overdue scan"),
                ("system", "QC escalation scan"),
            ]
    assert queries[5] == queries[50], queries
    assert len([m for m in mail.outbox if m.subject.startswith("QC escalated")]) == 55
