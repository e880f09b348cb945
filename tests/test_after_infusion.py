"""Adverse events with ASTCT grades, the safety switch, follow-up visits and their overdue
flags (scanned like QC tests, carnk_mfg.due_work)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.models import FollowUpVisit
from batches.services import clinical as clinical_services
from qc.models import Notification

pytestmark = pytest.mark.django_db


def test_infusion_schedules_the_protocol_visits(infusion):
    visits = list(FollowUpVisit.objects.filter(infusion=infusion).order_by("day"))
    assert [v.visit for v in visits][:3] == ["day 3", "week 1", "week 2"]
    assert len(visits) == 11 and visits[-1].day == 365


@pytest.mark.parametrize(
    "kind, grade, ice, field",
    [
        ("crs", 5, None, "grade"),
        ("icans", 1, 2, "grade"),  # ICE 2 means grade 3 or higher
        ("icans", 2, None, "ice_score"),
        ("crs", 1, 8, "ice_score"),
        ("rash", 1, None, "kind"),
    ],
)
def test_adverse_event_grades_are_checked(infusion, clinical, kind, grade, ice, field):
    with pytest.raises(ValidationError) as exc:
        clinical_services.adverse_event_report(
            actor=clinical,
            infusion=infusion,
            kind=kind,
            grade=grade,
            ice_score=ice,
            onset_at=timezone.now(),
            description="Fever",
        )
    assert field in exc.value.message_dict


def test_adverse_event_and_safety_switch(infusion, clinical):
    ae = clinical_services.adverse_event_report(
        actor=clinical,
        infusion=infusion,
        kind="icans",
        grade=2,
        ice_score=5,
        onset_at=timezone.now(),
        description="Confusion",
    )
    assert ae.grade == 2
    switch = clinical_services.safety_switch_record(
        actor=clinical,
        infusion=infusion,
        given_at=timezone.now(),
        dose_mg_per_kg=Decimal("0.4"),
        reason="Grade 2 ICANS",
    )
    assert switch.dose_mg_per_kg == Decimal("0.4")
    with pytest.raises(ValidationError):
        clinical_services.safety_switch_record(
            actor=clinical,
            infusion=infusion,
            given_at=timezone.now(),
            dose_mg_per_kg=Decimal("40"),
            reason="x",
        )


def test_overdue_visit_is_flagged_once_and_clears_from_the_worklist(infusion, clinical, qc_analyst):
    visit = FollowUpVisit.objects.get(infusion=infusion, day=3)
    with time_machine.travel(visit.due_at + timedelta(hours=1), tick=False):
        assert clinical_services.follow_up_overdue_scan() == 1
        assert clinical_services.follow_up_overdue_scan() == 0
    notes = Notification.objects.filter(visit=visit)
    assert {n.recipient for n in notes} == {clinical} and notes.count() == 2
    done = clinical_services.follow_up_record(
        actor=clinical, visit=visit, done_at=timezone.now(), car_nk_copies_per_ug=1200.0
    )
    assert done.done_at is not None
    with pytest.raises(ValidationError):
        clinical_services.follow_up_record(actor=clinical, visit=visit, done_at=timezone.now())


def test_day_30_visit_needs_the_response(infusion, clinical):
    visit = FollowUpVisit.objects.get(infusion=infusion, day=28)
    with pytest.raises(ValidationError) as exc:
        clinical_services.follow_up_record(actor=clinical, visit=visit, done_at=timezone.now())
    assert "primary response" in exc.value.message_dict["response"][0]
    assert (
        clinical_services.follow_up_record(
            actor=clinical, visit=visit, done_at=timezone.now(), response="CR"
        ).response
        == "CR"
    )


def test_an_overdue_visit_is_overdue_before_the_scan_flags_it(api, client, infusion, clinical):
    """One rule for visits too: not done and past due, in the API filter and the worklist."""
    visit = FollowUpVisit.objects.get(infusion=infusion, day=3)
    with time_machine.travel(visit.due_at + timedelta(hours=1), tick=False):
        listed = api.as_user(clinical).get("/api/v1/follow-ups/", {"overdue": "true"}).json()
        assert [v["id"] for v in listed["results"]] == [visit.pk]
        assert visit.overdue_flagged_at is None
        rest = api.as_user(clinical).get("/api/v1/follow-ups/", {"overdue": "false"}).json()
        assert visit.pk not in [v["id"] for v in rest["results"]]
        assert rest["count"] + 1 == FollowUpVisit.objects.count()
        client.force_login(clinical)
        page = client.get("/clinical/follow-ups/").content.decode()
        assert page.count('class="overdue"') == 1
    bad = api.as_user(clinical).get("/api/v1/follow-ups/", {"overdue": "maybe"})
    assert bad.status_code == 400


def test_the_visit_claim_reads_its_partial_index(infusion):
    from django.db import connection

    from batches.selectors import visits_to_flag_overdue

    with connection.cursor() as cursor:
        # A nearly empty table is cheaper to read whole; ask whether the index *can* serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
    claim = visits_to_flag_overdue(now=timezone.now() + timedelta(days=400))
    plan = claim.select_for_update(skip_locked=True, of=("self",)).values_list("id")[:10]
    assert "visit_overdue_scan" in plan.explain()


def test_every_scheduled_scan_is_a_registered_task(settings):
    from carnk_mfg.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
