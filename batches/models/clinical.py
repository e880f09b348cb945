"""After the infusion: adverse events, the iC9 safety switch, and the protocol follow-up
visits with their tumour response."""

import pghistory
from django.conf import settings
from django.db import models

from batches.grading import Consciousness, Hypotension, Hypoxia, MotorFinding, RaisedIcp, Seizure
from batches.models.bedside import Infusion
from carnk_mfg.fields import NOT_NEGATIVE, FreeCharField, FreeTextField, Range


class AdverseEventKind(models.TextChoices):
    CRS = "crs", "Cytokine release syndrome (ASTCT)"
    ICANS = "icans", "ICANS (ASTCT, ICE score)"
    GVHD = "gvhd", "Graft-versus-host disease"
    OTHER = "other", "Other"


# ASTCT consensus grades 1-5 (5 = death); CRS, ICANS and GVHD stop at 4 (the service says
# which). The ICE score is 0-10.
ASTCT_GRADE = Range(low=1, high=5)
ICE_SCORE = Range(low=0, high=10)
# The grade the ASTCT findings give (batches.grading): 0 when they show no CRS or ICANS.
DERIVED_GRADE = Range(low=0, high=4)
# A body temperature outside 30-45 °C is a typing error.
BODY_TEMPERATURE_C = Range(low=30, high=45)
# AP1903 (rimiducid) is given at 0.4 mg/kg in the trial; above 1 mg/kg is a typing error.
AP1903_MG_PER_KG = Range(above=0, high=1)


@pghistory.track()
class AdverseEvent(models.Model):
    recipient = models.ForeignKey(
        "batches.Recipient", on_delete=models.PROTECT, related_name="adverse_events"
    )
    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="adverse_events")
    kind = models.CharField(max_length=10, choices=AdverseEventKind.choices)
    grade = models.PositiveSmallIntegerField(validators=ASTCT_GRADE.validators())
    ice_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=ICE_SCORE.validators()
    )
    # ASTCT findings (batches.grading), recorded for CRS and ICANS only; empty on other
    # events and on those reported before the findings were recorded.
    crs_temperature_c = models.DecimalField(
        "Highest temperature (°C)",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=BODY_TEMPERATURE_C.validators(),
    )
    crs_fever_masked = models.BooleanField(
        "Fever present, masked by antipyretic or anticytokine therapy", null=True, blank=True
    )
    crs_hypotension = models.CharField(
        "Hypotension", max_length=20, choices=Hypotension.choices, blank=True
    )
    crs_hypoxia = models.CharField("Hypoxia", max_length=20, choices=Hypoxia.choices, blank=True)
    ice_unarousable = models.BooleanField(
        "Unarousable, unable to perform ICE", null=True, blank=True
    )
    icans_consciousness = models.CharField(
        "Depressed level of consciousness",
        max_length=20,
        choices=Consciousness.choices,
        blank=True,
    )
    icans_seizure = models.CharField("Seizure", max_length=20, choices=Seizure.choices, blank=True)
    icans_motor = models.CharField(
        "Motor findings", max_length=20, choices=MotorFinding.choices, blank=True
    )
    icans_raised_icp = models.CharField(
        "Raised ICP / cerebral edema", max_length=20, choices=RaisedIcp.choices, blank=True
    )
    derived_grade = models.PositiveSmallIntegerField(
        "ASTCT grade from the findings",
        null=True,
        blank=True,
        validators=DERIVED_GRADE.validators(),
    )
    grade_difference_reason = FreeTextField(
        "Why the grade differs from the findings' ASTCT grade", blank=True
    )
    onset_at = models.DateTimeField()
    description = FreeTextField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField()

    class Meta:
        ordering = ["-onset_at"]
        permissions = [("report_adverse_event", "Report an adverse event")]
        constraints = [
            models.CheckConstraint(condition=ASTCT_GRADE.q("grade"), name="ae_grade_1_5"),
            models.CheckConstraint(
                condition=ICE_SCORE.q("ice_score", nullable=True), name="ae_ice_0_10"
            ),
            models.CheckConstraint(
                condition=DERIVED_GRADE.q("derived_grade", nullable=True),
                name="ae_derived_grade_0_4",
            ),
            models.CheckConstraint(
                condition=BODY_TEMPERATURE_C.q("crs_temperature_c", nullable=True),
                name="ae_temperature_30_45",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} grade {self.grade} in {self.recipient.subject_id}"


@pghistory.track()
class SafetySwitchActivation(models.Model):
    """The iC9 safety switch: the dimerizer AP1903 (rimiducid) given, when and how much."""

    recipient = models.ForeignKey(
        "batches.Recipient", on_delete=models.PROTECT, related_name="safety_switch"
    )
    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="safety_switch")
    given_at = models.DateTimeField()
    dose_mg_per_kg = models.DecimalField(
        max_digits=5, decimal_places=3, validators=AP1903_MG_PER_KG.validators()
    )
    reason = FreeTextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-given_at"]
        constraints = [
            models.CheckConstraint(
                condition=AP1903_MG_PER_KG.q("dose_mg_per_kg"), name="ap1903_dose_0_1"
            )
        ]

    def __str__(self):
        return f"AP1903 {self.dose_mg_per_kg} mg/kg at {self.given_at:%Y-%m-%d %H:%M}"


class TumourResponse(models.TextChoices):
    CR = "CR", "Complete response"
    PR = "PR", "Partial response"
    SD = "SD", "Stable disease"
    PD = "PD", "Progressive disease"


class RecipientRcrResult(models.TextChoices):
    """Replication-competent retrovirus in the recipient's blood (FDA long-term follow-up
    guidance): tested, or the sample archived untested while earlier results were negative."""

    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"
    ARCHIVED = "archived", "Sample archived, not tested"
    NOT_COLLECTED = "not_collected", "No sample collected"


class FollowUpOutcome(models.TextChoices):
    LOST = "lost", "Lost to follow-up"
    DIED = "died", "Died"
    WITHDREW = "withdrew", "Withdrew consent"
    COMPLETED = "completed", "Completed follow-up"


@pghistory.track()
class FollowUpVisit(models.Model):
    """A protocol follow-up visit after infusion. Open visits past `due_at` are flagged the
    way QC tests are (`carnk_mfg.due_work`: partial index, compare-and-set claim, outbox)."""

    recipient = models.ForeignKey(
        "batches.Recipient", on_delete=models.PROTECT, related_name="visits"
    )
    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="visits")
    visit = FreeCharField(max_length=20)  # e.g. "day 3", "week 1", "month 6"
    day = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    response = models.CharField(max_length=2, choices=TumourResponse.choices, blank=True)
    car_nk_copies_per_ug = models.FloatField(
        "CAR-NK persistence (qPCR copies/ug DNA)",
        null=True,
        blank=True,
        validators=NOT_NEGATIVE.validators(),
    )
    donor_specific_antibodies = FreeCharField(max_length=20, blank=True)
    notes = FreeTextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    # A blood sample for replication-competent retrovirus is due at this visit.
    rcr_sample = models.BooleanField(default=False)
    rcr_result = models.CharField(max_length=14, choices=RecipientRcrResult.choices, blank=True)
    # Set when the recipient's follow-up ended (lost, died...) with this visit still open: it
    # is no longer due and is never flagged overdue.
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        permissions = [("record_follow_up", "Record a follow-up visit")]
        constraints = [
            models.UniqueConstraint(fields=["infusion", "day"], name="one_visit_per_day"),
            models.CheckConstraint(
                condition=models.Q(done_at__isnull=True) | models.Q(closed_at__isnull=True),
                name="visit_done_or_closed_not_both",
            ),
            models.CheckConstraint(
                condition=NOT_NEGATIVE.q("car_nk_copies_per_ug", nullable=True),
                name="visit_copies_not_negative",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="visit_overdue_scan",
                condition=models.Q(
                    done_at__isnull=True, closed_at__isnull=True, overdue_flagged_at__isnull=True
                ),
            )
        ]

    def __str__(self):
        return f"{self.visit} follow-up of {self.recipient.subject_id}"


@pghistory.track()
class FollowUpEnd(models.Model):
    """How and when a recipient's follow-up ended before its schedule ran out, or that it
    ran out: recorded once; the visits still open are closed with it."""

    recipient = models.OneToOneField(
        "batches.Recipient", on_delete=models.PROTECT, related_name="follow_up_end"
    )
    outcome = models.CharField(max_length=10, choices=FollowUpOutcome.choices)
    ended_on = models.DateField()
    # The cause of death, the attempts to reach a patient lost to follow-up...
    detail = FreeTextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    def __str__(self):
        return f"{self.get_outcome_display()}: {self.recipient.subject_id} on {self.ended_on}"
