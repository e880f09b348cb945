"""Reads of training: the one answer to "is this person current on these procedures?"
(`training_gaps`), and what each piece of work asks (a step's qualifications, release's list).

Current on a procedure means a passed training on the version in effect that day (the newest
version whose effective date has come), trained on or before that day and not yet expired. A
new version therefore makes everyone untrained on it until retrained. A procedure with no
version in effect yet asks nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q, QuerySet

from batches.models import (
    Assessment,
    Procedure,
    ProcedureVersion,
    QualificationPurpose,
    StepQualification,
    Supervision,
    TemplateStep,
    TrainingRecord,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class TrainingGap:
    """A procedure the person is not current on, and why, in words."""

    procedure: Procedure
    version: ProcedureVersion
    why: str

    def __str__(self) -> str:
        return f"{self.version.procedure.code} v{self.version.version}: {self.why}"


def versions_in_effect(procedures: Iterable[Procedure], *, on: date) -> dict[int, ProcedureVersion]:
    """The version of each procedure in effect on `on`, by procedure id (none yet: absent)."""
    found: dict[int, ProcedureVersion] = {}
    rows = (
        ProcedureVersion.objects.filter(
            procedure__in=[p.pk for p in procedures], effective_on__lte=on
        )
        .select_related("procedure")
        .order_by("procedure_id", "-version")
    )
    for version in rows:
        found.setdefault(version.procedure_id, version)
    return found


def training_gaps(person: User, procedures: Iterable[Procedure], *, on: date) -> list[TrainingGap]:
    """The procedures `person` is not current on, on day `on`, each with why ("never
    trained", "expired on 2026-10-01", "trained on v2 only", "assessment failed on ..."),
    in procedure code order. Empty: the person may do the work."""
    wanted = sorted({p.pk: p for p in procedures}.values(), key=lambda p: p.code)
    in_effect = versions_in_effect(wanted, on=on)
    if not in_effect:
        return []
    records = list(
        TrainingRecord.objects.filter(
            trainee=person,
            procedure_version__procedure__in=list(in_effect),
            trained_on__lte=on,
        ).select_related("procedure_version")
    )
    gaps = []
    for procedure in wanted:
        version = in_effect.get(procedure.pk)
        if version is None:
            continue
        why = _why_not_current(
            version, [r for r in records if r.procedure_version.procedure_id == procedure.pk], on
        )
        if why:
            gaps.append(TrainingGap(procedure=procedure, version=version, why=why))
    return gaps


def _why_not_current(version: ProcedureVersion, records: list[TrainingRecord], on: date) -> str:
    """ "" when one of the person's records of this procedure makes them current on
    `version`; otherwise why not."""
    on_version = [r for r in records if r.procedure_version_id == version.pk]
    passed = [r for r in on_version if r.assessment == Assessment.PASSED]
    if any(r.expires_on > on for r in passed):
        return ""
    if passed:
        return f"training expired on {max(r.expires_on for r in passed):%Y-%m-%d}"
    if on_version:
        return f"assessment failed on {max(r.trained_on for r in on_version):%Y-%m-%d}"
    older = [r.procedure_version.version for r in records if r.assessment == Assessment.PASSED]
    if older:
        return f"trained on v{max(older)} only"
    return "never trained"


def step_procedures(template_step: TemplateStep, purpose: str) -> list[Procedure]:
    """The procedures a person must be current on to perform (or review) this step."""
    return [
        q.procedure
        for q in StepQualification.objects.filter(
            template_step=template_step, purpose=purpose
        ).select_related("procedure")
    ]


def step_qualifications(procedure: Procedure) -> QuerySet[StepQualification]:
    """The template steps that ask for `procedure`, to perform or to review."""
    return (
        StepQualification.objects.filter(procedure=procedure)
        .select_related("template_step__template")
        .order_by("template_step__template", "template_step__order", "purpose", "id")
    )


def review_procedures(template_steps: Iterable[TemplateStep]) -> list[Procedure]:
    """What reviewing a batch record of these steps asks: each step's review procedures."""
    rows = StepQualification.objects.filter(
        template_step__in=[s.pk for s in template_steps], purpose=QualificationPurpose.REVIEW
    ).select_related("procedure")
    return list({q.procedure_id: q.procedure for q in rows}.values())


def release_procedures() -> QuerySet[Procedure]:
    """The site-wide list QA must be current on to sign a release decision."""
    return Procedure.objects.filter(required_for_release=True)


def training_expiry(procedure: Procedure, trained_on: date) -> date:
    """When a training on `procedure` passed on `trained_on` expires by default."""
    days = procedure.training_valid_days or settings.TRAINING_VALID_DAYS
    return trained_on + timedelta(days=days)


def trainings_expiring_unwarned(*, now: datetime) -> QuerySet[TrainingRecord]:
    """Passed trainings that expire within the warning period (or have expired) and whose
    trainee has not been warned yet; soonest first. The partial index covers exactly these."""
    horizon = now.date() + timedelta(days=settings.TRAINING_EXPIRY_WARNING_DAYS)
    return TrainingRecord.objects.filter(
        assessment=Assessment.PASSED,
        expiry_warned_at__isnull=True,
        expires_on__lte=horizon,
        trainee__is_active=True,
    ).order_by("expires_on")


@dataclass(frozen=True)
class TraineeStanding:
    person: User
    current: bool
    why: str  # empty when current
    last_trained_on: date | None


def procedure_roster(procedure: Procedure, *, on: date) -> list[TraineeStanding]:
    """Everyone with a training record on `procedure`, and whether each is current (by
    `training_gaps`), for the procedure's page."""
    records = (
        TrainingRecord.objects.filter(procedure_version__procedure=procedure)
        .select_related("trainee")
        .order_by("trainee__username", "-trained_on")
    )
    latest: dict[int, TrainingRecord] = {}
    for record in records:
        latest.setdefault(record.trainee_id, record)
    standing = []
    for record in latest.values():
        gaps = training_gaps(record.trainee, [procedure], on=on)
        standing.append(
            TraineeStanding(
                person=record.trainee,
                current=not gaps,
                why=str(gaps[0]) if gaps else "",
                last_trained_on=record.trained_on,
            )
        )
    return standing


def training_records(*, trainee: User | None = None) -> QuerySet[TrainingRecord]:
    """Training records, newest first, with what the pages and the API print of them."""
    rows = TrainingRecord.objects.select_related(
        "procedure_version__procedure", "trainee", "trained_by", "recorded_by"
    )
    return rows.filter(Q(trainee=trainee)) if trainee is not None else rows.all()


def supervisor_of(person: User) -> User | None:
    """Who supervises `person` (told with them when a training is about to expire), if named."""
    supervision = Supervision.objects.filter(person=person).select_related("supervisor").first()
    return supervision.supervisor if supervision else None
