"""After infusion: adverse events (ASTCT grades), the iC9 safety switch, follow-up visits and
the scan that flags the overdue ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches import ports
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
from carnk_mfg.fields import bounds, field_errors
from carnk_mfg.notation import lab_time
from carnk_mfg.timeutil import check_happened

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def ice_implied_icans_grade(ice_score: int) -> int:
    """The lowest ASTCT ICANS grade an ICE score implies (7-9: 1, 3-6: 2, 0-2: 3; grade 4
    when the patient cannot perform ICE at all); other domains may raise it."""
    if ice_score >= 10:
        return 0
    if ice_score >= 7:
        return 1
    if ice_score >= 3:
        return 2
    return 3


def adverse_event_report(
    *,
    actor: User,
    infusion: Infusion,
    kind: str,
    grade: int,
    onset_at: datetime,
    description: str,
    ice_score: int | None = None,
) -> AdverseEvent:
    errors: dict[str, str | list[str]] = dict(
        field_errors(AdverseEvent, {"grade": grade, "ice_score": ice_score})
    )
    if kind not in AdverseEventKind.values:
        errors["kind"] = "CRS, ICANS, GVHD or other."
    # The model's grades run 1 to 5; CRS, ICANS and GVHD are graded 1 to 4 here.
    if kind != AdverseEventKind.OTHER and "grade" not in errors and grade > 4:
        errors["grade"] = f"Grade 1 to 4 for {kind}."
    if kind == AdverseEventKind.ICANS:
        implied = None if errors.keys() & {"grade", "ice_score"} else ice_score
        if ice_score is None:
            low, high = bounds(AdverseEvent, "ice_score")
            errors["ice_score"] = f"ICANS is graded with the ICE score ({low} to {high})."
        elif implied is not None and grade < ice_implied_icans_grade(implied):
            errors["grade"] = (
                f"An ICE score of {ice_score} means ICANS grade "
                f"{ice_implied_icans_grade(ice_score)} or higher."
            )
    elif ice_score is not None:
        errors["ice_score"] = "The ICE score belongs to ICANS."
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
    with gmp_write(
        actor=actor,
        permission="batches.report_adverse_event",
        reason=f"Adverse event: {kind} grade {grade}",
    ):
        return AdverseEvent.objects.create(
            recipient=infusion.recipient,
            infusion=infusion,
            kind=kind,
            grade=grade,
            ice_score=ice_score,
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
