"""Training and qualification (21 CFR 1271.170, 11.10(i)): procedures (SOPs) and their
versions, each person's training on a version, which procedures a template step asks of
whoever performs or reviews it, and who supervises whom (told when training runs out).

Whether a person is current is decided in one place only:
`batches.selectors.training.training_gaps`."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from carnk_mfg.fields import FreeCharField, FreeTextField, IdentifierField, Range, identifier_check

# How long a passed training stays current when its procedure says nothing (settings give the
# site's default): one day to ten years.
TRAINING_VALID_DAYS = Range(low=1, high=3650)


@pghistory.track()
class Procedure(models.Model):
    """A standard operating procedure, e.g. SOP-MFG-012. Its versions are what people train on."""

    code = IdentifierField(max_length=40, unique=True)
    title = FreeCharField(max_length=200)
    # Days a passed training stays current; empty: settings.TRAINING_VALID_DAYS.
    training_valid_days = models.PositiveIntegerField(
        null=True, blank=True, validators=TRAINING_VALID_DAYS.validators()
    )
    # The site-wide list of procedures QA must be current on to sign a release decision.
    required_for_release = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]
        permissions = [
            ("issue_procedure", "Issue a procedure, its versions and the steps' qualifications"),
            ("record_training", "Record a person's training on a procedure version"),
        ]
        constraints = [
            identifier_check("code", name="procedure_code_identifier"),
            models.CheckConstraint(
                condition=TRAINING_VALID_DAYS.q("training_valid_days", nullable=True),
                name="procedure_training_valid_days_range",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"


@pghistory.track()
class ProcedureVersion(models.Model):
    """One issued version. The newest version whose effective date has come is the one in
    effect: it supersedes the earlier ones, and training on those no longer counts."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    effective_on = models.DateField()
    # Where the controlled document is kept (document system number and revision).
    document_reference = FreeCharField(max_length=200)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["procedure", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "version"], name="procedure_version_unique"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="procedure_version_from_1"),
        ]

    def __str__(self):
        return f"{self.procedure.code} v{self.version}"


class Assessment(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


@pghistory.track()
class TrainingRecord(models.Model):
    """A person's training on one procedure version, signed by whoever recorded it."""

    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="training_records"
    )
    trainee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_records"
    )
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    trained_on = models.DateField()
    assessment = models.CharField(max_length=10, choices=Assessment.choices)
    expires_on = models.DateField()
    notes = FreeTextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    # Set once, by the scan that warned the trainee and their supervisor of the expiry.
    expiry_warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-trained_on", "-id"]
        constraints = [
            # Nobody trains themselves, nor records their own training.
            models.CheckConstraint(
                condition=~Q(trained_by=F("trainee")), name="training_trainer_not_trainee"
            ),
            models.CheckConstraint(
                condition=~Q(recorded_by=F("trainee")), name="training_recorder_not_trainee"
            ),
            models.CheckConstraint(
                condition=Q(expires_on__gt=F("trained_on")), name="training_expires_after"
            ),
        ]
        indexes = [
            # The expiry scan reads only passed records not yet warned about.
            models.Index(
                fields=["expires_on"],
                name="training_expiry_unwarned",
                condition=Q(expiry_warned_at__isnull=True, assessment="passed"),
            ),
        ]

    def __str__(self):
        return f"{self.trainee} on {self.procedure_version} ({self.trained_on})"


class QualificationPurpose(models.TextChoices):
    PERFORM = "perform", "Perform the step"
    REVIEW = "review", "Review the step"


@pghistory.track()
class StepQualification(models.Model):
    """A procedure a person must be current on to perform, or to review, a template step.
    Kept outside the template's freeze: the training matrix changes with the SOPs (a new
    procedure, a retired one) without a new master batch record version, and every change is
    in the trail. A step with none asks no training."""

    template_step = models.ForeignKey(
        "batches.TemplateStep", on_delete=models.CASCADE, related_name="qualifications"
    )
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=10, choices=QualificationPurpose.choices)

    class Meta:
        ordering = ["template_step", "purpose", "procedure"]
        constraints = [
            models.UniqueConstraint(
                fields=["template_step", "procedure", "purpose"], name="step_qualification_once"
            ),
        ]

    def __str__(self):
        return f"{self.template_step}: {self.procedure.code} to {self.purpose}"


@pghistory.track()
class Supervision(models.Model):
    """Who supervises a person: told with them when their training is about to run out."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supervision"
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervised"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(person=F("supervisor")), name="supervisor_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.person} supervised by {self.supervisor}"
