"""API shapes of material lots (vector, feeder, reagent)."""

from rest_framework import serializers

from batches.models import FeederLot, LotStatus, RcrResult, ReagentLot, VectorLot
from batches.models.materials import Reagent
from batches.services.materials import lot_usability
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
    status = serializers.ChoiceField(LotStatus.choices)
    reason = FreeTextIn()
    password = PasswordField()
