"""Who is told, the recall notice and the outbox (qc/services/notices.py), called directly."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from batches.models import LookbackEntry, Recall
from carnk_mfg.roles import Role
from qc.models import Notification, QcAlert
from qc.services import notices
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_role_members_are_the_active_people_with_an_address(qc_analyst, qa):
    UserFactory.create(username="qc-gone", role=Role.QC_ANALYST, is_active=False)
    UserFactory.create(username="qc-noaddress", role=Role.QC_ANALYST, email="")
    assert notices.role_members(Role.QC_ANALYST) == [qc_analyst]


def test_role_members_fall_back_to_everyone_when_nobody_has_an_address(db):
    people = {UserFactory.create(username=f"c{n}", role=Role.CLINICAL, email="") for n in range(2)}
    assert set(notices.role_members(Role.CLINICAL)) == people


def test_role_members_of_an_empty_role(db):
    assert notices.role_members(Role.QA) == []


def a_recall(batch, raised_by):
    return Recall.objects.create(
        batch=batch, reason="Sterility positive", raised_by=raised_by, raised_at=timezone.now()
    )


def test_notify_recall_tells_qa_and_clinical_once_each_by_both_channels(
    planned_batch, qa, clinical, technician, every_gmp_role, django_capture_on_commit_callbacks
):
    recall = a_recall(planned_batch, qa)
    # QA and every clinician: the recipient's treating clinician is one more.
    treating = planned_batch.intended_recipient.treating_clinician
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.notify_recall(recall) == 4 * 2
    rows = Notification.objects.filter(recall=recall)
    assert {n.recipient for n in rows} == {qa, clinical, every_gmp_role, treating}
    assert {n.channel for n in rows} == {"email", "in_app"}
    note = rows.first()
    assert note is not None
    assert note.subject == f"RECALL: batch {planned_batch.lot_number} (DIN {planned_batch.din})"
    assert "Sterility positive" in note.body
    assert "No bag of this batch has been infused." in note.body
    assert len(mail.outbox) == 4  # sent as soon as the recall commits
    assert all(n.sent_at for n in rows)


def test_notify_recall_names_the_bags_already_infused(infusion, qa):
    recall = a_recall(infusion.dose_unit.batch, qa)
    LookbackEntry.objects.create(
        recall=recall,
        dose_unit=infusion.dose_unit,
        recipient=infusion.recipient,
        infusion=infusion,
        infused_at=infusion.started_at,
    )
    notices.notify_recall(recall)
    note = Notification.objects.filter(recall=recall).first()
    assert note is not None
    body = note.body
    assert f"Already infused (lookback): {infusion.dose_unit} into CARNK-QC." in body


def test_notify_recall_sends_nothing_before_the_recall_commits(
    planned_batch, qa, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        notices.notify_recall(a_recall(planned_batch, qa))
    assert len(waiting) == 1 and mail.outbox == []
    assert not Notification.objects.filter(sent_at__isnull=False).exists()


# --- the outbox the scans fill ---


def queued(test, users, channel="email"):
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
    UserFactory.create(username="noemail", email="", role="qc_analyst")
    users = [qc_analyst, type(qc_analyst).objects.get(username="noemail")]
    email = queued(endotoxin, users)
    assert notices.send_outbox() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([qc_analyst.email, "noemail@localhost"])
    assert all(n.sent_at for n in Notification.objects.filter(pk__in=[n.pk for n in email]))
    assert notices.send_outbox() == 0
    assert len(mail.outbox) == 2


def test_send_outbox_delivers_in_app_notices_without_mail(endotoxin, qc_analyst):
    (note,) = queued(endotoxin, [qc_analyst], channel="in_app")
    assert notices.send_outbox() == 1
    assert Notification.objects.get(pk=note.pk).sent_at is not None
    assert mail.outbox == []


def test_send_outbox_takes_at_most_its_limit_oldest_first(endotoxin, qc_analyst, other_analyst):
    oldest, newest = queued(endotoxin, [qc_analyst, other_analyst])
    assert notices.send_outbox(limit=1) == 1
    assert Notification.objects.get(pk=oldest.pk).sent_at is not None
    assert Notification.objects.get(pk=newest.pk).claimed_at is None


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionError("mail server down")


def test_send_outbox_unclaims_what_fails_so_the_next_scan_retries(endotoxin, qc_analyst, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    (note,) = queued(endotoxin, [qc_analyst])
    assert notices.send_outbox() == 0
    note.refresh_from_db()
    assert (note.claimed_at, note.sent_at) == (None, None)
