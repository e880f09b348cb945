"""Overdue flagging and the notification outbox (qc/services/overdue.py), called directly,
with the scan's clock passed in."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from batches.models import FollowUpVisit
from qc.models import Notification, QcAlert, QcTest, QcTestDefinition
from qc.selectors import overdue_q
from qc.services import overdue
from tests.factories import UserFactory
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


@pytest.fixture
def endotoxin(running_batch, approved_spec_set):
    return a_test(running_batch, 10)


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


def test_scan_flags_an_overdue_follow_up_visit_for_clinical(infusion, clinical):
    visit = FollowUpVisit.objects.get(infusion=infusion, day=3)
    when = visit.due_at + timedelta(hours=1)
    assert overdue.scan_overdue(now=when).visits_overdue == 1
    visit.refresh_from_db()
    assert visit.overdue_flagged_at == when
    assert {n.recipient for n in Notification.objects.filter(visit=visit)} == {clinical}
    assert_trailed(visit, actor=None, reason="Follow-up overdue scan", label="update")
    assert overdue.scan_overdue(now=when).visits_overdue == 0


# --- the outbox ---


def notices(test, users, channel="email"):
    alert = QcAlert.objects.create(test=test, kind="overdue", raised_at=timezone.now())
    return [
        Notification.objects.create(
            alert=alert,
            channel=channel,
            recipient=user,
            subject="QC overdue: Endotoxin",
            body="Due",
            created_at=timezone.now() - timedelta(minutes=len(users) - i),
        )
        for i, user in enumerate(users)
    ]


def test_send_outbox_delivers_each_notice_once(endotoxin, qc_analyst):
    UserFactory(username="noemail", email="", role="qc_analyst")
    users = [qc_analyst, type(qc_analyst).objects.get(username="noemail")]
    email = notices(endotoxin, users)
    assert overdue.send_outbox() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([qc_analyst.email, "noemail@localhost"])
    assert all(n.sent_at for n in Notification.objects.filter(pk__in=[n.pk for n in email]))
    assert overdue.send_outbox() == 0
    assert len(mail.outbox) == 2


def test_send_outbox_delivers_in_app_notices_without_mail(endotoxin, qc_analyst):
    (note,) = notices(endotoxin, [qc_analyst], channel="in_app")
    assert overdue.send_outbox() == 1
    assert Notification.objects.get(pk=note.pk).sent_at is not None
    assert mail.outbox == []


def test_send_outbox_takes_at_most_its_limit_oldest_first(endotoxin, qc_analyst, other_analyst):
    oldest, newest = notices(endotoxin, [qc_analyst, other_analyst])
    assert overdue.send_outbox(limit=1) == 1
    assert Notification.objects.get(pk=oldest.pk).sent_at is not None
    assert Notification.objects.get(pk=newest.pk).claimed_at is None


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionError("mail server down")


def test_send_outbox_unclaims_what_fails_so_the_next_scan_retries(endotoxin, qc_analyst, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    (note,) = notices(endotoxin, [qc_analyst])
    assert overdue.send_outbox() == 0
    note.refresh_from_db()
    assert (note.claimed_at, note.sent_at) == (None, None)
