"""QC plan, results, review, and overdue flagging with controlled time (time-machine)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from batches.models import Deviation
from batches.services import batch_record, lifecycle
from qc.models import Notification, QcAlert, QcTest
from qc.services import overdue, results
from tests.batch_steps import step_payloads
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


@pytest.fixture
def analysts(qc_analyst):
    second = UserFactory(username="qc2", role="qc_analyst")
    return qc_analyst, second


def test_harvest_step_creates_the_release_panel_with_due_dates(
    technician, approved_spec_set, planned_batch
):
    batch = planned_batch
    lifecycle.batch_transition(actor=technician, batch=batch, to_state="in_process", reason="go")
    day0 = timezone.now() - timedelta(days=15)
    steps = {s.code: s for s in batch.template.steps.all()}
    for code, at, values, materials in step_payloads(day0, din=batch.source_unit.din):
        batch_record.step_record(
            actor=technician,
            password=PASSWORD,
            batch=batch,
            template_step=steps[code],
            performed_at=at,
            values=values,
            materials=materials,
        )
    tests = {t.definition.code: t for t in QcTest.objects.filter(batch=batch)}
    assert len(tests) == 11
    harvest_at = day0 + timedelta(days=14)
    assert tests["endotoxin"].due_at == harvest_at + timedelta(hours=24)
    assert tests["sterility"].due_at == harvest_at + timedelta(days=14)


def test_a_test_becomes_overdue_exactly_after_due_at(planned_batch, approved_spec_set, analysts):
    test = make_test(planned_batch)
    with time_machine.travel(test.due_at, tick=False):
        assert overdue.scan_overdue().overdue == 0  # at due_at: not yet
    with time_machine.travel(test.due_at + timedelta(microseconds=1), tick=False):
        assert overdue.scan_overdue().overdue == 1
    test.refresh_from_db()
    assert test.overdue_flagged_at == test.due_at + timedelta(microseconds=1)
    assert QcAlert.objects.filter(test=test, kind="overdue", cleared_at__isnull=True).count() == 1


def test_repeated_scans_raise_one_alert_and_one_notification_each(
    planned_batch, approved_spec_set, analysts
):
    tests = [make_test(planned_batch) for _ in range(3)]
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        for _ in range(4):
            overdue.scan_overdue()
    assert QcAlert.objects.filter(kind="overdue").count() == 3
    # two analysts x (email + in-app) per test
    assert Notification.objects.filter(alert__kind="overdue").count() == 3 * 2 * 2
    overdue_mail = [m for m in mail.outbox if m.subject.startswith("QC overdue")]
    assert len(overdue_mail) == 3 * 2
    assert Notification.objects.filter(sent_at__isnull=True).count() == 0
    assert all(t.alerts.count() >= 1 for t in tests)


@pytest.mark.django_db(transaction=True)
def test_two_scans_in_parallel_never_double_flag(technician, approved_template, lots, qa):
    from batches.services.batch_record import batch_create
    from qc.models import QcSpecSet
    from qc.services.specs import qc_spec_set_approve
    from tests.factories import CordBloodUnitFactory

    qc_spec_set_approve(actor=qa, password=PASSWORD, spec_set=QcSpecSet.objects.get(version=1))
    UserFactory(username="qcA", role="qc_analyst")
    batch = batch_create(
        actor=technician,
        source_unit=CordBloodUnitFactory(),
        template=approved_template,
        unit_fraction_used_pct=100,
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


def test_flags_clear_on_result_and_review(planned_batch, approved_spec_set, analysts):
    analyst, reviewer = analysts
    test = make_test(planned_batch)
    with time_machine.travel(T0 + timedelta(hours=30), tick=False):
        overdue.scan_overdue()
        test = results.qc_result_enter(actor=analyst, test=test, value="0.5", unit="EU/mL")
        assert test.in_spec is True
        assert QcTest.objects.filter(pk=test.pk, overdue_flagged_at__isnull=False).exists()
        assert QcAlert.objects.filter(test=test, cleared_at__isnull=True).count() == 1
        results.qc_result_review(actor=reviewer, password=PASSWORD, test=test)
    assert QcAlert.objects.filter(test=test, cleared_at__isnull=True).count() == 0
    with time_machine.travel(T0 + timedelta(hours=60), tick=False):
        assert overdue.scan_overdue().escalated == 0  # reviewed tests are closed


def test_due_soon_and_escalation_fire_at_their_times(
    planned_batch, approved_spec_set, analysts, qa, settings
):
    settings.QC_DUE_SOON_LEAD_HOURS = 4
    settings.QC_ESCALATION_DELAY_HOURS = 24
    test = make_test(planned_batch, due_in=timedelta(hours=10))
    due = test.due_at
    with time_machine.travel(due - timedelta(hours=4, seconds=1), tick=False):
        assert overdue.scan_overdue().due_soon == 0
    with time_machine.travel(due - timedelta(hours=4), tick=False):
        assert overdue.scan_overdue().due_soon == 1
    with time_machine.travel(due + timedelta(hours=24, seconds=-1), tick=False):
        result = overdue.scan_overdue()
        assert (result.overdue, result.escalated) == (1, 0)
    with time_machine.travel(due + timedelta(hours=24), tick=False):
        assert overdue.scan_overdue().escalated == 1
        assert overdue.scan_overdue().escalated == 0
    escalation = Notification.objects.filter(alert__kind="escalated")
    assert {n.recipient for n in escalation} == {qa}


@pytest.mark.parametrize(
    "code, value, unit, field",
    [
        ("endotoxin", "abc", "EU/mL", "value"),
        ("endotoxin", True, "EU/mL", "value"),
        ("endotoxin", "1.0", "furlongs", "unit"),
        ("sterility", "maybe", "", "value"),
        ("endotoxin", "nan", "EU/mL", "value"),
    ],
)
def test_bad_results_are_refused_clearly(
    planned_batch, approved_spec_set, analysts, code, value, unit, field
):
    test = make_test(planned_batch, code=code, at=timezone.now() - timedelta(hours=1))
    with pytest.raises(ValidationError) as exc:
        results.qc_result_enter(actor=analysts[0], test=test, value=value, unit=unit)
    assert field in exc.value.message_dict
    test.refresh_from_db()
    assert test.state == "planned"


def test_result_before_sampling_is_due_is_refused(planned_batch, approved_spec_set, analysts):
    test = make_test(planned_batch, at=timezone.now() + timedelta(hours=5))
    with pytest.raises(ValidationError) as exc:
        results.qc_result_enter(actor=analysts[0], test=test, value="1", unit="EU/mL")
    assert "not due for sampling" in exc.value.message_dict["value"][0]


def test_both_micro_signs_are_one_unit(planned_batch, approved_spec_set, analysts):
    from qc.services.results import normalize_unit

    assert normalize_unit("cells/\u00b5L") == normalize_unit("cells/\u03bcL") == "cells/ul"


def test_reviewer_must_differ_from_analyst(planned_batch, approved_spec_set, analysts):
    analyst, _ = analysts
    test = make_test(planned_batch, at=timezone.now() - timedelta(hours=1))
    results.qc_result_enter(actor=analyst, test=test, value="1", unit="EU/mL")
    with pytest.raises(ValidationError) as exc:
        results.qc_result_review(actor=analyst, password=PASSWORD, test=test)
    assert "different person" in exc.value.message_dict["reviewer"][0]


def test_out_of_spec_opens_a_deviation_and_retest_keeps_the_original(
    planned_batch, approved_spec_set, analysts
):
    analyst, reviewer = analysts
    test = make_test(planned_batch, at=timezone.now() - timedelta(hours=1))
    test = results.qc_result_enter(actor=analyst, test=test, value="7.2", unit="EU/mL")
    assert test.in_spec is False
    assert "OUT OF SPEC" in test.evaluation
    deviation = Deviation.objects.get(batch=planned_batch)
    assert deviation.kind == "out_of_spec" and deviation.state == "open"
    planned_batch.refresh_from_db()
    assert planned_batch.state == "on_hold"
    retest = results.qc_retest(actor=analyst, test=test, reason="Sample handling suspected")
    assert retest.retest_of_id == test.pk
    test.refresh_from_db()
    assert test.result_numeric == 7.2


def test_cd3_at_release_is_a_percentage_of_the_product(planned_batch, approved_spec_set, analysts):
    """No recipient weight is needed to judge the batch; the per-kg limit is the dose's."""
    analyst, _ = analysts
    test = make_test(planned_batch, code="cd3_pct", at=timezone.now() - timedelta(hours=1))
    test = results.qc_result_enter(actor=analyst, test=test, value="0.4", unit="%")
    assert test.in_spec is True and "≤ 1 %" in test.evaluation
    other = make_test(planned_batch, code="cd3_pct", at=timezone.now() - timedelta(hours=1))
    other = results.qc_result_enter(actor=analyst, test=other, value="1.5", unit="%")
    assert other.in_spec is False
