"""The warning before a training expires: a real Celery worker on the real Redis broker runs
the scan; the trainee and their supervisor are told once per record, however often it runs."""

import time
import uuid
from datetime import date, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from batches.models import TrainingRecord
from batches.services import training
from batches.tasks import scan_training_expiring
from carnk_mfg.celery import app
from qc.models import Notification
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.clause("21 CFR 1271.170")]


def trained(qa, *, expires_in_days: int):
    procedure = training.procedure_create(actor=qa, code="SOP-MFG-020", title="Transduction")
    version = training.procedure_version_issue(
        actor=qa, procedure=procedure, effective_on=date(2020, 1, 1), document_reference="DMS-20"
    )
    trainee = UserFactory.create(username="trainee", role="technician", email="t@lab.test")
    supervisor = UserFactory.create(username="lead", role="technician", email="l@lab.test")
    training.supervisor_set(actor=qa, person=trainee, supervisor=supervisor)
    record = training.training_record_create(
        actor=qa,
        password=PASSWORD,
        procedure_version=version,
        trainee=trainee,
        trained_by=supervisor,
        trained_on=timezone.localdate() - timedelta(days=300),
        assessment="passed",
        expires_on=timezone.localdate() + timedelta(days=expires_in_days),
    )
    return record, trainee, supervisor


@pytest.mark.django_db(transaction=True)
def test_the_worker_warns_trainee_and_supervisor_once_per_record(qa):
    record, trainee, supervisor = trained(qa, expires_in_days=20)
    queue = f"test-training-{uuid.uuid4().hex[:8]}"
    assert app.conf.broker_url.startswith(("redis://", "redis+socket://"))
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30
    ):
        for _ in range(2):  # a second run finds nothing left to warn about
            scan_training_expiring.apply_async(queue=queue)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            record.refresh_from_db()
            if record.expiry_warned_at is not None:
                break
            time.sleep(0.2)
        time.sleep(1)  # let the second message run too
    assert record.expiry_warned_at is not None
    notices = Notification.objects.filter(training=record)
    assert sorted((n.recipient.username, n.channel) for n in notices) == [
        ("lead", "email"),
        ("lead", "in_app"),
        ("trainee", "email"),
        ("trainee", "in_app"),
    ]
    assert all("SOP-MFG-020 v1" in n.subject for n in notices)
    assert training.training_expiry_scan() == 0
    assert Notification.objects.filter(training=record).count() == 4


@pytest.mark.django_db
def test_a_training_far_from_expiry_is_not_warned_about(qa):
    record, _trainee, _supervisor = trained(qa, expires_in_days=60)
    assert training.training_expiry_scan() == 0
    assert TrainingRecord.objects.get(pk=record.pk).expiry_warned_at is None
    later = timezone.now() + timedelta(days=31)
    assert training.training_expiry_scan(now=later) == 1
