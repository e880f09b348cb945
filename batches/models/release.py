"""Release at a dose level (DESIGN section 6): protocol dose levels and the bags (dose units)
a harvested batch is formulated into."""

import pghistory
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from carnk_mfg import isbt128
from carnk_mfg.fields import ABOVE_ZERO, PERCENT, FreeCharField, FreeTextField, Range


@pghistory.track()
class ProtocolDoseLevel(models.Model):
    """A dose level of the trial protocol (defaults DL1-DL3, loaded by data migration)."""

    code = FreeCharField(max_length=10, unique=True)
    car_nk_cells_per_kg = models.FloatField(validators=ABOVE_ZERO.validators())
    # A dose uses a body weight measured at most this many days before the calculation.
    max_weight_age_days = models.PositiveIntegerField(default=14)
    # The allogeneic safety limit on T cells is a property of a dose, not of a batch: it is
    # checked when a bag is assigned to a recipient (the dose must stay below it).
    max_cd3_cells_per_kg = models.FloatField(
        "CD3+ T cells per kg, the dose stays below",
        default=2e5,
        validators=ABOVE_ZERO.validators(),
    )

    class Meta:
        ordering = ["car_nk_cells_per_kg"]
        constraints = [
            models.CheckConstraint(
                condition=ABOVE_ZERO.q("car_nk_cells_per_kg"), name="dose_level_positive"
            ),
            models.CheckConstraint(
                condition=ABOVE_ZERO.q("max_cd3_cells_per_kg"),
                name="dose_level_cd3_limit_positive",
            ),
        ]

    def __str__(self):
        return f"{self.code} ({self.car_nk_cells_per_kg:.0e} CAR-NK cells/kg)"


class Presentation(models.TextChoices):
    FRESH = "fresh", "Fresh"
    CRYOPRESERVED = "cryopreserved", "Cryopreserved"


class DoseUnitStatus(models.TextChoices):
    QUARANTINED = "quarantined", "Quarantined (awaiting release)"
    RELEASED = "released", "Released"
    ASSIGNED = "assigned", "Assigned to a recipient"
    ISSUED = "issued", "Issued"
    INFUSED = "infused", "Infused"
    REJECTED = "rejected", "Rejected (quarantined)"
    RECALLED = "recalled", "Recalled (do not use)"


# Bags a recall reaches: every one not yet in a patient.
NOT_INFUSED_STATUSES = [
    DoseUnitStatus.QUARANTINED,
    DoseUnitStatus.RELEASED,
    DoseUnitStatus.ASSIGNED,
    DoseUnitStatus.ISSUED,
]


division_validator = RegexValidator(
    isbt128.DIVISION_PATTERN,
    "A division code is a capital letter, then a small letter or 0 (A0, Ab).",
    code="division",
)
BAG_PRODUCT_CODE_PATTERN = (
    "^[A-Z][0-9]{4}[" + "".join(sorted(isbt128.COLLECTION_TYPES)) + "][A-Z][a-z0]$"
)

# A bag holds CAR-NK cells, so some are CAR+.
CAR_POSITIVE_PCT = Range(above=0, high=100)


@pghistory.track()
class DoseUnit(models.Model):
    """One bag. Its ISBT 128 identity is the batch's DIN with
    this bag's division code in the product code. The product code and the expiry are fixed
    at formulation from the product definition, so a later change of the definition never
    relabels a bag already made."""

    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT, related_name="dose_units")
    division = FreeCharField(max_length=2, validators=[division_validator])
    product_code = models.CharField(max_length=8)  # ProductDefinition.bag_product_code
    presentation = models.CharField(max_length=20, choices=Presentation.choices)
    volume_ml = models.DecimalField(
        max_digits=7, decimal_places=2, validators=ABOVE_ZERO.validators()
    )
    total_cells_per_ml = models.FloatField(validators=ABOVE_ZERO.validators())
    car_positive_pct = models.DecimalField(
        max_digits=5, decimal_places=2, validators=CAR_POSITIVE_PCT.validators()
    )
    cd3_positive_pct = models.DecimalField(
        max_digits=6, decimal_places=3, validators=PERCENT.validators()
    )
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=DoseUnitStatus.choices, default=DoseUnitStatus.QUARANTINED
    )
    recipient = models.ForeignKey(
        "batches.Recipient", null=True, blank=True, on_delete=models.PROTECT, related_name="doses"
    )
    dose_level = models.ForeignKey(
        ProtocolDoseLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dose_car_nk_cells = models.FloatField(null=True, blank=True)
    dose_volume_ml = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["batch", "division"]
        permissions = [
            ("formulate_doseunit", "Formulate a harvested batch into bags"),
            ("assign_dose", "Assign a released bag to a recipient at a dose level"),
            ("issue_dose", "Issue a bag and record its hand-offs to the bedside"),
            ("hand_off_dose", "Sign for a bag in a hand-off, and record a ship or a receive"),
            ("record_infusion", "Record an infusion"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["batch", "division"], name="one_bag_per_division"),
            models.CheckConstraint(
                condition=Q(division__regex=isbt128.DIVISION_PATTERN), name="bag_division_format"
            ),
            # The division is the product code's last two characters.
            models.CheckConstraint(
                condition=Q(product_code__regex=BAG_PRODUCT_CODE_PATTERN)
                & Q(product_code__endswith=F("division")),
                name="bag_product_code_format",
            ),
            models.CheckConstraint(condition=ABOVE_ZERO.q("volume_ml"), name="bag_volume_positive"),
            models.CheckConstraint(
                condition=ABOVE_ZERO.q("total_cells_per_ml"), name="bag_cells_positive"
            ),
            models.CheckConstraint(
                condition=CAR_POSITIVE_PCT.q("car_positive_pct"), name="bag_car_pct_range"
            ),
            models.CheckConstraint(
                condition=PERCENT.q("cd3_positive_pct"), name="bag_cd3_pct_range"
            ),
        ]
        # The stock on the home page (released, no recipient yet), soonest to expire first:
        # read from the few bags in stock, never from every bag ever made.
        indexes = [
            models.Index(
                fields=["expires_at", "id"],
                name="bag_in_stock_by_expiry",
                condition=Q(status=DoseUnitStatus.RELEASED, recipient__isnull=True),
            )
        ]

    def __str__(self):
        return f"Bag {self.batch.din} {self.division}"

    @property
    def car_nk_cells_per_ml(self) -> float:
        return self.total_cells_per_ml * float(self.car_positive_pct) / 100

    @property
    def car_nk_cells(self) -> float:
        return self.car_nk_cells_per_ml * float(self.volume_ml)


@pghistory.track()
class ReleaseDecision(models.Model):
    """QA's decision on a batch; the only way a batch becomes released or rejected (the
    database refuses those states without this row). A conditional release (tests the spec
    lets release pending, such as 14-day sterility, still open) stays open until each of them
    is reviewed in spec, or fails when one comes back out of spec (the batch is recalled)."""

    batch = models.OneToOneField(
        "batches.Batch", on_delete=models.PROTECT, related_name="release_decision"
    )
    decision = FreeCharField(max_length=10)  # release / reject
    conditional = models.BooleanField(default=False)
    pending_tests = models.ManyToManyField("qc.QcTest", blank=True, related_name="+")
    reason = FreeTextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure = FreeTextField(blank=True)

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=["release", "reject"]), name="decision_release_or_reject"
            ),
        ]

    def __str__(self):
        kind = "conditional release" if self.conditional else self.decision
        return f"{kind} of {self.batch.lot_number}"

    @property
    def status(self) -> str:
        """How the decision stands, in QA's words."""
        if self.decision == "reject":
            return "Rejected"
        if self.failed_at:
            return "Conditional release FAILED: batch recalled"
        if not self.conditional:
            return "Released"
        if self.closed_at:
            return "Conditional release confirmed (pending tests reviewed in spec)"
        return "Conditional release open (tests pending)"


@pghistory.track()
class Recall(models.Model):
    """A released batch called back: by a result that came back out of specification after a
    conditional release, or by QA. Every bag not yet infused is recalled with it; the lookback
    lists the bags already infused and their recipients."""

    batch = models.OneToOneField("batches.Batch", on_delete=models.PROTECT, related_name="recall")
    reason = FreeTextField()
    qc_test = models.ForeignKey(
        "qc.QcTest", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField()

    class Meta:
        ordering = ["-raised_at"]
        permissions = [("recall_batch", "Recall a released batch")]

    def __str__(self):
        return f"Recall of {self.batch.lot_number}"


@pghistory.track()
class LookbackEntry(models.Model):
    """A bag of a recalled batch that was already infused, and into whom."""

    recall = models.ForeignKey(Recall, on_delete=models.PROTECT, related_name="lookback")
    dose_unit = models.OneToOneField(DoseUnit, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey("batches.Recipient", on_delete=models.PROTECT, related_name="+")
    infusion = models.OneToOneField(
        "batches.Infusion", on_delete=models.PROTECT, related_name="lookback"
    )
    infused_at = models.DateTimeField()

    class Meta:
        ordering = ["infused_at"]
        verbose_name_plural = "lookback entries"

    def __str__(self):
        return f"{self.dose_unit} infused into {self.recipient.subject_id}"


class LabelPrintOutcome(models.TextChoices):
    SENDING = "sending", "Sending"
    PRINTED = "printed", "Sent to the printer"
    FAILED = "failed", "Failed"


@pghistory.track()
class LabelPrintJob(models.Model):
    """A bag label sent to the thermal label printer: which bag, by whom and why (the reason),
    to which printer, how many bytes of ZPL, and whether the printer took them. Written before
    the label is sent, so every label that may exist has its row; a printer that does not
    answer leaves a failed job with what went wrong."""

    dose_unit = models.ForeignKey(
        DoseUnit, on_delete=models.PROTECT, related_name="label_print_jobs"
    )
    printer = FreeCharField(max_length=300)  # host:port as configured
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    printed_at = models.DateTimeField()
    reason = FreeTextField()
    bytes_sent = models.PositiveIntegerField(default=0)
    outcome = models.CharField(
        max_length=10, choices=LabelPrintOutcome.choices, default=LabelPrintOutcome.SENDING
    )
    error = FreeTextField(blank=True)

    class Meta:
        ordering = ["-printed_at", "-pk"]
        permissions = [("print_label", "Print a bag label on the label printer")]

    def __str__(self):
        return f"Label of {self.dose_unit} to {self.printer}: {self.outcome}"
