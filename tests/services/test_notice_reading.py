"""Notices: their recipient marks them read (one, or all), and a notice goes from the unread
list and badge by itself once its cause is resolved (the test reviewed, the visit recorded)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from batches.services import clinical
from qc.models import Notification, QcTest, QcTestDefinition
from qc.presenters.notices import unread_count
from qc.selectors.notices import in_app_notices, unread_notices
from qc.services import notices, overdue, results
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def overdue_test(planned_batch, approved_spec_set, qc_analyst):
    """An endotoxin test past its review time, flagged by the scan: the analyst is told."""
    now = timezone.now()
    test = QcTest.objects.create(
        batch=planned_batch,
        definition=QcTestDefinition.objects.get(spec_set__status="approved", code="endotoxin"),
        triggered_at=now - timedelta(hours=40),
        sample_due_at=now - timedelta(hours=30),
        due_at=now - timedelta(hours=1),
    )
    overdue.scan_overdue()
    return test


def test_an_overdue_notice_resolves_once_the_test_is_reviewed(overdue_test, qc_analyst):
    mine = unread_notices(qc_analyst).filter(alert__test=overdue_test)
    assert mine.exists() and unread_count(qc_analyst) == mine.count()
    results.qc_result_enter(actor=qc_analyst, test=overdue_test, value="0.5", unit="EU/mL")
    # Resulted, the review is still overdue: the notice stands.
    assert unread_notices(qc_analyst).filter(alert__test=overdue_test).exists()
    reviewer = UserFactory.create(username="qc-b", role="qc_analyst")
    results.qc_result_review(actor=reviewer, password=PASSWORD, test=overdue_test)
    assert unread_count(qc_analyst) == 0
    listed = in_app_notices(qc_analyst).filter(alert__test=overdue_test)
    assert listed.exists() and not any(n.cause_open for n in listed)  # type: ignore[attr-defined]
    assert all(n.read_at is None for n in listed)  # resolved, not marked read


def test_a_visit_notice_resolves_once_the_visit_is_recorded(infusion, clinical):
    visit = infusion.visits.get(day=3)
    treating = infusion.recipient.treating_clinician
    notices.notify_visits_overdue(visits=[visit], now=timezone.now())
    assert unread_notices(treating).filter(visit=visit).count() == 1
    clinical_recorded = clinical_visit_done(visit, clinical)
    assert clinical_recorded.done_at is not None
    assert not unread_notices(treating).filter(visit=visit).exists()


def clinical_visit_done(visit, actor):
    return clinical.follow_up_record(actor=actor, visit=visit, done_at=timezone.now())


def test_the_recipient_marks_one_notice_read_and_nobody_else_may(overdue_test, qc_analyst):
    note = unread_notices(qc_analyst).earliest("id")
    stranger = UserFactory.create(username="qc-c", role="qc_analyst")
    with pytest.raises(PermissionDenied):
        notices.notice_mark_read(actor=stranger, notice=note)
    before = unread_count(qc_analyst)
    read = notices.notice_mark_read(actor=qc_analyst, notice=note)
    assert read.read_at is not None and unread_count(qc_analyst) == before - 1
    when = read.read_at
    assert notices.notice_mark_read(actor=qc_analyst, notice=note).read_at == when  # once


def test_mark_all_read_touches_only_the_recipients_in_app_notices(overdue_test, qc_analyst):
    other = UserFactory.create(username="qc-d", role="qc_analyst")
    Notification.objects.filter(recipient=qc_analyst).update(created_at=timezone.now())
    theirs = Notification.objects.create(
        recipient=other, channel="in_app", subject="s", body="b", created_at=timezone.now()
    )
    count = unread_count(qc_analyst)
    assert count > 0
    assert notices.notices_mark_all_read(actor=qc_analyst) == count
    assert unread_count(qc_analyst) == 0
    assert Notification.objects.filter(recipient=qc_analyst, channel="email", read_at=None)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_pages_mark_read_and_refuse_another_persons_notice(client, overdue_test, qc_analyst):
    note = unread_notices(qc_analyst).earliest("id")
    client.force_login(UserFactory.create(username="qc-e", role="qc_analyst"))
    assert client.post(reverse("qc-notice-read", args=[note.pk])).status_code == 404
    client.force_login(qc_analyst)
    assert client.get(reverse("qc-notice-read", args=[note.pk])).status_code == 405
    page = client.get(reverse("qc-notices")).content.decode()
    assert (
        "Mark all read" in page and f'action="{reverse("qc-notice-read", args=[note.pk])}"' in page
    )
    assert client.post(reverse("qc-notice-read", args=[note.pk])).status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None
    assert client.post(reverse("qc-notices-read-all")).status_code == 302
    assert unread_count(qc_analyst) == 0
