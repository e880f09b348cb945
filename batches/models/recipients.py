"""Recipients: study subjects (pseudonymous, with the second identifiers the bedside
check needs), their weight history and dose level."""

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
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
