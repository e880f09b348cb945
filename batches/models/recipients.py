"""Recipients: study subjects (pseudonymous, with the second identifiers the bedside
check needs), their weight history, dose level and the lymphodepletion given before the
infusion."""

from decimal import Decimal

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Round
from django.urls import reverse
from django.utils import timezone

from batches.models.donor import KirLigandGroup
from carnk_mfg.fields import FreeCharField, IdentifierField, Range, identifier_check


class Diagnosis(models.TextChoices):
    NHL = "NHL", "Non-Hodgkin lymphoma"
    CLL = "CLL", "Chronic lymphocytic leukaemia"
    ALL = "ALL", "Acute lymphoblastic leukaemia"
    OTHER = "other", "Other CD19+ malignancy"


class DoseLevel(models.TextChoices):
    DL1 = "DL1", "DL1 (1x10^5 CAR-NK/kg)"
    DL2 = "DL2", "DL2 (1x10^6 CAR-NK/kg)"
    DL3 = "DL3", "DL3 (1x10^7 CAR-NK/kg)"


def not_in_the_future(value):
    if value is not None and value > timezone.localdate():
        raise ValidationError("A date of birth cannot be in the future.", code="future")


@pghistory.track()
class Recipient(models.Model):
    subject_id = IdentifierField(max_length=40, unique=True)
    diagnosis = models.CharField(max_length=10, choices=Diagnosis.choices)
    diagnosis_detail = FreeCharField(max_length=200, blank=True)
    hla_a = FreeCharField("HLA-A", max_length=40, blank=True)
    hla_b = FreeCharField("HLA-B", max_length=40, blank=True)
    hla_c = FreeCharField("HLA-C", max_length=40, blank=True)
    hla_drb1 = FreeCharField("HLA-DRB1", max_length=40, blank=True)
    # Stated when the HLA-C alleles are not in the KIR-ligand table (batches/hla.py).
    kir_ligand_group = models.CharField(
        "KIR-ligand group (stated)", max_length=5, choices=KirLigandGroup.choices, blank=True
    )
    # The second patient identifier the bedside check compares with the wristband's (at least
    # one of the two is needed there).
    date_of_birth = models.DateField(null=True, blank=True, validators=[not_in_the_future])
    medical_record_number = FreeCharField("Medical record number", max_length=40, blank=True)
    dose_level = models.CharField(max_length=3, choices=DoseLevel.choices, blank=True)
    # Day 0 = infusion; fludarabine/cyclophosphamide on days -5 to -3 by default.
    planned_infusion_on = models.DateField(null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField()
    # The clinician whose patient this is: their home page lists this recipient's bags,
    # infusions, visits and adverse events. Empty only on rows enrolled before it was kept.
    treating_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="treated_recipients",
    )

    class Meta:
        ordering = ["subject_id"]
        permissions = [("record_weight", "Record a recipient's body weight")]
        constraints = [identifier_check("subject_id", name="recipient_subject_id_identifier")]

    def __str__(self):
        return f"Recipient {self.subject_id}"

    def get_absolute_url(self):
        return reverse("recipient-detail", args=[self.subject_id])


# A human body weight in kg; anything above is a typing error.
BODY_WEIGHT_KG = Range(above=0, high=400)


@pghistory.track()
class WeightMeasurement(models.Model):
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="weights")
    weight_kg = models.DecimalField(
        max_digits=5, decimal_places=1, validators=BODY_WEIGHT_KG.validators()
    )
    measured_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-measured_on", "-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=BODY_WEIGHT_KG.q("weight_kg"), name="weight_in_human_range"
            )
        ]

    def __str__(self):
        return f"{self.weight_kg} kg on {self.measured_on}"


class LymphodepletionAgent(models.TextChoices):
    FLUDARABINE = "fludarabine", "Fludarabine"
    CYCLOPHOSPHAMIDE = "cyclophosphamide", "Cyclophosphamide"


# Above these a dose in mg/m2 or a body surface area is a typing error (cyclophosphamide runs
# to a few grams per m2 in any conditioning regimen; a body is 0.2 m2 at birth).
LYMPHODEPLETION_MG_PER_M2 = Range(above=0, high=3000)
BODY_SURFACE_AREA_M2 = Range(low=Decimal("0.2"), high=Decimal("3.5"))
LYMPHODEPLETION_TOTAL_MG = Range(above=0, high=10500)


@pghistory.track()
class LymphodepletionDose(models.Model):
    """One dose of the preparative regimen given to a recipient before the infusion: the
    agent, its dose per m2 with the body surface area it was calculated for, the total given
    (dose x BSA, held equal by the table), the day it was given and by whom."""

    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="lymphodepletion_doses"
    )
    agent = models.CharField(max_length=20, choices=LymphodepletionAgent.choices)
    dose_mg_per_m2 = models.DecimalField(
        "Dose (mg/m2)",
        max_digits=6,
        decimal_places=1,
        validators=LYMPHODEPLETION_MG_PER_M2.validators(),
    )
    body_surface_area_m2 = models.DecimalField(
        "Body surface area (m2)",
        max_digits=3,
        decimal_places=2,
        validators=BODY_SURFACE_AREA_M2.validators(),
    )
    total_dose_mg = models.DecimalField(
        "Total dose (mg)",
        max_digits=7,
        decimal_places=1,
        validators=LYMPHODEPLETION_TOTAL_MG.validators(),
    )
    given_on = models.DateField()
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["given_on", "agent"]
        permissions = [("record_lymphodepletion", "Record a lymphodepletion dose")]
        constraints = [
            models.CheckConstraint(
                condition=LYMPHODEPLETION_MG_PER_M2.q("dose_mg_per_m2"),
                name="lymphodepletion_dose_in_range",
            ),
            models.CheckConstraint(
                condition=BODY_SURFACE_AREA_M2.q("body_surface_area_m2"),
                name="lymphodepletion_bsa_in_human_range",
            ),
            models.CheckConstraint(
                condition=LYMPHODEPLETION_TOTAL_MG.q("total_dose_mg"),
                name="lymphodepletion_total_in_range",
            ),
            # The total is the dose for this body: dose x BSA, to 0.1 mg.
            models.CheckConstraint(
                condition=models.Q(
                    total_dose_mg=Round(
                        models.F("dose_mg_per_m2") * models.F("body_surface_area_m2"), 1
                    )
                ),
                name="lymphodepletion_total_is_dose_times_bsa",
            ),
            # The regimen gives each agent once a day.
            models.UniqueConstraint(
                fields=["recipient", "agent", "given_on"],
                name="lymphodepletion_one_dose_of_an_agent_a_day",
            ),
        ]

    def __str__(self):
        return f"{self.get_agent_display()} {self.dose_mg_per_m2} mg/m2 on {self.given_on}"

    @property
    def day(self) -> int | None:
        """The day relative to the planned infusion (day 0), when one is planned."""
        planned = self.recipient.planned_infusion_on
        return None if planned is None else (self.given_on - planned).days
