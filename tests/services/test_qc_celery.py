"""A real Celery worker, consuming from the real Redis broker, runs the overdue scan task."""

import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from carnk_mfg.celery import app
from qc.models import QcAlert, QcTest, QcTestDefinition
from qc.tasks import scan_overdue_qc
from tests.factories import PASSWORD, CordBloodUnitFactory


@pytest.mark.django_db(transaction=True)
def test_worker_executes_the_scan_task_and_flags_a_test(
    technician, approved_template, lots, qa, settings
):
    from batches.services.batch_record import batch_create
    from qc.models import QcSpecSet
    from qc.services.specs import qc_spec_set_approve

    qc_spec_set_approve(actor=qa, password=PASSWORD, spec_set=QcSpecSet.objects.get(version=1))
    batch = batch_create(
        actor=technician,
        source_unit=CordBloodUnitFactory.create(),
        template=approved_template,
        unit_fraction_used_pct=Decimal("100"),
    )
    past = timezone.now() - timedelta(hours=30)
    test = QcTest.objects.create(
        batch=batch,
        definition=QcTestDefinition.objects.get(code="endotoxin"),
        triggered_at=past,
        sample_due_at=past,
        due_at=past + timedelta(hours=24),
    )
    # A queue of this test's own, so messages left by other runs on the shared broker
    # cannot interfere.
    queue = f"test-qc-{uuid.uuid4().hex[:8]}"
    assert app.conf.broker_url.startswith(("redis://", "redis+socket://"))
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30
    ):
        scan_overdue_qc.apply_async(queue=queue)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            test.refresh_from_db()
            if test.overdue_flagged_at is not None:
                break
            time.sleep(0.2)
    assert test.overdue_flagged_at is not None
    assert QcAlert.objects.filter(test=test, kind="overdue").count() == 1
