"""API shapes of recipients, their weights and their lymphodepletion."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from batches.models import (
    Diagnosis,
    DoseLevel,
    LymphodepletionAgent,
    LymphodepletionDose,
    Recipient,
    WeightMeasurement,
)
from batches.models.donor import KirLigandGroup
from batches.models.recipients import not_in_the_future
from batches.selectors import clinical_staff, lymphodepletion_blocker
from carnk_mfg.api.serializers import FreeTextIn
from carnk_mfg.fields import validators_of


class WeightOut(serializers.ModelSerializer):
    class Meta:
        model = WeightMeasurement
        fields = ["weight_kg", "measured_on", "recorded_at"]


class LymphodepletionDoseOut(serializers.ModelSerializer):
    given_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    recorded_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    day = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Relative to the planned infusion (day 0); null with no infusion planned.",
    )

    class Meta:
        model = LymphodepletionDose
        fields = [
            "agent",
            "dose_mg_per_m2",
            "body_surface_area_m2",
            "total_dose_mg",
            "given_on",
            "day",
            "given_by",
            "recorded_by",
            "recorded_at",
        ]


class RecipientOut(serializers.ModelSerializer):
    weights = WeightOut(many=True, read_only=True)
    lymphodepletion = LymphodepletionDoseOut(
        many=True, read_only=True, source="lymphodepletion_doses"
    )
    lymphodepletion_blocker = serializers.SerializerMethodField(
        help_text="Why the recipient may not be infused today for want of lymphodepletion "
        "(missing doses, the last dose outside the window); null when it is complete."
    )
    treating_clinician: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

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
            "kir_ligand_group",
            "dose_level",
            "planned_infusion_on",
            "date_of_birth",
            "medical_record_number",
            "registered_at",
            "treating_clinician",
            "weights",
            "lymphodepletion",
            "lymphodepletion_blocker",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_lymphodepletion_blocker(self, recipient: Recipient) -> str | None:
        return lymphodepletion_blocker(recipient, on=timezone.localdate())


def _clinician_field(**kwargs: Any) -> serializers.SlugRelatedField[Any]:
    """A treating clinician by username: one of the active clinical staff."""
    return serializers.SlugRelatedField(
        slug_field="username",
        queryset=clinical_staff(),
        error_messages={"does_not_exist": "{value} is not active clinical staff."},
        **kwargs,
    )


def _weight_field() -> serializers.DecimalField:
    """A weight in kg, checked by the weight record's own rules."""
    return serializers.DecimalField(
        max_digits=5, decimal_places=1, validators=validators_of(WeightMeasurement, "weight_kg")
    )


def _date_of_birth_field() -> serializers.DateField:
    """A second patient identifier for the bedside check (this or the medical record
    number)."""
    return serializers.DateField(required=False, allow_null=True, validators=[not_in_the_future])


class RecipientRegisterIn(serializers.Serializer):
    subject_id = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", max_length=40)
    diagnosis = serializers.ChoiceField(Diagnosis.choices)
    diagnosis_detail = serializers.CharField(max_length=200, required=False, allow_blank=True)
    hla_a = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_b = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_c = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_drb1 = serializers.CharField(max_length=40, required=False, allow_blank=True)
    kir_ligand_group = serializers.ChoiceField(
        KirLigandGroup.choices, required=False, allow_blank=True
    )
    dose_level = serializers.ChoiceField(DoseLevel.choices, required=False, allow_blank=True)
    planned_infusion_on = serializers.DateField(required=False, allow_null=True)
    date_of_birth = _date_of_birth_field()
    medical_record_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    # Left out: the person enrolling, when they are clinical staff.
    treating_clinician = _clinician_field(required=False)
    weight_kg = _weight_field()
    weight_measured_on = serializers.DateField()


class RecipientUpdateIn(serializers.Serializer):
    diagnosis = serializers.ChoiceField(Diagnosis.choices, required=False)
    diagnosis_detail = serializers.CharField(max_length=200, required=False, allow_blank=True)
    hla_a = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_b = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_c = serializers.CharField(max_length=40, required=False, allow_blank=True)
    hla_drb1 = serializers.CharField(max_length=40, required=False, allow_blank=True)
    kir_ligand_group = serializers.ChoiceField(
        KirLigandGroup.choices, required=False, allow_blank=True
    )
    dose_level = serializers.ChoiceField(DoseLevel.choices, required=False, allow_blank=True)
    planned_infusion_on = serializers.DateField(required=False, allow_null=True)
    date_of_birth = _date_of_birth_field()
    medical_record_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    reason = FreeTextIn()


class ClinicianIn(serializers.Serializer):
    treating_clinician = _clinician_field()
    reason = FreeTextIn()


class WeightIn(serializers.Serializer):
    weight_kg = _weight_field()
    measured_on = serializers.DateField()
    reason = FreeTextIn(required=False, default="Body weight measured")


class LymphodepletionIn(serializers.Serializer):
    agent = serializers.ChoiceField(LymphodepletionAgent.choices)
    dose_mg_per_m2 = serializers.DecimalField(
        max_digits=6,
        decimal_places=1,
        validators=validators_of(LymphodepletionDose, "dose_mg_per_m2"),
    )
    body_surface_area_m2 = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        validators=validators_of(LymphodepletionDose, "body_surface_area_m2"),
    )
    given_on = serializers.DateField()
    # Left out: the person recording it gave it.
    given_by = _clinician_field(required=False, allow_null=True, default=None)
    reason = FreeTextIn(required=False, default="Lymphodepletion dose given")
