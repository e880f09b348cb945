"""After infusion: adverse events (CRS and ICANS graded from their findings by
batches.grading), the iC9 safety switch, follow-up visits and the scan that flags the overdue
ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches import grading, ports
from batches.models import (
    AdverseEvent,
    AdverseEventKind,
    FollowUpEnd,
    FollowUpOutcome,
    FollowUpVisit,
    Infusion,
    Recipient,
    RecipientRcrResult,
    SafetySwitchActivation,
    TumourResponse,
)
from batches.selectors.clinical import (
    made_with_integrating_vector,
    visit_open_q,
    visits_to_flag_overdue,
)
from carnk_mfg import due_work
from carnk_mfg.audit import gmp_write
from carnk_mfg.fields import field_errors
from carnk_mfg.notation import lab_time
from carnk_mfg.timeutil import check_happened

if TYPE_CHECKING:
    from django.contrib.auth.models import User


CRS_FINDINGS = ("crs_temperature_c", "crs_fever_masked", "crs_hypotension", "crs_hypoxia")
ICANS_FINDINGS = (
    "ice_unarousable",
    "icans_consciousness",
    "icans_seizure",
    "icans_motor",
    "icans_raised_icp",
)
OWN_FINDINGS: dict[str, tuple[str, ...]] = {
    AdverseEventKind.CRS: CRS_FINDINGS,
    AdverseEventKind.ICANS: ICANS_FINDINGS,
}
FINDING_CHOICES = {
    "crs_hypotension": grading.Hypotension,
    "crs_hypoxia": grading.Hypoxia,
    "icans_consciousness": grading.Consciousness,
    "icans_seizure": grading.Seizure,
    "icans_motor": grading.MotorFinding,
    "icans_raised_icp": grading.RaisedIcp,
}


def _findings_errors(kind: str, findings: dict[str, Any]) -> dict[str, str]:
    """What is missing or misplaced among the ASTCT findings: CRS and ICANS are graded from
    theirs (each domain stated, "none" included), no other event carries any."""
    errors: dict[str, str] = {}
    for field, choices in FINDING_CHOICES.items():
        if findings[field] and findings[field] not in choices.values:
            errors[field] = f"One of: {', '.join(choices.values)}."
    own = OWN_FINDINGS.get(kind, ())
    for field in (*CRS_FINDINGS, *ICANS_FINDINGS):
        if field not in own and findings[field] not in (None, "", False):
            errors.setdefault(field, "Recorded for CRS or ICANS only, as the event is.")
    for field in own:
        if findings[field] == "" and field in FINDING_CHOICES:
            errors.setdefault(field, "Needed for ASTCT grading (none if absent).")
    if kind == AdverseEventKind.CRS:
        if findings["crs_temperature_c"] is None and not findings["crs_fever_masked"]:
            errors.setdefault(
                "crs_temperature_c",
                "The highest temperature, or fever present though masked by antipyretic or "
                "anticytokine therapy.",
            )
    elif kind == AdverseEventKind.ICANS:
        if findings["ice_unarousable"] and findings["ice_score"] is not None:
            errors.setdefault("ice_score", "No ICE score when unarousable.")
        elif not findings["ice_unarousable"] and findings["ice_score"] is None:
            errors.setdefault("ice_score", "The ICE score (0 to 10), or unarousable.")
        if (
            findings["ice_unarousable"]
            and findings["icans_consciousness"] in grading.Consciousness.values
            and findings["icans_consciousness"] != grading.Consciousness.UNAROUSABLE
        ):
            errors.setdefault("icans_consciousness", "Unarousable, as for the ICE score.")
    if kind != AdverseEventKind.ICANS and findings["ice_score"] is not None:
        errors.setdefault("ice_score", "The ICE score belongs to ICANS.")
    return errors


def derived_grade(kind: str, findings: dict[str, Any]) -> int | None:
    """The ASTCT grade the (checked) findings give, for CRS and ICANS; None for others."""
    if kind == AdverseEventKind.CRS:
        fever = grading.has_fever(
            findings["crs_temperature_c"], fever_masked=bool(findings["crs_fever_masked"])
        )
        return grading.crs_grade(
            fever=fever, hypotension=findings["crs_hypotension"], hypoxia=findings["crs_hypoxia"]
        )
    if kind == AdverseEventKind.ICANS:
        return grading.icans_grade(
            ice_score=findings["ice_score"],
            ice_unarousable=bool(findings["ice_unarousable"]),
            consciousness=findings["icans_consciousness"],
            seizure=findings["icans_seizure"],
            motor=findings["icans_motor"],
            raised_icp=findings["icans_raised_icp"],
        )
    return None


def _stored_findings(kind: str, findings: dict[str, Any]) -> dict[str, Any]:
    """The findings as stored: the booleans of the event's own kind as given (false
    included), those of other kinds empty."""
    stored = dict(findings)
    stored["crs_fever_masked"] = bool(findings["crs_fever_masked"]) if kind == "crs" else None
    stored["ice_unarousable"] = bool(findings["ice_unarousable"]) if kind == "icans" else None
    return stored


def _grading_errors(
    kind: str, grade: int, findings: dict[str, Any], reason: str
) -> dict[str, str | list[str]]:
    """The event kind, its grade and its findings, checked before any grade is derived."""
    errors: dict[str, str | list[str]] = dict(
        field_errors(
            AdverseEvent,
            {
                "grade": grade,
                "ice_score": findings["ice_score"],
                "crs_temperature_c": findings["crs_temperature_c"],
            },
        )
    )
    if kind not in AdverseEventKind.values:
        errors["kind"] = "CRS, ICANS, GVHD or other."
    # The model's grades run 1 to 5; CRS, ICANS and GVHD are graded 1 to 4 here.
    if kind != AdverseEventKind.OTHER and "grade" not in errors and grade > 4:
        errors["grade"] = f"Grade 1 to 4 for {kind}."
    for field, message in _findings_errors(kind, findings).items():
        errors.setdefault(field, message)
    if reason and kind in (AdverseEventKind.GVHD, AdverseEventKind.OTHER):
        errors["grade_difference_reason"] = "Only CRS and ICANS are graded from findings."
    return errors


def _graded(
    kind: str, grade: int, findings: dict[str, Any], reason: str
) -> tuple[int | None, dict[str, str | list[str]]]:
    """(the ASTCT grade of the findings, the errors so far): an entered grade other than the
    findings' needs its reason, and one that agrees needs none."""
    errors = _grading_errors(kind, grade, findings, reason)
    derived = None if errors else derived_grade(kind, findings)
    if derived is not None and derived != grade and not reason:
        errors["grade"] = (
            f"The findings give ASTCT {kind.upper()} grade {derived}: enter {derived}, or give "
            f"the reason for grade {grade}."
        )
        errors["grade_difference_reason"] = f"Why grade {grade}, not {derived}."
    elif reason and derived == grade:
        errors["grade_difference_reason"] = "The grade is the findings' ASTCT grade: no reason."
    return derived, errors


# Kept in one piece: the signature names each ASTCT finding (forms and serializers pass their
# fields straight through), then the checks, the write and its trail reason in order.
def adverse_event_report(
    *,
    actor: User,
    infusion: Infusion,
    kind: str,
    grade: int,
    onset_at: datetime,
    description: str,
    ice_score: int | None = None,
    crs_temperature_c: Decimal | None = None,
    crs_fever_masked: bool = False,
    crs_hypotension: str = "",
    crs_hypoxia: str = "",
    ice_unarousable: bool = False,
    icans_consciousness: str = "",
    icans_seizure: str = "",
    icans_motor: str = "",
    icans_raised_icp: str = "",
    grade_difference_reason: str = "",
) -> AdverseEvent:
    """Report an adverse event. CRS and ICANS carry their ASTCT findings; the grade they give
    is stored beside the grade entered, and a grade that differs needs its reason."""
    findings = {
        "ice_score": ice_score,
        "crs_temperature_c": crs_temperature_c,
        "crs_fever_masked": crs_fever_masked,
        "crs_hypotension": crs_hypotension,
        "crs_hypoxia": crs_hypoxia,
        "ice_unarousable": ice_unarousable,
        "icans_consciousness": icans_consciousness,
        "icans_seizure": icans_seizure,
        "icans_motor": icans_motor,
        "icans_raised_icp": icans_raised_icp,
    }
    reason = grade_difference_reason.strip()
    derived, errors = _graded(kind, grade, findings, reason)
    check_happened(
        errors,
        "onset_at",
        onset_at,
        what="The onset",
        not_before=(infusion.started_at, "the infusion started"),
    )
    if not description.strip():
        errors["description"] = "Describe the event."
    if errors:
        raise ValidationError(errors)
    why = f"Adverse event: {kind} grade {grade}"
    if reason:
        why += f" (findings give ASTCT grade {derived}: {reason[:80]})"
    with gmp_write(actor=actor, permission="batches.report_adverse_event", reason=why):
        return AdverseEvent.objects.create(
            recipient=infusion.recipient,
            infusion=infusion,
            kind=kind,
            grade=grade,
            **_stored_findings(kind, findings),
            derived_grade=derived,
            grade_difference_reason=reason,
            onset_at=onset_at,
            description=description.strip(),
            reported_by=actor,
            reported_at=timezone.now(),
        )


def safety_switch_record(
    *, actor: User, infusion: Infusion, given_at: datetime, dose_mg_per_kg: Decimal, reason: str
) -> SafetySwitchActivation:
    errors: dict[str, str | list[str]] = dict(
        field_errors(SafetySwitchActivation, {"dose_mg_per_kg": dose_mg_per_kg})
    )
    check_happened(
        errors,
        "given_at",
        given_at,
        what="AP1903",
        not_before=(infusion.started_at, "the infusion started"),
    )
    if not reason.strip():
        errors["reason"] = "Why the safety switch was activated."
    if errors:
        raise ValidationError(errors)
    with gmp_write(
        actor=actor,
        permission="batches.add_safetyswitchactivation",
        reason=f"AP1903 given: {reason[:80]}",
    ):
        return SafetySwitchActivation.objects.create(
            recipient=infusion.recipient,
            infusion=infusion,
            given_at=given_at,
            dose_mg_per_kg=dose_mg_per_kg,
            reason=reason.strip(),
            recorded_by=actor,
            recorded_at=timezone.now(),
        )


@dataclass(frozen=True)
class PlannedVisit:
    label: str
    day: int  # after the infusion; 0 is before treatment
    rcr_sample: bool


BASELINE_VISIT = "baseline"  # before treatment


def follow_up_plan(*, integrating_vector: bool) -> list[PlannedVisit]:
    """The protocol's visits after an infusion. A product made with an integrating vector is
    followed yearly after month 12 to year LONG_TERM_FOLLOW_UP_YEARS, with the recipient's
    blood sampled for replication-competent retrovirus before treatment, on the
    RCR_SAMPLE_DAYS and at every yearly visit."""
    visits = list(settings.FOLLOW_UP_SCHEDULE)
    if not integrating_vector:
        return [PlannedVisit(label, day, rcr_sample=False) for label, day in visits]
    last_day = max(day for _, day in visits)
    yearly = [
        (f"year {year}", 365 * year)
        for year in range(2, settings.LONG_TERM_FOLLOW_UP_YEARS + 1)
        if 365 * year > last_day
    ]
    rcr_days = set(settings.RCR_SAMPLE_DAYS)
    return [
        PlannedVisit(label, day, rcr_sample=day in rcr_days or day > max(rcr_days))
        for label, day in [(BASELINE_VISIT, 0), *visits, *yearly]
    ]


def follow_up_schedule(*, infusion: Infusion) -> list[FollowUpVisit]:
    """The protocol's visits for one infusion (called when the infusion is recorded)."""
    plan = follow_up_plan(integrating_vector=made_with_integrating_vector(infusion.dose_unit.batch))
    return FollowUpVisit.objects.bulk_create(
        [
            FollowUpVisit(
                recipient=infusion.recipient,
                infusion=infusion,
                visit=planned.label,
                day=planned.day,
                rcr_sample=planned.rcr_sample,
                due_at=infusion.started_at + timedelta(days=planned.day),
            )
            for planned in plan
        ],
        ignore_conflicts=True,
    )


def follow_up_record(
    *,
    actor: User,
    visit: FollowUpVisit,
    done_at: datetime,
    response: str = "",
    car_nk_copies_per_ug: float | None = None,
    donor_specific_antibodies: str = "",
    notes: str = "",
    rcr_result: str = "",
) -> FollowUpVisit:
    errors: dict[str, str | list[str]] = {}
    if response and response not in TumourResponse.values:
        errors["response"] = "CR, PR, SD or PD."
    if visit.day == 28 and not response:
        errors["response"] = "The day-30 visit records the primary response."
    if rcr_result and rcr_result not in RecipientRcrResult.values:
        errors["rcr_result"] = "Negative, positive, sample archived or no sample collected."
    elif visit.rcr_sample and not rcr_result:
        errors["rcr_result"] = (
            "An RCR sample is due at this visit: record its result, that it was archived "
            "untested, or that none was collected."
        )
    if rcr_result == RecipientRcrResult.NOT_COLLECTED and not notes.strip():
        errors["notes"] = "Say why no RCR sample was collected."
    errors.update(field_errors(FollowUpVisit, {"car_nk_copies_per_ug": car_nk_copies_per_ug}))
    started = visit.infusion.started_at
    if visit.day == 0:
        # The baseline sample is taken before treatment and recorded afterwards.
        check_happened(errors, "done_at", done_at, what="The baseline sample")
        if "done_at" not in errors and done_at > started:
            errors["done_at"] = (
                f"The baseline sample is taken before the infusion started ({lab_time(started)})."
            )
    else:
        check_happened(
            errors, "done_at", done_at, what="A visit", not_before=(started, "the infusion started")
        )
    if errors:
        raise ValidationError(errors)
    with gmp_write(
        actor=actor, permission="batches.record_follow_up", reason=f"Follow-up {visit.visit}"
    ):
        locked = FollowUpVisit.objects.select_for_update().get(pk=visit.pk)
        if locked.done_at is not None:
            raise ValidationError({"done_at": "This visit is already recorded."})
        if locked.closed_at is not None:
            raise ValidationError({"done_at": "The recipient's follow-up has ended."})
        locked.done_at, locked.response, locked.rcr_result = done_at, response, rcr_result
        locked.car_nk_copies_per_ug = car_nk_copies_per_ug
        locked.donor_specific_antibodies = donor_specific_antibodies
        locked.notes, locked.recorded_by = notes, actor
        locked.save()
    return locked


def follow_up_end(
    *,
    actor: User,
    recipient: Recipient,
    outcome: str,
    ended_on: date,
    detail: str,
) -> FollowUpEnd:
    """Record that the recipient's follow-up ended (lost to follow-up, died, withdrew,
    completed), once; the visits still open are closed with it and no longer flagged."""
    errors: dict[str, str | list[str]] = {}
    if outcome not in FollowUpOutcome.values:
        errors["outcome"] = "Lost to follow-up, died, withdrew consent or completed follow-up."
    if not detail.strip():
        errors["detail"] = (
            "Say what happened: the cause of death, the attempts to reach the recipient..."
        )
    if ended_on > timezone.localdate():
        errors["ended_on"] = "The end of follow-up cannot be in the future."
    first = recipient.infusions.order_by("started_at").first()
    if first is None:
        errors["recipient"] = "The recipient has had no infusion: there is no follow-up to end."
    elif ended_on < timezone.localdate(first.started_at):
        errors["ended_on"] = (
            f"Follow-up cannot end before the infusion ({lab_time(first.started_at)})."
        )
    if errors:
        raise ValidationError(errors)
    label = FollowUpOutcome(outcome).label
    with gmp_write(
        actor=actor, permission="batches.record_follow_up", reason=f"Follow-up ended: {label}"
    ):
        Recipient.objects.select_for_update().get(pk=recipient.pk)
        if FollowUpEnd.objects.filter(recipient=recipient).exists():
            raise ValidationError({"outcome": "The end of this recipient's follow-up is recorded."})
        now = timezone.now()
        ended = FollowUpEnd.objects.create(
            recipient=recipient,
            outcome=outcome,
            ended_on=ended_on,
            detail=detail.strip(),
            recorded_by=actor,
            recorded_at=now,
        )
        FollowUpVisit.objects.filter(visit_open_q(), recipient=recipient).update(closed_at=now)
    return ended


def follow_up_overdue_scan(*, now: datetime | None = None) -> int:
    """Flag the follow-up visits that became overdue, each once however many scans run at
    once (`carnk_mfg.due_work`; the visit's `overdue_flagged_at` is its one flag), and tell
    clinical staff of each. Returns how many were flagged."""
    now = now or timezone.now()
    flagged = due_work.flag_once(
        visits_to_flag_overdue(now=now),
        flag_field="overdue_flagged_at",
        now=now,
        related=("recipient",),
        announce=lambda visits: ports.notify_visits_overdue(visits=visits, now=now),
        reason="Follow-up overdue scan",
    )
    return len(flagged)
