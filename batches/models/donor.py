"""Cord blood units (DESIGN section 3) and their donor eligibility (21 CFR 1271.50/.60/.65)."""

import pghistory
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from carnk_mfg import isbt128
from carnk_mfg.fields import ABOVE_ZERO, NOT_NEGATIVE, PERCENT, FreeCharField, FreeTextField


class Eligibility(models.TextChoices):
    PENDING = "pending", "Not yet determined"
    ELIGIBLE = "eligible", "Eligible"
    INELIGIBLE = "ineligible", "Ineligible"
    INCOMPLETE = "incomplete", "Incomplete"


class UnitStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    QUARANTINED = "quarantined", "Quarantined"
    AVAILABLE = "available", "Available"
    ALLOCATED = "allocated", "Allocated"
    CONSUMED = "consumed", "Consumed"
    DISCARDED = "discarded", "Discarded"


class KirLigandGroup(models.TextChoices):
    C1C1 = "C1/C1", "C1/C1"
    C1C2 = "C1/C2", "C1/C2"
    C2C2 = "C2/C2", "C2/C2"


product_code_validator = RegexValidator(
    r"^[A-Z][0-9]{4}[A-Z0-9]{3}$",
    "An ISBT 128 product code is a letter, 4 digits and a 3-character type/division "
    "code, e.g. S1145V00.",
)


@pghistory.track()
class CordBloodUnit(models.Model):
    din = FreeCharField("DIN", max_length=13, unique=True)
    product_code = FreeCharField(max_length=8, validators=[product_code_validator])
    source_bank = FreeCharField(max_length=120)
    collected_at = models.DateTimeField()
    cryopreserved_at = models.DateTimeField()
    volume_ml = models.DecimalField(
        max_digits=7, decimal_places=2, validators=ABOVE_ZERO.validators()
    )
    tnc_count = models.FloatField("TNC (cells)", validators=ABOVE_ZERO.validators())
    cd34_count = models.FloatField("CD34+ (cells)", validators=NOT_NEGATIVE.validators())
    nrbc_count = models.FloatField(
        "Nucleated red cells (cells)", validators=NOT_NEGATIVE.validators()
    )
    viability_pct = models.DecimalField(
        max_digits=5, decimal_places=2, validators=PERCENT.validators()
    )
    hla_a = FreeCharField("HLA-A", max_length=40, blank=True)
    hla_b = FreeCharField("HLA-B", max_length=40, blank=True)
    hla_c = FreeCharField("HLA-C", max_length=40, blank=True)
    hla_drb1 = FreeCharField("HLA-DRB1", max_length=40, blank=True)
    kir_ligand_group = models.CharField(max_length=5, choices=KirLigandGroup.choices, blank=True)
    # marker name -> "negative" / "positive" / "not tested" (maternal infectious disease tests)
    maternal_markers = models.JSONField(default=dict, blank=True)
    freezer = FreeCharField(max_length=40)
    rack = FreeCharField(max_length=20)
    box = FreeCharField(max_length=20)
    position = FreeCharField(max_length=20)
    status = models.CharField(
        max_length=20, choices=UnitStatus.choices, default=UnitStatus.RECEIVED
    )
    eligibility = models.CharField(
        max_length=20, choices=Eligibility.choices, default=Eligibility.PENDING
    )
    eligibility_notes = FreeTextField(blank=True)
    eligibility_determined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    eligibility_determined_at = models.DateTimeField(null=True, blank=True)
    urgent_medical_need = models.ForeignKey(
        "UrgentMedicalNeed", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField()

    class Meta:
        ordering = ["-registered_at", "-id"]
        permissions = [
            ("determine_eligibility", "Determine donor eligibility of a cord blood unit"),
            ("allocate_cordbloodunit", "Allocate a cord blood unit to manufacturing"),
            ("discard_cordbloodunit", "Discard a cord blood unit"),
            ("store_cordbloodunit", "Move a cord blood unit between storage locations"),
        ]
        constraints = [
            models.CheckConstraint(condition=ABOVE_ZERO.q("volume_ml"), name="cbu_volume_positive"),
            models.CheckConstraint(condition=ABOVE_ZERO.q("tnc_count"), name="cbu_tnc_positive"),
            models.CheckConstraint(
                condition=NOT_NEGATIVE.q("cd34_count"), name="cbu_cd34_not_negative"
            ),
            models.CheckConstraint(
                condition=NOT_NEGATIVE.q("nrbc_count"), name="cbu_nrbc_not_negative"
            ),
            models.CheckConstraint(
                condition=PERCENT.q("viability_pct"), name="cbu_viability_0_100"
            ),
            models.CheckConstraint(
                condition=Q(cryopreserved_at__gte=models.F("collected_at")),
                name="cbu_cryo_after_collection",
            ),
            models.CheckConstraint(
                condition=Q(din__regex=r"^[A-NP-Z1-9][0-9]{12}$"), name="cbu_din_form"
            ),
        ]

    def __str__(self):
        return f"CBU {self.din_eye_readable}"

    def get_absolute_url(self):
        return reverse("cbu-detail", args=[self.din])

    @property
    def check_character(self) -> str:
        return isbt128.check_character(self.din)

    @property
    def din_eye_readable(self) -> str:
        return f"{self.din} {self.check_character}"

    @property
    def storage_location(self) -> str:
        return f"{self.freezer} / rack {self.rack} / box {self.box} / {self.position}"

    @property
    def collection_to_cryo_hours(self) -> float:
        return (self.cryopreserved_at - self.collected_at).total_seconds() / 3600

    @property
    def flags(self) -> list[str]:
        """Warnings a reviewer must see (limits are site settings, DESIGN section 3)."""
        found = []
        max_hours = settings.CBU_MAX_COLLECTION_TO_CRYO_HOURS
        if self.collection_to_cryo_hours > max_hours:
            found.append(
                f"Collection to cryopreservation took {self.collection_to_cryo_hours:.1f} h "
                f"(limit {max_hours:g} h)."
            )
        if self.nrbc_count > settings.CBU_NRBC_FLAG_ABOVE:
            found.append(
                f"Nucleated red cells {self.nrbc_count:.2e} exceed "
                f"{settings.CBU_NRBC_FLAG_ABOVE:.0e}."
            )
        return found

    @property
    def usable_without_urgent_need(self) -> bool:
        return self.eligibility == Eligibility.ELIGIBLE


@pghistory.track()
class UrgentMedicalNeed(models.Model):
    """The documented urgent medical need that lets an ineligible or incomplete unit be used
    (21 CFR 1271.65(b)); its labels then carry the required warnings."""

    unit = models.ForeignKey(CordBloodUnit, on_delete=models.PROTECT, related_name="urgent_needs")
    justification = FreeTextField()
    physician = FreeCharField(max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"Urgent medical need for {self.unit.din} ({self.physician})"


@pghistory.track()
class DonorSpecificAntibody(models.Model):
    """A recipient's test for antibodies against the HLA of one cord blood unit: present or
    absent, with the strongest bead's mean fluorescence intensity (MFI) when present."""

    recipient = models.ForeignKey(
        "Recipient", on_delete=models.PROTECT, related_name="donor_specific_antibodies"
    )
    unit = models.ForeignKey(
        CordBloodUnit, on_delete=models.PROTECT, related_name="donor_specific_antibodies"
    )
    present = models.BooleanField()
    mfi = models.PositiveIntegerField("MFI", null=True, blank=True)
    specificity = FreeCharField(max_length=200, blank=True)  # e.g. "anti-A*02:01"
    tested_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-tested_on", "-recorded_at"]
        permissions = [("record_dsa", "Record donor-specific antibodies of a recipient")]
        constraints = [
            # A positive result is only interpretable with its strength.
            models.CheckConstraint(
                condition=Q(present=False) | Q(mfi__isnull=False), name="dsa_present_has_mfi"
            )
        ]

    def __str__(self):
        result = f"present, MFI {self.mfi}" if self.present else "absent"
        return f"DSA against {self.unit.din}: {result} ({self.tested_on})"


@pghistory.track()
class UnitSelection(models.Model):
    """Why a unit was chosen for a recipient, with the match as it was shown at the time (the
    typing may be corrected later; the record keeps what the decision rested on)."""

    unit = models.ForeignKey(CordBloodUnit, on_delete=models.PROTECT, related_name="selections")
    recipient = models.ForeignKey(
        "Recipient", on_delete=models.PROTECT, related_name="unit_selections"
    )
    rationale = FreeTextField()
    match_grade = FreeCharField(max_length=120)
    unit_kir_ligands = FreeCharField("Unit KIR ligands", max_length=120)
    recipient_kir_ligands = FreeCharField("Recipient KIR ligands", max_length=120)
    kir_mismatch = FreeCharField("KIR-ligand mismatch", max_length=200)
    dsa = models.ForeignKey(
        DonorSpecificAntibody,
        verbose_name="DSA result",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    selected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    selected_at = models.DateTimeField()

    class Meta:
        ordering = ["-selected_at"]

    def __str__(self):
        return f"{self.unit.din} selected for {self.recipient.subject_id} ({self.match_grade})"
