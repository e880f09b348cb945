"""After infusion: adverse events (ASTCT grades), the iC9 safety switch, follow-up visits and
the scan that flags the overdue ones."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches import ports
from batches.models import (
    AdverseEvent,
    AdverseEventKind,
    FollowUpVisit,
    Infusion,
    SafetySwitchActivation,
    TumourResponse,
)
from batches.selectors.clinical import visits_to_flag_overdue
from carnk_mfg import due_work
from carnk_mfg.audit import gmp_write
from carnk_mfg.fields import bounds, field_errors
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


def follow_up_schedule(*, infusion: Infusion) -> list[FollowUpVisit]:
    """The protocol's visits for one infusion (called when the infusion is recorded)."""
    return FollowUpVisit.objects.bulk_create(
        [
            FollowUpVisit(
                recipient=infusion.recipient,
                infusion=infusion,
                visit=label,
                day=day,
                due_at=infusion.started_at + timedelta(days=day),
            )
            for label, day in settings.FOLLOW_UP_SCHEDULE
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
) -> FollowUpVisit:
    errors: dict[str, str | list[str]] = {}
    if response and response not in TumourResponse.values:
        errors["response"] = "CR, PR, SD or PD."
    if visit.day == 28 and not response:
        errors["response"] = "The day-30 visit records the primary response."
    errors.update(field_errors(FollowUpVisit, {"car_nk_copies_per_ug": car_nk_copies_per_ug}))
    check_happened(
        errors,
        "done_at",
        done_at,
        what="A visit",
        not_before=(visit.infusion.started_at, "the infusion started"),
    )
    if errors:
        raise ValidationError(errors)
    with gmp_write(
        actor=actor, permission="batches.record_follow_up", reason=f"Follow-up {visit.visit}"
    ):
        locked = FollowUpVisit.objects.select_for_update().get(pk=visit.pk)
        if locked.done_at is not None:
            raise ValidationError({"done_at": "This visit is already recorded."})
        locked.done_at, locked.response = done_at, response
        locked.car_nk_copies_per_ug = car_nk_copies_per_ug
        locked.donor_specific_antibodies = donor_specific_antibodies
        locked.notes, locked.recorded_by = notes, actor
        locked.save()
    return locked


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
