"""Environmental monitoring (EU GMP Annex 1, 9.x): sampling points in the rooms, viable air,
surface and personnel (glove) samples with their plate counts, the alert and action limits
per grade and sample type (one table, seeded with Annex 1 values), and the deviations an
action-level excursion opened on the batches open in the room.

A result is judged in one place only: `qc.selectors.environment.em_evaluation`."""

from datetime import timedelta

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from batches.models.facility import CleanroomGrade
from carnk_mfg.fields import FreeCharField, FreeTextField, IdentifierField, Range, identifier_check

# No plate counts past this: colonies merge long before (reported "too numerous to count").
CFU_MAX = 10000
# Longest exposure of one plate: a settle plate stays out for at most four hours (Annex 1),
# a shift's whole session is at most this; a longer period would tie an excursion to every
# batch of weeks.
LONGEST_SAMPLING_PERIOD = timedelta(hours=12)
CFU = Range(low=0, high=CFU_MAX)


class EmSampleType(models.TextChoices):
    AIR_ACTIVE = "air_active", "Viable air, active (CFU/m³)"
    AIR_SETTLE = "air_settle", "Viable air, settle plate (CFU/4 h)"
    CONTACT = "contact", "Surface, contact plate (CFU/plate)"
    GLOVE = "glove", "Personnel, glove print (CFU/glove)"


class EmLevel(models.TextChoices):
    WITHIN = "within", "Within limits"
    ALERT = "alert", "Alert level"
    ACTION = "action", "Action level"


@pghistory.track()
class EmLimit(models.Model):
    """The alert and action limits of one sample type in rooms of one grade. A result above
    the action limit is an excursion; above the alert limit (and not the action limit), an
    alert. Grade A has no alert band: any growth is an action-level result."""

    grade = models.CharField(max_length=1, choices=CleanroomGrade.choices)
    sample_type = models.CharField(max_length=20, choices=EmSampleType.choices)
    alert_limit = models.PositiveIntegerField(validators=CFU.validators())
    action_limit = models.PositiveIntegerField(validators=CFU.validators())

    class Meta:
        ordering = ["grade", "sample_type"]
        constraints = [
            models.UniqueConstraint(fields=["grade", "sample_type"], name="em_limit_once"),
            models.CheckConstraint(
                condition=Q(alert_limit__lt=F("action_limit")) | Q(alert_limit=0, action_limit=0),
                name="em_alert_below_action",
            ),
        ]

    def __str__(self):
        return (
            f"Grade {self.grade} {self.sample_type}: "
            f"alert >{self.alert_limit}, action >{self.action_limit}"
        )


@pghistory.track()
class SamplingPoint(models.Model):
    """A place in a room sampled on a schedule, e.g. BSC-1 work surface."""

    room = models.ForeignKey(
        "batches.Room", on_delete=models.PROTECT, related_name="sampling_points"
    )
    code = IdentifierField(max_length=40)
    description = FreeCharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["room", "code"]
        permissions = [
            ("manage_sampling_point", "Set up environmental monitoring sampling points"),
            ("record_em_sample", "Take an environmental monitoring sample"),
            ("read_em_result", "Read an environmental monitoring plate after incubation"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["room", "code"], name="sampling_point_once_per_room"),
            identifier_check("code", name="sampling_point_code_identifier"),
        ]

    def __str__(self):
        return f"{self.room.identifier}/{self.code}"

    def get_absolute_url(self):
        return reverse("em-point", args=[self.pk])


# A read plate is the record: its count, reader and judgement stay as read, and a sample
# with a result is never deleted (whatever path writes).
EM_RESULT_FINAL = [
    pgtrigger.Protect(
        name="em_result_final",
        operation=pgtrigger.Update | pgtrigger.Delete,
        condition=pgtrigger.Q(old__read_at__isnull=False),
    ),
]


@pghistory.track()
class EmSample(models.Model):
    """One plate: taken over a sampling period at a point, incubated, then read in CFU."""

    sampling_point = models.ForeignKey(
        SamplingPoint, on_delete=models.PROTECT, related_name="samples"
    )
    sample_type = models.CharField(max_length=20, choices=EmSampleType.choices)
    # The sampling period: the window in which a batch open in the room shares the result.
    sampling_started_at = models.DateTimeField()
    sampling_ended_at = models.DateTimeField()
    sampled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Whose gloves a glove print was taken from.
    person_sampled = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notes = FreeTextField(blank=True)
    recorded_at = models.DateTimeField()
    cfu = models.PositiveIntegerField(
        "Result (CFU)", null=True, blank=True, validators=CFU.validators()
    )
    level = models.CharField(max_length=10, choices=EmLevel.choices, blank=True)
    # The limits the result was judged against, kept as they were that day.
    alert_limit = models.PositiveIntegerField(null=True, blank=True)
    action_limit = models.PositiveIntegerField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sampling_started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sampling_ended_at__gte=F("sampling_started_at")),
                name="em_sampling_period_forward",
            ),
            models.CheckConstraint(condition=CFU.q("cfu", nullable=True), name="em_cfu_range"),
            # Read all at once: count, judgement, limits, reader and time, or none of them.
            models.CheckConstraint(
                condition=Q(
                    cfu__isnull=True,
                    level="",
                    alert_limit__isnull=True,
                    action_limit__isnull=True,
                    read_by__isnull=True,
                    read_at__isnull=True,
                )
                | Q(
                    cfu__isnull=False,
                    level__in=EmLevel.values,
                    alert_limit__isnull=False,
                    action_limit__isnull=False,
                    read_by__isnull=False,
                    read_at__gte=F("sampling_ended_at"),
                ),
                name="em_read_whole",
            ),
            models.CheckConstraint(
                condition=Q(sample_type=EmSampleType.GLOVE, person_sampled__isnull=False)
                | (~Q(sample_type=EmSampleType.GLOVE) & Q(person_sampled__isnull=True)),
                name="em_glove_names_person",
            ),
        ]
        indexes = [
            models.Index(fields=["sampling_point", "sampling_started_at"], name="em_point_time"),
        ]
        triggers = EM_RESULT_FINAL

    def __str__(self):
        return f"EM {self.pk} {self.sampling_point} {self.get_sample_type_display()}"

    def get_absolute_url(self):
        return reverse("em-sample", args=[self.pk])

    @property
    def sampling_period(self) -> str:
        return (
            f"{self.sampling_started_at:%Y-%m-%d %H:%M} to {self.sampling_ended_at:%Y-%m-%d %H:%M}"
        )


@pghistory.track()
class EmExcursionDeviation(models.Model):
    """A deviation an action-level result opened on a batch open in the room during the
    sampling period: the EM page shows which batches the excursion touched."""

    sample = models.ForeignKey(EmSample, on_delete=models.PROTECT, related_name="deviations")
    deviation = models.OneToOneField(
        "batches.Deviation", on_delete=models.PROTECT, related_name="em_excursion"
    )

    class Meta:
        ordering = ["sample", "deviation"]
        triggers = [
            pgtrigger.Protect(
                name="em_excursion_link_kept", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self):
        return f"{self.sample} -> deviation {self.deviation_id}"
