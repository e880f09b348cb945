"""Overdue flagging under concurrency: two scans at once never flag a test twice. The rules of
QC plans, results, review and flagging are proven in tests/services/test_qc_*.py."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection

from qc.models import Notification, QcAlert, QcTest
from qc.services import overdue
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def make_test(batch, code="endotoxin", due_in=timedelta(hours=24), at=T0):
    from qc.models import QcTestDefinition

    definition = QcTestDefinition.objects.get(spec_set__status="approved", code=code)
    return QcTest.objects.create(
        batch=batch,
        definition=definition,
        triggered_at=at,
        sample_due_at=at,
        due_at=at + due_in,
    )


@pytest.mark.django_db(transaction=True)
def test_two_scans_in_parallel_never_double_flag(technician, approved_template, lots, qa):
    from batches.services.batch_record import batch_create
    from qc.models import QcSpecSet
    from qc.services.specs import qc_spec_set_approve
    from tests.factories import CordBloodUnitFactory

    qc_spec_set_approve(actor=qa, password=PASSWORD, spec_set=QcSpecSet.objects.get(version=1))
    UserFactory.create(username="qcA", role="qc_analyst")
    batch = batch_create(
        actor=technician,
        source_unit=CordBloodUnitFactory.create(),
        template=approved_template,
        unit_fraction_used_pct=Decimal(100),
    )
    for _ in range(200):
        make_test(batch, due_in=timedelta(hours=1))
    barrier = threading.Barrier(2)
    counts = []

    def scan():
        barrier.wait()
        counts.append(overdue.scan_overdue(now=T0 + timedelta(hours=2)).overdue)
        connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 200, counts
    assert QcAlert.objects.filter(kind="overdue").count() == 200
    assert Notification.objects.count() == 200 * 2
    assert len([m for m in mail.outbox if "overdue" in m.subject]) == 200
