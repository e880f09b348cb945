"""Cord blood units (DESIGN section 3) and their donor eligibility (21 CFR 1271.50/.60/.65)."""

from datetime import timedelta

import pghistory
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
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


class DonorMarker(models.TextChoices):
    """What a cord blood unit's donor (the mother) is tested for (21 CFR 1271.85): antibody or
    antigen screening tests and the nucleic acid tests (NAT) done beside them."""

    HIV_1_2_ANTIBODY = "hiv_1_2_ab", "HIV-1/2 antibody"
    HIV_1_NAT = "hiv_1_nat", "HIV-1 NAT"
    HBSAG = "hbsag", "HBsAg"
    ANTI_HBC = "anti_hbc", "Anti-HBc"
    HBV_NAT = "hbv_nat", "HBV NAT"
    HCV_ANTIBODY = "hcv_ab", "HCV antibody"
    HCV_NAT = "hcv_nat", "HCV NAT"
    SYPHILIS = "syphilis", "Syphilis"
    HTLV_I_II = "htlv_i_ii", "HTLV-I/II antibody"
    CMV = "cmv", "CMV"
    WNV_NAT = "wnv_nat", "WNV NAT"


class DonorTestResult(models.TextChoices):
    NON_REACTIVE = "non_reactive", "Non-reactive"
    REACTIVE = "reactive", "Reactive"
    INDETERMINATE = "indeterminate", "Indeterminate"


@pghistory.track()
class DonorTest(models.Model):
    """One test of a unit's donor: one result per marker. A result is never replaced by a
    repeat: a donor whose specimen tested reactive is ineligible (21 CFR 1271.80(d)(1)).

    Rows converted from the free-form marker list kept at registration before the panel
    existed (`from_marker_list`) have no sample date, kit or laboratory; they count as
    undated, and the full record of the same marker may be added beside them."""

    unit = models.ForeignKey(CordBloodUnit, on_delete=models.PROTECT, related_name="donor_tests")
    marker = models.CharField(max_length=20, choices=DonorMarker.choices)
    sample_date = models.DateField("Specimen sampled on", null=True, blank=True)
    result = models.CharField(max_length=20, choices=DonorTestResult.choices)
    test_kit = FreeCharField("Test kit", max_length=120, blank=True)
    kit_lot = FreeCharField("Kit lot", max_length=40, blank=True)
    laboratory = FreeCharField("Testing laboratory", max_length=200, blank=True)
    from_marker_list = models.BooleanField(
        "Converted from the registration's marker list", default=False
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["unit", "marker", "from_marker_list"]
        permissions = [("record_donor_test", "Record a donor test result of a cord blood unit")]
        constraints = [
            models.CheckConstraint(
                condition=Q(marker__in=DonorMarker.values), name="donortest_marker_known"
            ),
            models.CheckConstraint(
                condition=Q(result__in=DonorTestResult.values), name="donortest_result_known"
            ),
            models.UniqueConstraint(
                fields=["unit", "marker"],
                condition=Q(from_marker_list=False),
                name="donortest_one_result_per_marker",
                violation_error_message="This marker already has its result for this unit.",
            ),
            models.UniqueConstraint(
                fields=["unit", "marker"],
                condition=Q(from_marker_list=True),
                name="donortest_one_converted_result_per_marker",
            ),
            # Only a converted row may lack what identifies the test.
            models.CheckConstraint(
                condition=Q(from_marker_list=True)
                | (
                    Q(sample_date__isnull=False)
                    & ~Q(test_kit="")
                    & ~Q(kit_lot="")
                    & ~Q(laboratory="")
                ),
                name="donortest_recorded_in_full",
            ),
            # A specimen is sampled before its result is recorded (a day's grace: the date is
            # the lab's local one, the time is stored in UTC).
            models.CheckConstraint(
                condition=Q(sample_date__isnull=True)
                | Q(sample_date__lte=Cast("recorded_at", models.DateField()) + timedelta(days=1)),
                name="donortest_sampled_before_recorded",
            ),
        ]

    def __str__(self):
        return f"{self.get_marker_display()} of {self.unit.din}: {self.get_result_display()}"


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
