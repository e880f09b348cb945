"""After infusion: adverse events, the iC9 safety switch, follow-up visits
(batches/services/clinical.py), called directly."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import AdverseEvent, FollowUpVisit, SafetySwitchActivation
from batches.selectors import made_with_integrating_vector
from batches.services import clinical as clinical_services
from qc.models import Notification
from tests.batch_steps import record_baseline_sample
from tests.services.trail import assert_trailed, last_event, unchanged

pytestmark = pytest.mark.django_db


# --- adverse events ---

# Findings that give ASTCT grade 2: CRS with fever and hypotension without vasopressors;
# ICANS with an ICE score of 5.
CRS_GRADE_2 = {
    "crs_temperature_c": Decimal("39.2"),
    "crs_hypotension": "no_vasopressor",
    "crs_hypoxia": "none",
}
ICANS_NORMAL = {
    "icans_consciousness": "none",
    "icans_seizure": "none",
    "icans_motor": "none",
    "icans_raised_icp": "none",
}
ICANS_GRADE_2 = {"ice_score": 5, **ICANS_NORMAL}
FINDINGS = {"crs": CRS_GRADE_2, "icans": ICANS_GRADE_2}


def report(actor, infusion, kind="crs", grade=2, **changes):
    args = {
        "onset_at": timezone.now(),
        "description": "Fever 39.2 C",
        **FINDINGS.get(kind, {}),
        **changes,
    }
    return clinical_services.adverse_event_report(
        actor=actor, infusion=infusion, kind=kind, grade=grade, **args
    )


@pytest.mark.clause("ASTCT CRS/ICANS grading")
def test_report_records_the_event_and_its_findings_grade(infusion, clinical):
    event = AdverseEvent.objects.get(pk=report(clinical, infusion, "icans", 2).pk)
    assert (event.recipient, event.kind, event.grade, event.derived_grade, event.ice_score) == (
        infusion.recipient,
        "icans",
        2,
        2,
        5,
    )
    assert (event.ice_unarousable, event.icans_seizure, event.grade_difference_reason) == (
        False,
        "none",
        "",
    )
    assert event.crs_hypotension == "" and event.crs_fever_masked is None
    assert event.reported_by == clinical
    assert_trailed(event, actor=clinical, reason="Adverse event: icans grade 2", label="insert")


def test_crs_findings_stored_with_the_grade_they_give(infusion, clinical):
    event = AdverseEvent.objects.get(
        pk=report(clinical, infusion, "crs", 3, crs_hypoxia="high_flow").pk
    )
    assert (event.crs_temperature_c, event.crs_fever_masked, event.crs_hypotension) == (
        Decimal("39.2"),
        False,
        "no_vasopressor",
    )
    assert (event.crs_hypoxia, event.grade, event.derived_grade) == ("high_flow", 3, 3)
    assert event.ice_unarousable is None and event.icans_consciousness == ""


def test_masked_fever_grades_crs_by_hypotension_and_hypoxia(infusion, clinical):
    event = report(
        clinical,
        infusion,
        "crs",
        3,
        crs_temperature_c=Decimal("37.1"),
        crs_fever_masked=True,
        crs_hypotension="one_vasopressor",
    )
    assert (event.derived_grade, event.crs_fever_masked) == (3, True)


def test_unarousable_icans_is_grade_4(infusion, clinical):
    event = report(
        clinical,
        infusion,
        "icans",
        4,
        ice_score=None,
        ice_unarousable=True,
        icans_consciousness="unarousable",
    )
    assert (event.derived_grade, event.ice_score, event.ice_unarousable) == (4, None, True)


@pytest.mark.clause("ASTCT CRS/ICANS grading")
@pytest.mark.parametrize(
    "kind, grade, changes, derived",
    [
        ("crs", 3, {}, 2),
        ("crs", 1, {"crs_temperature_c": Decimal("37.9")}, 0),
        ("icans", 3, {}, 2),
        ("icans", 1, {"ice_score": 10}, 0),
    ],
    ids=["crs-above", "crs-afebrile", "icans-above", "icans-ice-10"],
)
def test_a_grade_other_than_the_findings_without_a_reason_is_refused(
    infusion, clinical, kind, grade, changes, derived
):
    with unchanged(infusion), pytest.raises(ValidationError) as exc:
        report(clinical, infusion, kind, grade, **changes)
    errors = exc.value.message_dict
    assert f"grade {derived}" in errors["grade"][0], errors
    assert f"not {derived}" in errors["grade_difference_reason"][0]
    assert not AdverseEvent.objects.exists()


def test_a_grade_other_than_the_findings_with_its_reason_keeps_both(infusion, clinical):
    reason = "Rapid deterioration; vasopressor started minutes after the assessment"
    event = report(clinical, infusion, "crs", 3, grade_difference_reason=f"  {reason} ")
    event = AdverseEvent.objects.get(pk=event.pk)
    assert (event.grade, event.derived_grade, event.grade_difference_reason) == (3, 2, reason)
    assert_trailed(
        event,
        actor=clinical,
        reason=f"Adverse event: crs grade 3 (findings give ASTCT grade 2: {reason})",
        label="insert",
    )
    row = last_event(event)
    assert (row.pgh_data["grade"], row.pgh_data["derived_grade"]) == (3, 2)
    assert row.pgh_data["grade_difference_reason"] == reason


def test_other_events_are_not_graded_from_findings(infusion, clinical):
    event = report(clinical, infusion, "other", 5)
    assert (event.grade, event.derived_grade) == (5, None)
    assert event.crs_fever_masked is None and event.ice_unarousable is None


@pytest.mark.parametrize(
    "kind, grade, changes, field",
    [
        ("rash", 1, {}, "kind"),
        ("crs", 0, {}, "grade"),
        ("crs", 5, {}, "grade"),
        ("icans", 2, {"ice_score": None}, "ice_score"),
        ("icans", 2, {"ice_score": 11}, "ice_score"),
        ("icans", 4, {"ice_unarousable": True}, "ice_score"),
        (
            "icans",
            4,
            {"ice_score": None, "ice_unarousable": True, "icans_consciousness": "voice"},
            "icans_consciousness",
        ),
        ("icans", 2, {"icans_seizure": ""}, "icans_seizure"),
        ("icans", 2, {"icans_motor": "tremor"}, "icans_motor"),
        ("icans", 2, {"crs_hypoxia": "none"}, "crs_hypoxia"),
        ("crs", 2, {"ice_score": 8}, "ice_score"),
        ("crs", 2, {"crs_hypotension": ""}, "crs_hypotension"),
        ("crs", 2, {"crs_hypoxia": "ecmo"}, "crs_hypoxia"),
        ("crs", 2, {"crs_temperature_c": None}, "crs_temperature_c"),
        ("crs", 2, {"crs_temperature_c": Decimal("83.0")}, "crs_temperature_c"),
        ("crs", 2, {"icans_seizure": "none"}, "icans_seizure"),
        ("crs", 2, {"grade_difference_reason": "felt worse"}, "grade_difference_reason"),
        ("gvhd", 2, {"grade_difference_reason": "x"}, "grade_difference_reason"),
        ("gvhd", 2, {"crs_fever_masked": True}, "crs_fever_masked"),
        ("crs", 1, {"description": " "}, "description"),
        ("crs", 2, {"onset_at": timezone.now() - timedelta(days=1)}, "onset_at"),
        ("crs", 2, {"onset_at": timezone.now() + timedelta(days=1)}, "onset_at"),
    ],
    ids=[
        "kind",
        "grade-0",
        "crs-grade-5",
        "icans-without-ice",
        "ice-11",
        "ice-and-unarousable",
        "unarousable-but-awake",
        "icans-seizure-missing",
        "icans-motor-unknown",
        "crs-finding-on-icans",
        "ice-on-crs",
        "crs-hypotension-missing",
        "crs-hypoxia-unknown",
        "crs-no-temperature",
        "crs-temperature-typo",
        "icans-finding-on-crs",
        "reason-when-agreeing",
        "reason-on-gvhd",
        "finding-on-gvhd",
        "description",
        "before-infusion",
        "future",
    ],
)
def test_report_refuses(infusion, clinical, kind, grade, changes, field):
    with unchanged(infusion), pytest.raises(ValidationError) as exc:
        report(clinical, infusion, kind, grade, **changes)
    assert field in exc.value.message_dict


def test_report_is_clinical(infusion, technician):
    with unchanged(infusion), pytest.raises(PermissionDenied):
        report(technician, infusion)


# --- safety switch ---


def activate(actor, infusion, dose="0.4", reason="Grade 3 ICANS", **changes):
    args = {"given_at": timezone.now(), **changes}
    return clinical_services.safety_switch_record(
        actor=actor, infusion=infusion, dose_mg_per_kg=Decimal(dose), reason=reason, **args
    )


def test_safety_switch_records_the_dose(infusion, clinical):
    switch = SafetySwitchActivation.objects.get(pk=activate(clinical, infusion).pk)
    assert (switch.dose_mg_per_kg, switch.reason, switch.recorded_by) == (
        Decimal("0.4"),
        "Grade 3 ICANS",
        clinical,
    )
    assert_trailed(switch, actor=clinical, reason="AP1903 given: Grade 3 ICANS", label="insert")


@pytest.mark.parametrize(
    "dose, reason, changes, field",
    [
        ("0", "r", {}, "dose_mg_per_kg"),
        ("1.5", "r", {}, "dose_mg_per_kg"),
        ("0.4", " ", {}, "reason"),
        ("0.4", "r", {"given_at": timezone.now() - timedelta(days=1)}, "given_at"),
    ],
    ids=["zero", "above-1", "reason", "before-infusion"],
)
def test_safety_switch_refuses(infusion, clinical, dose, reason, changes, field):
    with unchanged(infusion), pytest.raises(ValidationError) as exc:
        activate(clinical, infusion, dose, reason, **changes)
    assert field in exc.value.message_dict


def test_safety_switch_is_clinical(infusion, qa):
    with unchanged(infusion), pytest.raises(PermissionDenied):
        activate(qa, infusion)


# --- follow-up visits ---


def test_follow_up_schedule_is_the_protocols_once(infusion):
    visits = FollowUpVisit.objects.filter(infusion=infusion).order_by("day")
    integrating = made_with_integrating_vector(infusion.dose_unit.batch)
    plan = clinical_services.follow_up_plan(integrating_vector=integrating)
    expected = [(planned.label, planned.day) for planned in plan]
    assert [(v.visit, v.day) for v in visits] == expected
    assert all(v.due_at == infusion.started_at + timedelta(days=v.day) for v in visits)
    clinical_services.follow_up_schedule(infusion=infusion)
    assert visits.count() == len(expected)


def visit(infusion, day):
    return FollowUpVisit.objects.get(infusion=infusion, day=day)


def test_follow_up_record(infusion, clinical):
    done_at = timezone.now()
    clinical_services.follow_up_record(
        actor=clinical,
        visit=visit(infusion, 28),
        done_at=done_at,
        response="PR",
        car_nk_copies_per_ug=1200.0,
    )
    recorded = visit(infusion, 28)
    assert (recorded.done_at, recorded.response, recorded.recorded_by) == (done_at, "PR", clinical)
    assert recorded.car_nk_copies_per_ug == 1200.0
    assert_trailed(recorded, actor=clinical, reason="Follow-up week 4", label="update")


@pytest.mark.parametrize(
    "day, changes, field",
    [
        (3, {"response": "XX"}, "response"),
        (28, {}, "response"),
        (3, {"car_nk_copies_per_ug": -1.0}, "car_nk_copies_per_ug"),
        (3, {"done_at": timezone.now() - timedelta(days=1)}, "done_at"),
        (3, {"done_at": timezone.now() + timedelta(days=1)}, "done_at"),
    ],
    ids=["response", "day-28-needs-response", "copies", "before-infusion", "future"],
)
def test_follow_up_record_refuses(infusion, clinical, day, changes, field):
    target = visit(infusion, day)
    args = {"done_at": timezone.now(), **changes}
    with unchanged(target), pytest.raises(ValidationError) as exc:
        clinical_services.follow_up_record(actor=clinical, visit=target, **args)
    assert field in exc.value.message_dict


def test_follow_up_record_refuses_a_visit_already_recorded(infusion, clinical):
    target = visit(infusion, 3)
    clinical_services.follow_up_record(actor=clinical, visit=target, done_at=timezone.now())
    with unchanged(target), pytest.raises(ValidationError, match="already recorded"):
        clinical_services.follow_up_record(actor=clinical, visit=target, done_at=timezone.now())


def test_follow_up_record_is_clinical(infusion, technician):
    target = visit(infusion, 3)
    with unchanged(target), pytest.raises(PermissionDenied):
        clinical_services.follow_up_record(actor=technician, visit=target, done_at=timezone.now())


def test_scan_flags_an_overdue_follow_up_visit_for_clinical(infusion, clinical):
    record_baseline_sample(infusion, clinical)
    visit = FollowUpVisit.objects.get(infusion=infusion, day=3)
    when = visit.due_at + timedelta(hours=1)
    assert clinical_services.follow_up_overdue_scan(now=when) == 1
    visit.refresh_from_db()
    assert visit.overdue_flagged_at == when
    treating = infusion.recipient.treating_clinician
    assert {n.recipient for n in Notification.objects.filter(visit=visit)} == {treating}
    assert_trailed(visit, actor=None, reason="Follow-up overdue scan", label="update")
    assert clinical_services.follow_up_overdue_scan(now=when) == 0


# --- the overdue scan flags a visit once ---


def test_scan_flags_an_overdue_visit_once_by_both_channels(infusion, clinical):
    record_baseline_sample(infusion, clinical)
    visit = FollowUpVisit.objects.get(infusion=infusion, day=3)
    when = visit.due_at + timedelta(hours=1)
    assert clinical_services.follow_up_overdue_scan(now=when) == 1
    assert clinical_services.follow_up_overdue_scan(now=when) == 0
    notes = Notification.objects.filter(visit=visit)
    treating = infusion.recipient.treating_clinician
    assert {n.recipient for n in notes} == {treating} and notes.count() == 2


def test_a_visit_whose_clinician_has_left_is_told_to_all_clinical_staff(infusion, clinical):
    record_baseline_sample(infusion, clinical)
    treating = infusion.recipient.treating_clinician
    treating.is_active = False
    treating.save()
    visit = FollowUpVisit.objects.get(infusion=infusion, day=3)
    assert clinical_services.follow_up_overdue_scan(now=visit.due_at + timedelta(hours=1)) == 1
    told = {n.recipient for n in Notification.objects.filter(visit=visit)}
    assert clinical in told and treating not in told
