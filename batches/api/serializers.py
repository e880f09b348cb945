"""API input and output shapes. Inputs are plain serializers (types and ranges); the business
rules are checked once, in the services."""

from rest_framework import serializers

from batches.models import (
    CordBloodUnit,
    Diagnosis,
    DoseLevel,
    Eligibility,
    FeederLot,
    LotStatus,
    RcrResult,
    ReagentLot,
    Recipient,
    VectorLot,
    WeightMeasurement,
)
from batches.models.donor import KirLigandGroup
from batches.models.materials import Reagent
from carnk_mfg.api.serializers import PasswordField
from carnk_mfg.fields import validators_of

# --- Cord blood units ---


class CordBloodUnitOut(serializers.ModelSerializer):
    check_character = serializers.CharField(read_only=True)
    flags = serializers.ListField(child=serializers.CharField(), read_only=True)
    storage_location = serializers.CharField(read_only=True)
    registered_by = serializers.CharField(source="registered_by.username", read_only=True)

    class Meta:
        model = CordBloodUnit
        fields = [
            "din",
            "check_character",
            "product_code",
            "source_bank",
            "collected_at",
            "cryopreserved_at",
            "volume_ml",
            "tnc_count",
            "cd34_count",
            "nrbc_count",
            "viability_pct",
            "hla_a",
            "hla_b",
            "hla_c",
            "hla_drb1",
            "kir_ligand_group",
            "maternal_markers",
            "freezer",
            "rack",
            "box",
            "position",
            "storage_location",
            "status",
            "eligibility",
            "eligibility_notes",
            "eligibility_determined_at",
            "flags",
            "registered_by",
            "registered_at",
        ]


class CordBloodUnitRegisterIn(serializers.Serializer):
    din = serializers.CharField(max_length=20)
    check_character = serializers.CharField(max_length=1)
    product_code = serializers.CharField(max_length=8)
    source_bank = serializers.CharField(max_length=120)
    collected_at = serializers.DateTimeField()
    cryopreserved_at = serializers.DateTimeField()
    # Bounds are the model fields' own (carnk_mfg.fields).
    volume_ml = serializers.DecimalField(
        max_digits=7, decimal_places=2, validators=validators_of(CordBloodUnit, "volume_ml")
    )
    tnc_count = serializers.FloatField(validators=validators_of(CordBloodUnit, "tnc_count"))
    cd34_count = serializers.FloatField(validators=validators_of(CordBloodUnit, "cd34_count"))
    nrbc_count = serializers.FloatField(validators=validators_of(CordBloodUnit, "nrbc_count"))
    viability_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, validators=validators_of(CordBloodUnit, "viability_pct")
    )
    hla_a = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_b = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_c = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_drb1 = serializers.CharField(max_length=40, required=False, allow_blank=True)
    kir_ligand_group = serializers.ChoiceField(
        KirLigandGroup.choices, required=False, allow_blank=True
    )
    maternal_markers = serializers.DictField(
        child=serializers.ChoiceField(["negative", "positive", "not tested"]), required=False
    )
    freezer = serializers.CharField(max_length=40)
    rack = serializers.CharField(max_length=20)
    box = serializers.CharField(max_length=20)
    position = serializers.CharField(max_length=20)
    password = PasswordField()


class EligibilityIn(serializers.Serializer):
    eligibility = serializers.ChoiceField(
        [Eligibility.ELIGIBLE, Eligibility.INELIGIBLE, Eligibility.INCOMPLETE]
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    password = PasswordField()


class AllocateIn(serializers.Serializer):
    reason = serializers.CharField()
    urgent_need_justification = serializers.CharField(required=False, allow_blank=True, default="")
    urgent_need_physician = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )


class MoveIn(serializers.Serializer):
    freezer = serializers.CharField(max_length=40)
    rack = serializers.CharField(max_length=20)
    box = serializers.CharField(max_length=20)
    position = serializers.CharField(max_length=20)
    reason = serializers.CharField()


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField()


# --- Material lots ---

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
        from batches.services.materials import lot_usability

        return lot_usability(lot).usable

    def get_unusable_reason(self, lot) -> str:
        from batches.services.materials import lot_usability

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
    lot_number = serializers.CharField(max_length=60)
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
    reason = serializers.CharField()
    password = PasswordField()


# --- Recipients ---


class WeightOut(serializers.ModelSerializer):
    class Meta:
        model = WeightMeasurement
        fields = ["weight_kg", "measured_on", "recorded_at"]


class RecipientOut(serializers.ModelSerializer):
    weights = WeightOut(many=True, read_only=True)

    class Meta:
        model = Recipient
        fields = [
            "subject_id",
            "diagnosis",
            "diagnosis_detail",
            "hla_a",
            "hla_b",
            "hla_c",
            "hla_drb1",
            "dose_level",
            "planned_infusion_on",
            "registered_at",
            "weights",
        ]


_WEIGHT = dict(
    max_digits=5, decimal_places=1, validators=validators_of(WeightMeasurement, "weight_kg")
)


class RecipientRegisterIn(serializers.Serializer):
    subject_id = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", max_length=40)
    diagnosis = serializers.ChoiceField(Diagnosis.choices)
    diagnosis_detail = serializers.CharField(max_length=200, required=False, allow_blank=True)
    hla_a = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_b = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_c = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_drb1 = serializers.CharField(max_length=40, required=False, allow_blank=True)
    dose_level = serializers.ChoiceField(DoseLevel.choices, required=False, allow_blank=True)
    planned_infusion_on = serializers.DateField(required=False, allow_null=True)
    weight_kg = serializers.DecimalField(**_WEIGHT)
    weight_measured_on = serializers.DateField()


class RecipientUpdateIn(serializers.Serializer):
    diagnosis = serializers.ChoiceField(Diagnosis.choices, required=False)
    diagnosis_detail = serializers.CharField(max_length=200, required=False, allow_blank=True)
    hla_a = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_b = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_c = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_drb1 = serializers.CharField(max_length=40, required=False, allow_blank=True)
    dose_level = serializers.ChoiceField(DoseLevel.choices, required=False, allow_blank=True)
    planned_infusion_on = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField()


class WeightIn(serializers.Serializer):
    weight_kg = serializers.DecimalField(**_WEIGHT)
    measured_on = serializers.DateField()
    reason = serializers.CharField(required=False, default="Body weight measured")
