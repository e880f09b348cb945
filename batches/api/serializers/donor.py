"""API shapes of cord blood units. Inputs are plain serializers (types and ranges); the
business rules are checked once, in the services."""

from rest_framework import serializers

from batches.models import CordBloodUnit, Eligibility
from batches.models.donor import KirLigandGroup
from carnk_mfg.api.serializers import FreeTextIn, PasswordField
from carnk_mfg.fields import validators_of


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
    reason = FreeTextIn()
    urgent_need_justification = serializers.CharField(required=False, allow_blank=True, default="")
    urgent_need_physician = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )


class MoveIn(serializers.Serializer):
    freezer = serializers.CharField(max_length=40)
    rack = serializers.CharField(max_length=20)
    box = serializers.CharField(max_length=20)
    position = serializers.CharField(max_length=20)
    reason = FreeTextIn()


class ReasonIn(serializers.Serializer):
    reason = FreeTextIn()
