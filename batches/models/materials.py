"""Material lots consumed by manufacturing: retroviral vector, feeder cells, reagents; their
stock on hand, the supplier's certificates of analysis, and stock adjustments."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q

from carnk_mfg.fields import (
    ABOVE_ZERO,
    NOT_NEGATIVE,
    FreeCharField,
    FreeTextField,
    IdentifierField,
    identifier_check,
)


class LotStatus(models.TextChoices):
    QUARANTINED = "quarantined", "Quarantined"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"
    # Final: a recalled lot is never used again nor dispositioned back.
    RECALLED = "recalled", "Recalled"


class StockUnit(models.TextChoices):
    ML = "ml", "mL"
    UG = "ug", "µg"
    MG = "mg", "mg"
    VIAL = "vial", "vials"
    BAG = "bag", "bags"
    KIT = "kit", "kits"


class RcrResult(models.TextChoices):
    PENDING = "pending", "Pending"
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"


class MaterialLot(models.Model):
    """Fields every lot has. Whether a lot may be used is decided by one function only:
    `batches.services.materials.lot_usability`."""

    lot_number = IdentifierField(max_length=60, unique=True)
    manufacturer = FreeCharField(max_length=120)
    received_on = models.DateField()
    expiry_date = models.DateField()
    status = models.CharField(
        max_length=20, choices=LotStatus.choices, default=LotStatus.QUARANTINED
    )
    status_reason = FreeTextField(blank=True)
    dispositioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispositioned_at = models.DateTimeField(null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField()
    quantity_received = models.DecimalField(
        max_digits=12, decimal_places=3, default=0, validators=NOT_NEGATIVE.validators()
    )
    # Decremented by each step's use and by adjustments, always under a row lock; lots
    # received before stock was counted hold 0 until a count correction.
    quantity_on_hand = models.DecimalField(
        max_digits=12, decimal_places=3, default=0, validators=NOT_NEGATIVE.validators()
    )
    unit = models.CharField(max_length=10, choices=StockUnit.choices, default=StockUnit.ML)

    kind = "material"

    class Meta:
        abstract = True
        ordering = ["expiry_date", "lot_number"]

    def __str__(self):
        return f"{self.kind} lot {self.lot_number}"


def stock_checks(model_name: str) -> list[models.CheckConstraint]:
    """No path may leave a lot with less than nothing on hand."""
    return [
        models.CheckConstraint(
            condition=NOT_NEGATIVE.q("quantity_on_hand"), name=f"{model_name}_on_hand_not_negative"
        ),
        models.CheckConstraint(
            condition=NOT_NEGATIVE.q("quantity_received"),
            name=f"{model_name}_received_not_negative",
        ),
    ]


@pghistory.track()
class VectorLot(MaterialLot):
    construct = FreeCharField(max_length=80, default="iC9/CAR.19/IL15")
    titer_iu_per_ml = models.FloatField("Titer (IU/mL)", validators=ABOVE_ZERO.validators())
    rcr_result = models.CharField(
        "RCR result", max_length=20, choices=RcrResult.choices, default=RcrResult.PENDING
    )

    kind = "vector"

    class Meta(MaterialLot.Meta):
        permissions = [("disposition_vectorlot", "Release or reject a vector lot")]
        constraints = [
            identifier_check("lot_number", name="vectorlot_lot_number_identifier"),
            *stock_checks("vectorlot"),
            models.CheckConstraint(
                condition=ABOVE_ZERO.q("titer_iu_per_ml"), name="vector_titer_positive"
            ),
        ]


@pghistory.track()
class FeederLot(MaterialLot):
    cell_line = FreeCharField(max_length=80, default="K562 uAPC (CD48, 4-1BBL, mbIL-21)")
    irradiation_dose_gy = models.DecimalField(
        "Irradiation dose (Gy)",
        max_digits=6,
        decimal_places=1,
        validators=ABOVE_ZERO.validators(),
    )
    irradiated_on = models.DateField()

    kind = "feeder"

    class Meta(MaterialLot.Meta):
        permissions = [("disposition_feederlot", "Release or reject a feeder cell lot")]
        constraints = [
            identifier_check("lot_number", name="feederlot_lot_number_identifier"),
            *stock_checks("feederlot"),
            models.CheckConstraint(
                condition=ABOVE_ZERO.q("irradiation_dose_gy"), name="feeder_dose_positive"
            ),
        ]


class Reagent(models.TextChoices):
    IL2 = "il2", "IL-2"
    RETRONECTIN = "retronectin", "RetroNectin"
    MEDIUM = "medium", "Culture medium"
    ISOLATION = "isolation", "Isolation reagent"
    OTHER = "other", "Other"


@pghistory.track()
class ReagentLot(MaterialLot):
    reagent = models.CharField(max_length=20, choices=Reagent.choices)
    description = FreeCharField(max_length=200, blank=True)

    kind = "reagent"

    class Meta(MaterialLot.Meta):
        permissions = [("disposition_reagentlot", "Release or reject a reagent lot")]
        constraints = [
            identifier_check("lot_number", name="reagentlot_lot_number_identifier"),
            *stock_checks("reagentlot"),
        ]


class OfOneLot(models.Model):
    """A record about exactly one lot of one of the three kinds (as MaterialUse)."""

    vector_lot = models.ForeignKey(
        VectorLot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    feeder_lot = models.ForeignKey(
        FeederLot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reagent_lot = models.ForeignKey(
        ReagentLot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def lot(self):
        return self.vector_lot or self.feeder_lot or self.reagent_lot


def one_lot_check(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(
            Q(vector_lot__isnull=False, feeder_lot__isnull=True, reagent_lot__isnull=True)
            | Q(vector_lot__isnull=True, feeder_lot__isnull=False, reagent_lot__isnull=True)
            | Q(vector_lot__isnull=True, feeder_lot__isnull=True, reagent_lot__isnull=False)
        ),
        name=name,
    )


@pghistory.track(exclude=["content"])
class LotCertificate(OfOneLot):
    """The supplier's certificate of analysis, kept as received with its SHA-256."""

    filename = FreeCharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    size_bytes = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-uploaded_at"]
        permissions = [("upload_certificate", "Upload a supplier certificate of analysis")]
        constraints = [
            one_lot_check("certificate_one_lot"),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="certificate_sha256_hex"
            ),
        ]

    def __str__(self):
        return f"CoA {self.filename} of {self.lot}"


class AdjustmentKind(models.TextChoices):
    COUNT = "count", "Count correction"
    BREAKAGE = "breakage", "Breakage or spill"
    DISCARDED = "discarded", "Discarded"
    OTHER = "other", "Other"


@pghistory.track()
class StockAdjustment(OfOneLot):
    """A change to a lot's stock that no step made: a count correction, a breakage."""

    adjustment_kind = models.CharField(max_length=20, choices=AdjustmentKind.choices)
    change = models.DecimalField(max_digits=12, decimal_places=3)
    on_hand_after = models.DecimalField(max_digits=12, decimal_places=3)
    reason = FreeTextField()
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    adjusted_at = models.DateTimeField()

    class Meta:
        ordering = ["-adjusted_at"]
        permissions = [("adjust_stock", "Correct a lot's stock (count, breakage)")]
        constraints = [
            one_lot_check("adjustment_one_lot"),
            models.CheckConstraint(condition=~Q(change=0), name="adjustment_changes_stock"),
            models.CheckConstraint(
                condition=NOT_NEGATIVE.q("on_hand_after"), name="adjustment_leaves_stock"
            ),
        ]

    def __str__(self):
        return f"{self.get_adjustment_kind_display()} {self.change:+} of {self.lot}"
