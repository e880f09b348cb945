"""Long-term follow-up of a product made with an integrating (retroviral) vector: yearly
visits to year 15, the recipient's RCR samples, and the end of follow-up (lost, died...)
closing what is still open."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from batches.models import FollowUpEnd, FollowUpVisit
from batches.selectors import made_with_integrating_vector, visits_to_flag_overdue, worklists
from batches.services import clinical as clinical_services
from batches.services.clinical import BASELINE_VISIT, follow_up_plan
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


@pytest.mark.clause("FDA LTFU guidance")
def test_an_integrating_vector_is_followed_yearly_to_year_15_with_rcr_samples():
    plan = follow_up_plan(integrating_vector=True)
    days = [p.day for p in plan]
    assert days == sorted(days) and len(set(days)) == len(days)
    assert plan[0].label == BASELINE_VISIT and plan[0].day == 0
    assert plan[-1].label == "year 15" and plan[-1].day == 15 * 365
    yearly = [p for p in plan if p.label.startswith("year ")]
    assert [p.label for p in yearly] == [f"year {n}" for n in range(2, 16)]
    rcr = {p.label for p in plan if p.rcr_sample}
    assert {BASELINE_VISIT, "month 3", "month 6", "month 12"} <= rcr
    assert {p.label for p in yearly} <= rcr
    assert "week 4" not in rcr and "day 3" not in rcr


def test_without_an_integrating_vector_the_short_schedule_and_no_rcr():
    plan = follow_up_plan(integrating_vector=False)
    assert [(p.label, p.day) for p in plan] == list(settings.FOLLOW_UP_SCHEDULE)
    assert not any(p.rcr_sample for p in plan)


@pytest.mark.clause("FDA LTFU guidance")
def test_the_infused_product_was_transduced_so_its_visits_run_to_year_15(infusion):
    assert made_with_integrating_vector(infusion.dose_unit.batch)
    visits = FollowUpVisit.objects.filter(infusion=infusion)
    last = visits.order_by("-day").first()
    assert last is not None and last.visit == "year 15"
    assert last.due_at == infusion.started_at + timedelta(days=15 * 365)
    assert visits.filter(rcr_sample=True).count() == 4 + 14


def visit(infusion, label):
    return FollowUpVisit.objects.get(infusion=infusion, visit=label)


@pytest.mark.clause("FDA LTFU guidance")
def test_an_rcr_visit_needs_its_result(infusion, clinical):
    month3 = visit(infusion, "month 3")
    with unchanged(month3), pytest.raises(ValidationError) as exc:
        clinical_services.follow_up_record(actor=clinical, visit=month3, done_at=timezone.now())
    assert "rcr_result" in exc.value.message_dict
    with unchanged(month3), pytest.raises(ValidationError) as exc:
        clinical_services.follow_up_record(
            actor=clinical, visit=month3, done_at=timezone.now(), rcr_result="not_collected"
        )
    assert "notes" in exc.value.message_dict
    clinical_services.follow_up_record(
        actor=clinical, visit=month3, done_at=timezone.now(), rcr_result="negative"
    )
    month3.refresh_from_db()
    assert (month3.rcr_result, month3.recorded_by) == ("negative", clinical)


def test_the_baseline_sample_is_before_the_infusion(infusion, clinical):
    baseline = visit(infusion, BASELINE_VISIT)
    with unchanged(baseline), pytest.raises(ValidationError) as exc:
        clinical_services.follow_up_record(
            actor=clinical, visit=baseline, done_at=timezone.now(), rcr_result="negative"
        )
    assert "before the infusion" in exc.value.message_dict["done_at"][0]
    taken = infusion.started_at - timedelta(days=6)
    clinical_services.follow_up_record(
        actor=clinical, visit=baseline, done_at=taken, rcr_result="archived"
    )
    baseline.refresh_from_db()
    assert (baseline.done_at, baseline.rcr_result) == (taken, "archived")


def end(actor, infusion, **changes):
    args = {
        "outcome": "lost",
        "ended_on": timezone.localdate(),
        "detail": "Three letters and four calls unanswered since month 9.",
        **changes,
    }
    return clinical_services.follow_up_end(actor=actor, recipient=infusion.recipient, **args)


@pytest.mark.clause("FDA LTFU guidance")
def test_the_end_of_follow_up_closes_the_open_visits_and_stops_their_flags(infusion, clinical):
    day3 = visit(infusion, "day 3")
    clinical_services.follow_up_record(actor=clinical, visit=day3, done_at=timezone.now())
    later = timezone.now() + timedelta(days=20 * 365)
    assert visits_to_flag_overdue(now=later).filter(recipient=infusion.recipient).exists()

    ended = end(clinical, infusion, outcome="died", detail="Progressive disease, month 2.")
    assert FollowUpEnd.objects.get(recipient=infusion.recipient) == ended
    visits = FollowUpVisit.objects.filter(recipient=infusion.recipient)
    assert visits.filter(closed_at__isnull=True).get() == day3
    assert not visits_to_flag_overdue(now=later).filter(recipient=infusion.recipient).exists()
    assert not worklists.open_visits().filter(recipient=infusion.recipient).exists()
    assert_trailed(ended, actor=clinical, reason="Follow-up ended: Died", label="insert")
    with pytest.raises(ValidationError) as exc:
        clinical_services.follow_up_record(
            actor=clinical, visit=visit(infusion, "week 1"), done_at=timezone.now()
        )
    assert "ended" in exc.value.message_dict["done_at"][0]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"outcome": "moved"}, "outcome"),
        ({"detail": "  "}, "detail"),
        ({"ended_on": timezone.localdate() + timedelta(days=2)}, "ended_on"),
        ({"ended_on": timezone.localdate() - timedelta(days=400)}, "ended_on"),
    ],
    ids=["outcome", "no-detail", "future", "before-infusion"],
)
def test_the_end_of_follow_up_refuses(infusion, clinical, changes, field):
    with pytest.raises(ValidationError) as exc:
        end(clinical, infusion, **changes)
    assert field in exc.value.message_dict
    assert not FollowUpEnd.objects.exists()
    assert not FollowUpVisit.objects.filter(closed_at__isnull=False).exists()


def test_the_end_of_follow_up_is_recorded_once_and_by_clinical_staff(infusion, clinical, qa):
    with pytest.raises(PermissionDenied):
        end(qa, infusion)
    end(clinical, infusion)
    with pytest.raises(ValidationError):
        end(clinical, infusion, outcome="died")
    assert FollowUpEnd.objects.get().outcome == "lost"


def test_the_database_refuses_a_visit_both_done_and_closed(infusion):
    day3 = visit(infusion, "day 3")
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUpVisit.objects.filter(pk=day3.pk).update(
            done_at=timezone.now(), closed_at=timezone.now()
        )
