"""Material lots consumed by manufacturing: retroviral vector, feeder cells, reagents."""

import pghistory
from django.conf import settings
from django.db import models

from carnk_mfg.fields import (
    ABOVE_ZERO,
    FreeCharField,
    FreeTextField,
    IdentifierField,
    identifier_check,
)


class LotStatus(models.TextChoices):
    QUARANTINED = "quarantined", "Quarantined"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"


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

    kind = "material"

    class Meta:
        abstract = True
        ordering = ["expiry_date", "lot_number"]

    def __str__(self):
        return f"{self.kind} lot {self.lot_number}"


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
        ]
