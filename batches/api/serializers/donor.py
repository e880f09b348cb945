"""API shapes of cord blood units. Inputs are plain serializers (types and ranges); the
business rules are checked once, in the services."""

from rest_framework import serializers

from batches.models import (
    CordBloodUnit,
    DonorMarker,
    DonorSpecificAntibody,
    DonorTest,
    DonorTestResult,
    Eligibility,
    Recipient,
)
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
    # Allocation for a recipient: the selection and its rationale are recorded with the match.
    recipient = serializers.SlugRelatedField(
        slug_field="subject_id",
        queryset=Recipient.objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )
    selection_rationale = serializers.CharField(required=False, allow_blank=True, default="")


class MatchQueryIn(serializers.Serializer):
    recipient = serializers.SlugRelatedField(
        slug_field="subject_id", queryset=Recipient.objects.all()
    )


class DsaIn(serializers.Serializer):
    recipient = serializers.SlugRelatedField(
        slug_field="subject_id", queryset=Recipient.objects.all()
    )
    present = serializers.BooleanField()
    mfi = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
    specificity = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )
    tested_on = serializers.DateField()
    reason = FreeTextIn(required=False, default="Donor-specific antibody result recorded")


class DsaOut(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient.subject_id")
    unit = serializers.CharField(source="unit.din")
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = DonorSpecificAntibody
        fields = [
            "id",
            "recipient",
            "unit",
            "present",
            "mfi",
            "specificity",
            "tested_on",
            "recorded_by",
            "recorded_at",
        ]


class KirLigandsOut(serializers.Serializer):
    c1 = serializers.BooleanField(allow_null=True)
    c2 = serializers.BooleanField(allow_null=True)
    bw4 = serializers.BooleanField(allow_null=True)
    c_group = serializers.CharField()
    notes = serializers.ListField(child=serializers.CharField())
    summary = serializers.CharField(source="__str__")


class MatchOut(serializers.Serializer):
    """The match of a unit to a recipient as unit selection shows it."""

    unit = serializers.CharField(source="unit.din")
    recipient = serializers.CharField(source="recipient.subject_id")
    match_grade = serializers.CharField(source="grade")
    matches = serializers.IntegerField(source="grade.matches", allow_null=True)
    out_of = serializers.SerializerMethodField()
    unit_kir_ligands = KirLigandsOut(source="unit_ligands")
    recipient_kir_ligands = KirLigandsOut(source="recipient_ligands")
    kir_ligand_mismatch = serializers.BooleanField(source="mismatch.mismatched", allow_null=True)
    kir_ligands_recipient_lacks = serializers.ListField(
        child=serializers.CharField(), source="mismatch.missing_in_recipient"
    )
    kir_mismatch = serializers.CharField(source="mismatch")
    dsa = DsaOut(allow_null=True)
    unreadable_typing = serializers.ListField(child=serializers.CharField(), source="unreadable")

    def get_out_of(self, match) -> int:
        return 6


class DonorTestIn(serializers.Serializer):
    marker = serializers.ChoiceField(DonorMarker.choices)
    sample_date = serializers.DateField()
    result = serializers.ChoiceField(DonorTestResult.choices)
    test_kit = FreeTextIn(max_length=120)
    kit_lot = FreeTextIn(max_length=40)
    laboratory = FreeTextIn(max_length=200)
    reason = FreeTextIn(required=False, default="Donor test result recorded")


class DonorTestOut(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.din")
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = DonorTest
        fields = [
            "id",
            "unit",
            "marker",
            "sample_date",
            "result",
            "test_kit",
            "kit_lot",
            "laboratory",
            "from_marker_list",
            "recorded_by",
            "recorded_at",
        ]


class DonorPanelOut(serializers.Serializer):
    """The donor test panel and what it supports (batches.selectors.donor_panel_assessment)."""

    tests = DonorTestOut(many=True)
    window = serializers.CharField()
    missing = serializers.ListField(child=serializers.CharField())
    out_of_window = serializers.ListField(child=serializers.CharField())
    reactive = serializers.ListField(child=serializers.CharField())
    reactive_under_procedure = serializers.ListField(child=serializers.CharField())
    indeterminate = serializers.ListField(child=serializers.CharField())
    suggested = serializers.ChoiceField(Eligibility.choices)
    reasons = serializers.ListField(child=serializers.CharField())


class MoveIn(serializers.Serializer):
    freezer = serializers.CharField(max_length=40)
    rack = serializers.CharField(max_length=20)
    box = serializers.CharField(max_length=20)
    position = serializers.CharField(max_length=20)
    reason = FreeTextIn()


class ReasonIn(serializers.Serializer):
    reason = FreeTextIn()
