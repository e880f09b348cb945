"""Training and qualification: issuing procedures and their versions, the steps'
qualifications, recording (and signing) a person's training, the refusal of work a person is
not current for, and the warning before a training expires.

Whether a person is current is `batches.selectors.training.training_gaps` alone; the step,
review and release services refuse through `require_current_training` here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest
from django.utils import timezone

from batches import ports
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
from batches.selectors.training import (
    release_procedures,
    review_procedures,
    step_procedures,
    training_expiry,
    training_gaps,
    trainings_expiring_unwarned,
)
from carnk_mfg import due_work
from carnk_mfg.audit import gmp_write, validate_record
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.people import printed_name
from carnk_mfg.signatures import signed_write

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ISSUE = "batches.issue_procedure"
RECORD = "batches.record_training"


# --- refusing work a person is not current for ---


def training_refusal(person: User, procedures: Iterable[Procedure], *, on: date, doing: str) -> str:
    """Why `person` may not do `doing` on day `on` for want of training, or "" when they
    may: each procedure they are not current on, named."""
    gaps = training_gaps(person, procedures, on=on)
    if not gaps:
        return ""
    return (
        f"{printed_name(person)} is not current on the training to {doing}: "
        + "; ".join(str(gap) for gap in gaps)
        + "."
    )


def require_current_training(
    person: User, procedures: Iterable[Procedure], *, on: date, doing: str, field: str
) -> None:
    """Refuse (ValidationError on `field`) unless `person` is current on every procedure."""
    refusal = training_refusal(person, procedures, on=on, doing=doing)
    if refusal:
        raise ValidationError({field: refusal})


def step_training_blocker(
    template_step: TemplateStep, person: User, *, on: date | None = None
) -> str:
    """Why `person` may not perform this step (on `on`, today by default), or ""."""
    return training_refusal(
        person,
        step_procedures(template_step, QualificationPurpose.PERFORM),
        on=on or timezone.localdate(),
        doing=f"perform step {template_step.order} ({template_step.name})",
    )


def require_review_training(reviewer: User, template_steps: Iterable[TemplateStep]) -> None:
    """The batch record reviewer is current on every step's review procedures."""
    require_current_training(
        reviewer,
        review_procedures(template_steps),
        on=timezone.localdate(),
        doing="review this batch record",
        field="reviewer",
    )


def require_release_training(person: User) -> None:
    """QA signing a release decision is current on the site's release procedures."""
    require_current_training(
        person,
        release_procedures(),
        on=timezone.localdate(),
        doing="sign a release decision",
        field="decision",
    )


# --- procedures, versions, qualifications, supervisors ---


def procedure_create(
    *,
    actor: User,
    code: str,
    title: str,
    training_valid_days: int | None = None,
    required_for_release: bool = False,
) -> Procedure:
    """QA issues a new procedure (its versions come next)."""
    procedure = Procedure(
        code=code.strip(),
        title=title.strip(),
        training_valid_days=training_valid_days,
        required_for_release=required_for_release,
        created_by=actor,
        created_at=timezone.now(),
    )
    with gmp_write(actor=actor, permission=ISSUE, reason=f"Procedure {code} issued"):
        validate_record(procedure, exclude=["created_by"])
        procedure.save()
    return procedure


def procedure_version_issue(
    *, actor: User, procedure: Procedure, effective_on: date, document_reference: str
) -> ProcedureVersion:
    """QA issues the next version of a procedure. Once its effective date comes it supersedes
    the version before, and training on that one no longer makes anyone current."""
    with gmp_write(actor=actor, permission=ISSUE, reason=f"New version of {procedure.code}"):
        locked = Procedure.objects.select_for_update(no_key=True).get(pk=procedure.pk)
        previous = locked.versions.order_by("-version").first()
        if previous is not None and effective_on <= previous.effective_on:
            raise ValidationError(
                {
                    "effective_on": f"{previous} is effective from "
                    f"{previous.effective_on:%Y-%m-%d}; a new version takes effect after it."
                }
            )
        version = ProcedureVersion(
            procedure=locked,
            version=previous.version + 1 if previous else 1,
            effective_on=effective_on,
            document_reference=document_reference.strip(),
            issued_by=actor,
            issued_at=timezone.now(),
        )
        validate_record(version, exclude=["procedure", "issued_by"])
        version.save()
    return version


def step_qualification_require(
    *, actor: User, template_step: TemplateStep, procedure: Procedure, purpose: str
) -> StepQualification:
    """Ask `procedure` of whoever performs (or reviews) `template_step` from now on."""
    if purpose not in QualificationPurpose.values:
        raise ValidationError({"purpose": "Choose perform or review."})
    with gmp_write(
        actor=actor,
        permission=ISSUE,
        reason=f"{procedure.code} required to {purpose} {template_step.name}",
    ):
        qualification, _ = StepQualification.objects.get_or_create(
            template_step=template_step, procedure=procedure, purpose=purpose
        )
    return qualification


def supervisor_set(
    *, actor: User, person: User, supervisor: User, reason: str | None = None
) -> Supervision:
    """Name the person's supervisor (told with them when a training is about to expire).
    The web and API pass the reason QA gives (a blank one is refused); set up in code, the
    trail says only whose supervisor it is."""
    errors = {}
    if person.pk == supervisor.pk:
        errors["supervisor"] = "A person does not supervise themselves."
    elif not supervisor.is_active:
        errors["supervisor"] = f"{printed_name(supervisor)}'s account is not active."
    if errors:
        raise ValidationError(errors)
    if reason is None:
        reason = f"Supervisor of {person}"
    with gmp_write(actor=actor, permission=RECORD, reason=reason):
        supervision, _ = Supervision.objects.update_or_create(
            person=person, defaults={"supervisor": supervisor}
        )
    return supervision


# --- training records ---


def _training_errors(
    *, actor: User, trainee: User, trained_by: User, trained_on: date, expires_on: date
) -> dict[str, str]:
    errors = {}
    if trained_by.pk == trainee.pk:
        errors["trained_by"] = "The trainer cannot be the trainee."
    if actor.pk == trainee.pk:
        errors["trainee"] = "Another person records your training."
    if not trainee.is_active:
        errors["trainee"] = f"{printed_name(trainee)}'s account is not active."
    if trained_on > timezone.localdate():
        errors["trained_on"] = "The training date cannot be in the future."
    elif expires_on <= trained_on:
        errors["expires_on"] = "The training must expire after the day it was given."
    return errors


def training_record_create(
    *,
    actor: User,
    password: str,
    procedure_version: ProcedureVersion,
    trainee: User,
    trained_by: User,
    trained_on: date,
    assessment: str,
    expires_on: date | None = None,
    notes: str = "",
    request: HttpRequest | None = None,
) -> TrainingRecord:
    """Record a person's training on a procedure version, signed (approved) by whoever
    records it: never the trainee, and the trainer is someone else too. Expiry defaults to
    the procedure's period (`training_expiry`)."""
    if assessment not in Assessment.values:
        raise ValidationError({"assessment": "Choose passed or failed."})
    expires_on = expires_on or training_expiry(procedure_version.procedure, trained_on)
    errors = _training_errors(
        actor=actor,
        trainee=trainee,
        trained_by=trained_by,
        trained_on=trained_on,
        expires_on=expires_on,
    )
    if errors:
        raise ValidationError(errors)
    label = f"Training of {printed_name(trainee)} on {procedure_version} ({assessment})"
    with signed_write(
        actor=actor,
        password=password,
        permission=RECORD,
        meaning=SignatureMeaning.APPROVED,
        label=label,
        reason=label,
        request=request,
    ) as signing:
        record = TrainingRecord(
            procedure_version=procedure_version,
            trainee=trainee,
            trained_by=trained_by,
            trained_on=trained_on,
            assessment=assessment,
            expires_on=expires_on,
            notes=notes.strip(),
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        validate_record(
            record,
            exclude=["procedure_version", "trainee", "trained_by", "recorded_by"],
        )
        try:
            record.save()
        except IntegrityError as exc:  # the database's own check, should the above miss
            raise ValidationError({"trained_by": "The trainer cannot be the trainee."}) from exc
        signing.sign(record, attests="training_record", comment=notes)
    return record


# --- the warning before a training expires ---


def training_expiry_scan(*, now: datetime | None = None) -> int:
    """Warn each trainee and their supervisor, once per record, of a passed training that
    expires within settings.TRAINING_EXPIRY_WARNING_DAYS (`carnk_mfg.due_work`: the record's
    `expiry_warned_at` is its one flag, so scans running at once never warn twice). Returns
    how many records were flagged."""
    now = now or timezone.now()
    flagged = due_work.flag_once(
        trainings_expiring_unwarned(now=now),
        flag_field="expiry_warned_at",
        now=now,
        related=("trainee__supervision__supervisor", "procedure_version__procedure"),
        announce=lambda records: ports.notify_training_expiring(records=records, now=now),
        reason="Training expiry scan",
    )
    return len(flagged)
