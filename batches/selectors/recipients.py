"""Reads of recipients, their weights and their lymphodepletion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet

from batches.models import (
    DoseUnitStatus,
    LymphodepletionAgent,
    LymphodepletionDose,
    Recipient,
    WeightMeasurement,
)
from carnk_mfg.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def recipient_list() -> QuerySet[Recipient]:
    return Recipient.objects.select_related("treating_clinician").prefetch_related(
        Prefetch(
            "weights", queryset=WeightMeasurement.objects.order_by("-measured_on", "-recorded_at")
        ),
        _LYMPHODEPLETION,
    )


_LYMPHODEPLETION = Prefetch(
    "lymphodepletion_doses",
    queryset=LymphodepletionDose.objects.select_related("given_by", "recorded_by"),
)


def current_weight(recipient: Recipient) -> WeightMeasurement | None:
    weights = list(recipient.weights.all())  # prefetched newest first
    return weights[0] if weights else None


def clinical_staff() -> QuerySet[User]:
    """Active users holding the clinical role: those who may treat a recipient."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.CLINICAL)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


# --- lymphodepletion ---


@dataclass(frozen=True)
class RegimenAgent:
    """One agent of the preparative regimen the protocol expects (settings)."""

    agent: str
    label: str
    mg_per_m2: Decimal
    days: int

    def __str__(self) -> str:
        return f"{self.label.lower()} {self.mg_per_m2.normalize():f} mg/m2 x{self.days} days"


def lymphodepletion_regimen() -> list[RegimenAgent]:
    return [
        RegimenAgent(
            agent=agent,
            label=LymphodepletionAgent(agent).label,
            mg_per_m2=Decimal(str(expected["mg_per_m2"])),
            days=int(expected["days"]),
        )
        for agent, expected in settings.LYMPHODEPLETION_REGIMEN.items()
    ]


def lymphodepletion_window() -> tuple[int, int]:
    """(fewest, most) days from the last lymphodepletion dose to the infusion."""
    return settings.LYMPHODEPLETION_INFUSION_MIN_DAYS, settings.LYMPHODEPLETION_INFUSION_MAX_DAYS


def lymphodepletion_blocker(recipient: Recipient, *, on: date) -> str | None:
    """Why the recipient may not be infused on `on` for want of lymphodepletion, in words,
    or None when the regimen is complete and its last dose within the window before. The
    course is the days up to the last dose, as many as the regimen's longest agent; each
    agent is given on its number of those days."""
    regimen = lymphodepletion_regimen()
    fewest, most = lymphodepletion_window()
    expected = " and ".join(str(agent) for agent in regimen)
    # Prefetched by recipient_list; doses after `on` are no part of an infusion that day.
    doses = [d for d in recipient.lymphodepletion_doses.all() if d.given_on <= on]
    if not doses:
        return (
            f"No lymphodepletion is recorded for {recipient.subject_id}: {expected}, "
            f"the last dose {fewest} to {most} days before the infusion."
        )
    last = max(d.given_on for d in doses)
    since = (on - last).days
    if since < fewest:
        return (
            f"The last lymphodepletion dose of {recipient.subject_id} was on {last:%Y-%m-%d}, "
            f"{since} days ago: the infusion is {fewest} to {most} days after it, "
            f"from {last + timedelta(days=fewest):%Y-%m-%d}."
        )
    if since > most:
        return (
            f"The last lymphodepletion dose of {recipient.subject_id} was on {last:%Y-%m-%d}, "
            f"{since} days ago: the infusion is at most {most} days after it; "
            "lymphodepletion is to be given again."
        )
    course_start = last - timedelta(days=max(agent.days for agent in regimen) - 1)
    missing = []
    for agent in regimen:
        days = {d.given_on for d in doses if d.agent == agent.agent and d.given_on >= course_start}
        given = len(days)
        if given < agent.days:
            missing.append(f"{agent.label.lower()} on {given} of {agent.days} days")
    if missing:
        return (
            f"Lymphodepletion of {recipient.subject_id} is not complete: "
            + ", ".join(missing)
            + f" of the course from {course_start:%Y-%m-%d} to {last:%Y-%m-%d} ({expected})."
        )
    return None


def recipients_awaiting_infusion() -> QuerySet[Recipient]:
    """Recipients with a bag assigned or issued to the ward, not yet infused: the bedside
    page shows whether each may be infused before any scan."""
    return (
        Recipient.objects.filter(doses__status__in=[DoseUnitStatus.ASSIGNED, DoseUnitStatus.ISSUED])
        .distinct()
        .prefetch_related(_LYMPHODEPLETION)
        .order_by("subject_id")
    )
