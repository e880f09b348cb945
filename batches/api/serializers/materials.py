"""API shapes of material lots (vector, feeder, reagent)."""

from decimal import Decimal

from rest_framework import serializers

from batches.models import (
    AdjustmentKind,
    BatchState,
    FeederLot,
    LotCertificate,
    RcrResult,
    ReagentLot,
    StockAdjustment,
    StockUnit,
    VectorLot,
)
from batches.models.materials import Reagent
from batches.services.materials import DISPOSITIONS, lot_usability
from carnk_mfg.api.serializers import FreeTextIn, IdentifierInField, PasswordField
from carnk_mfg.fields import validators_of

_LOT_OUT = [
    "lot_number",
    "manufacturer",
    "received_on",
    "expiry_date",
    "status",
    "status_reason",
    "dispositioned_at",
    "registered_at",
    "quantity_received",
    "quantity_on_hand",
    "unit",
    "usable",
    "unusable_reason",
]


class _LotOut(serializers.ModelSerializer):
    usable = serializers.SerializerMethodField()
    unusable_reason = serializers.SerializerMethodField()

    def get_usable(self, lot) -> bool:
        return lot_usability(lot).usable

    def get_unusable_reason(self, lot) -> str:
        return lot_usability(lot).reason


class VectorLotOut(_LotOut):
    class Meta:
        model = VectorLot
        fields = [*_LOT_OUT, "construct", "titer_iu_per_ml", "rcr_result"]


class FeederLotOut(_LotOut):
    class Meta:
        model = FeederLot
        fields = [*_LOT_OUT, "cell_line", "irradiation_dose_gy", "irradiated_on"]


class ReagentLotOut(_LotOut):
    class Meta:
        model = ReagentLot
        fields = [*_LOT_OUT, "reagent", "description"]


class _LotIn(serializers.Serializer):
    lot_number = IdentifierInField(max_length=60)
    manufacturer = serializers.CharField(max_length=120)
    received_on = serializers.DateField()
    expiry_date = serializers.DateField()
    quantity_received = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        help_text="All of it is on hand until steps draw from it",
    )
    unit = serializers.ChoiceField(StockUnit.choices)


class VectorLotIn(_LotIn):
    construct = serializers.CharField(max_length=80, required=False)
    titer_iu_per_ml = serializers.FloatField(validators=validators_of(VectorLot, "titer_iu_per_ml"))
    rcr_result = serializers.ChoiceField(RcrResult.choices, required=False)


class FeederLotIn(_LotIn):
    cell_line = serializers.CharField(max_length=80, required=False)
    irradiation_dose_gy = serializers.DecimalField(
        max_digits=6, decimal_places=1, validators=validators_of(FeederLot, "irradiation_dose_gy")
    )
    irradiated_on = serializers.DateField()


class ReagentLotIn(_LotIn):
    reagent = serializers.ChoiceField(Reagent.choices)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class DispositionIn(serializers.Serializer):
    status = serializers.ChoiceField([(s.value, s.label) for s in DISPOSITIONS])
    reason = FreeTextIn()
    password = PasswordField()


# --- stock: certificates, adjustments, recall, the batches that used a lot ---


class CertificateOut(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username")

    class Meta:
        model = LotCertificate
        fields = ["id", "filename", "sha256", "size_bytes", "uploaded_by", "uploaded_at"]


class CertificateIn(serializers.Serializer):
    file = serializers.FileField(help_text="The supplier's certificate of analysis, as received")


class AdjustmentOut(serializers.ModelSerializer):
    adjusted_by = serializers.CharField(source="adjusted_by.username")

    class Meta:
        model = StockAdjustment
        fields = [
            "id",
            "adjustment_kind",
            "change",
            "on_hand_after",
            "reason",
            "adjusted_by",
            "adjusted_at",
        ]


class AdjustmentIn(serializers.Serializer):
    adjustment_kind = serializers.ChoiceField(AdjustmentKind.choices)
    change = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        help_text="In the lot's unit: negative takes stock away, positive adds (a recount)",
    )
    reason = FreeTextIn()


class LotRecallIn(serializers.Serializer):
    reason = FreeTextIn()
    password = PasswordField()


class LotUseOut(serializers.Serializer):
    batch_lot_number = serializers.CharField()
    batch_state = serializers.ChoiceField(BatchState.choices)
    step_order = serializers.IntegerField()
    step_name = serializers.CharField()
    performed_at = serializers.DateTimeField()
    quantity_used = serializers.DecimalField(max_digits=12, decimal_places=3, allow_null=True)
    quantity_as_written = serializers.CharField(
        help_text="Quantity as written on steps recorded before stock was counted"
    )
