"""Deviations classified with their root cause, and CAPAs (batches/services/capa.py): a
deviation is closed only classified, with its root cause and, when major or critical, a CAPA
(the service and the database as the app role); CAPAs raised, done by their owner, verified
by QA (signed); an overdue CAPA's owner told exactly once."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from psycopg2 import errors

from batches.models import Capa
from batches.selectors.capa import overdue_q
from batches.services import batch_record
from batches.services import capa as capa_services
from carnk_mfg.signatures import signatures_for
from qc.models import Notification
from tests.db.test_app_role import app_db  # noqa: F401  (the fixture: a connection as the app role)
from tests.factories import PASSWORD
from tests.services.trail import assert_trailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def deviation(running_batch, technician):
    return batch_record.deviation_open(
        actor=technician,
        batch=running_batch,
        kind="other",
        what="Incubator door left open",
        why="Alarm muted",
        impact="Temperature excursion of 10 minutes",
    )


def raise_capa(qa, deviations, owner, *, due_in=14):
    today = timezone.localdate()
    return capa_services.capa_raise(
        actor=qa,
        deviations=deviations,
        action="Unmutable door alarm; retrain staff",
        owner=owner,
        due_on=today + timedelta(days=due_in),
        effectiveness_check_on=today + timedelta(days=due_in + 30),
    )


def close(qa, deviation, **given):
    return batch_record.deviation_disposition(
        actor=qa,
        password=PASSWORD,
        deviation=deviation,
        disposition="accept",
        notes="Assessed",
        **given,
    )


def test_a_deviation_is_not_closed_without_classification_and_root_cause(deviation, qa):
    with pytest.raises(ValidationError) as refused:
        close(qa, deviation)
    assert set(refused.value.message_dict) == {"classification", "root_cause"}
    deviation.refresh_from_db()
    assert deviation.state == "open"
    closed = close(qa, deviation, classification="minor", root_cause="Alarm muted by habit")
    assert (closed.state, closed.classification, closed.classified_by) == ("closed", "minor", qa)


@pytest.mark.parametrize("classification", ["major", "critical"])
def test_a_major_or_critical_deviation_closes_only_with_a_capa(
    deviation, qa, technician, classification
):
    batch_record.deviation_classify(
        actor=qa, deviation=deviation, classification=classification, root_cause="Alarm design"
    )
    with pytest.raises(ValidationError, match="only with at least one CAPA"):
        close(qa, deviation)
    raise_capa(qa, [deviation], technician)
    assert close(qa, deviation).state == "closed"


def test_classifying_is_qas_and_trailed(deviation, qa, technician):
    with pytest.raises(Exception, match="classify_deviation"):
        batch_record.deviation_classify(
            actor=technician, deviation=deviation, classification="minor"
        )
    done = batch_record.deviation_classify(
        actor=qa, deviation=deviation, classification="major", root_cause="Design"
    )
    assert_trailed(done, actor=qa, reason=f"Deviation {done.pk} classified major")


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_closing_unclassified_or_without_capa(deviation, qa, app_db):  # noqa: F811
    closing = ("UPDATE batches_deviation SET state = 'closed' WHERE id = %s", [deviation.pk])
    with pytest.raises(errors.RaiseException, match="closed only once classified"):
        app_db(closing)
    classify = (
        "UPDATE batches_deviation SET classification = 'critical', root_cause = 'x',"
        " classified_by_id = %s WHERE id = %s",
        [qa.pk, deviation.pk],
    )
    with pytest.raises(errors.RaiseException, match="closed only with a CAPA"):
        app_db(classify, closing)
    deviation.refresh_from_db()
    assert deviation.state == "open"


def test_capa_done_by_its_owner_and_verified_by_qa_signed(deviation, qa, technician, qc_analyst):
    capa = raise_capa(qa, [deviation], technician)
    assert list(capa.deviations.all()) == [deviation]
    with pytest.raises(ValidationError, match="Only the CAPA's owner"):
        capa_services.capa_complete(actor=qa, capa=capa, notes="done")
    capa = capa_services.capa_complete(actor=technician, capa=capa, notes="Alarm replaced")
    assert capa.state == "done"
    capa = capa_services.capa_verify(
        actor=qa, password=PASSWORD, capa=capa, effective=True, result="No recurrence in 30 days"
    )
    assert (capa.state, capa.verified_by) == ("effective", qa)
    assert [s.meaning for s in signatures_for(capa)] == ["approved"]


def test_the_doer_does_not_verify(deviation, qa):
    capa = raise_capa(qa, [deviation], qa)
    capa = capa_services.capa_complete(actor=qa, capa=capa, notes="Done")
    with pytest.raises(ValidationError, match="does not verify"):
        capa_services.capa_verify(
            actor=qa, password=PASSWORD, capa=capa, effective=False, result="Recurred"
        )


def test_raise_refusals_per_field(deviation, qa, technician):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        capa_services.capa_raise(
            actor=qa,
            deviations=[],
            action=" ",
            owner=technician,
            due_on=today - timedelta(days=1),
            effectiveness_check_on=today - timedelta(days=2),
        )
    assert set(refused.value.message_dict) == {
        "deviations",
        "action",
        "due_on",
        "effectiveness_check_on",
    }


def test_an_overdue_capa_is_flagged_once_and_its_owner_told(deviation, qa, technician):
    on_time = raise_capa(qa, [deviation], technician, due_in=10)
    late = raise_capa(qa, [deviation], technician, due_in=1)
    Capa.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    assert list(Capa.objects.filter(overdue_q()).values_list("pk", flat=True)) == [late.pk]

    assert capa_services.capa_overdue_scan() == 1
    assert capa_services.capa_overdue_scan() == 0  # flagged exactly once
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.overdue_flagged_at is not None and on_time.overdue_flagged_at is None
    notices = Notification.objects.filter(capa=late)
    assert sorted(notices.values_list("channel", flat=True)) == ["email", "in_app"]
    assert set(notices.values_list("recipient", flat=True)) == {technician.pk}


def test_a_capa_done_is_never_overdue(deviation, qa, technician):
    capa = raise_capa(qa, [deviation], technician, due_in=1)
    capa_services.capa_complete(actor=technician, capa=capa, notes="Done")
    Capa.objects.filter(pk=capa.pk).update(due_on=timezone.localdate() - timedelta(days=3))
    assert capa_services.capa_overdue_scan() == 0


@pytest.mark.django_db(transaction=True)
def test_the_worker_flags_an_overdue_capa_once(deviation, qa, technician):
    from batches.tasks import scan_capas_overdue
    from tests.celery_run import run_twice_in_a_worker

    late = raise_capa(qa, [deviation], technician, due_in=1)
    Capa.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - timedelta(days=1))

    run_twice_in_a_worker(
        scan_capas_overdue,
        done=lambda: Capa.objects.filter(pk=late.pk, overdue_flagged_at__isnull=False).exists(),
    )
    notices = Notification.objects.filter(capa=late)
    assert sorted(notices.values_list("recipient__username", "channel")) == [
        (technician.username, "email"),
        (technician.username, "in_app"),
    ]
