"""Who is told, and the recall notice (qc/services/notices.py), called directly."""

import pytest
from django.core import mail
from django.utils import timezone

from batches.models import LookbackEntry, Recall
from carnk_mfg.roles import Role
from qc.models import Notification
from qc.services import notices
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_role_members_are_the_active_people_with_an_address(qc_analyst, qa):
    UserFactory(username="qc-gone", role=Role.QC_ANALYST, is_active=False)
    UserFactory(username="qc-noaddress", role=Role.QC_ANALYST, email="")
    assert notices.role_members(Role.QC_ANALYST) == [qc_analyst]


def test_role_members_fall_back_to_everyone_when_nobody_has_an_address(db):
    people = {UserFactory(username=f"c{n}", role=Role.CLINICAL, email="") for n in range(2)}
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
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.notify_recall(recall) == 3 * 2
    rows = Notification.objects.filter(recall=recall)
    assert {n.recipient for n in rows} == {qa, clinical, every_gmp_role}
    assert {n.channel for n in rows} == {"email", "in_app"}
    note = rows.first()
    assert note.subject == (
        f"RECALL: batch {planned_batch.lot_number} (CoI {planned_batch.coi_identifier})"
    )
    assert "Sterility positive" in note.body
    assert "No bag of this batch has been infused." in note.body
    assert len(mail.outbox) == 3  # sent as soon as the recall commits
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
    body = Notification.objects.filter(recall=recall).first().body
    assert f"Already infused (lookback): {infusion.dose_unit} into CARNK-QC." in body


def test_notify_recall_sends_nothing_before_the_recall_commits(
    planned_batch, qa, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        notices.notify_recall(a_recall(planned_batch, qa))
    assert len(waiting) == 1 and mail.outbox == []
    assert not Notification.objects.filter(sent_at__isnull=False).exists()
