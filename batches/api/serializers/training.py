"""API shapes of training: procedures with their versions, and training records."""

from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import serializers

from batches.models import (
    Assessment,
    Procedure,
    ProcedureVersion,
    QualificationPurpose,
    StepQualification,
    Supervision,
    TemplateStep,
    TrainingRecord,
)
from batches.selectors.training import versions_in_effect
from carnk_mfg.api.serializers import FreeTextIn, PasswordField


class ProcedureVersionOut(serializers.ModelSerializer[ProcedureVersion]):
    class Meta:
        model = ProcedureVersion
        fields = ["id", "version", "effective_on", "document_reference", "issued_at"]


class ProcedureOut(serializers.ModelSerializer[Procedure]):
    versions = ProcedureVersionOut(many=True, read_only=True)
    version_in_effect = serializers.SerializerMethodField()

    class Meta:
        model = Procedure
        fields = [
            "code",
            "title",
            "training_valid_days",
            "required_for_release",
            "version_in_effect",
            "versions",
        ]

    def get_version_in_effect(self, procedure: Procedure) -> int | None:
        """The version number in effect today (null before the first takes effect)."""
        found = versions_in_effect([procedure], on=timezone.localdate()).get(procedure.pk)
        return found.version if found else None


def _person_field(**kwargs: Any) -> serializers.SlugRelatedField[Any]:
    """A person by username: an active account."""
    return serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        error_messages={"does_not_exist": "No active person {value}."},
        **kwargs,
    )


class TrainingRecordOut(serializers.ModelSerializer[TrainingRecord]):
    procedure = serializers.CharField(source="procedure_version.procedure.code", read_only=True)
    version = serializers.IntegerField(source="procedure_version.version", read_only=True)
    trainee = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    trained_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    recorded_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)

    class Meta:
        model = TrainingRecord
        fields = [
            "id",
            "procedure",
            "version",
            "procedure_version",
            "trainee",
            "trained_by",
            "trained_on",
            "assessment",
            "expires_on",
            "notes",
            "recorded_by",
            "recorded_at",
        ]


class TrainingRecordIn(serializers.Serializer[Any]):
    procedure_version = serializers.PrimaryKeyRelatedField(
        queryset=ProcedureVersion.objects.all(),
        error_messages={"does_not_exist": "No procedure version {pk_value}."},
    )
    trainee = _person_field()
    trained_by = _person_field()
    trained_on = serializers.DateField()
    assessment = serializers.ChoiceField(Assessment.choices)
    expires_on = serializers.DateField(
        required=False, allow_null=True, help_text="Default: the procedure's training period."
    )
    notes = FreeTextIn(required=False, allow_blank=True, max_length=2000)
    password = PasswordField()


class ProcedureIn(serializers.Serializer[Any]):
    code = serializers.CharField(max_length=40, help_text="The SOP's code, e.g. SOP-MFG-020")
    title = FreeTextIn(max_length=200)
    training_valid_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=3650
    )
    required_for_release = serializers.BooleanField(required=False, default=False)


class ProcedureVersionIn(serializers.Serializer[Any]):
    effective_on = serializers.DateField()
    document_reference = FreeTextIn(max_length=200)


class StepQualificationOut(serializers.ModelSerializer[StepQualification]):
    template = serializers.CharField(source="template_step.template", read_only=True)
    step = serializers.CharField(source="template_step.code", read_only=True)

    class Meta:
        model = StepQualification
        fields = ["id", "template", "template_step", "step", "purpose"]


class StepQualificationIn(serializers.Serializer[Any]):
    template_step = serializers.PrimaryKeyRelatedField(
        queryset=TemplateStep.objects.all(),
        error_messages={"does_not_exist": "No template step {pk_value}."},
    )
    purpose = serializers.ChoiceField(QualificationPurpose.choices)


class SupervisionIn(serializers.Serializer[Any]):
    person = _person_field()
    supervisor = _person_field(help_text="Told with the person when a training is to expire.")
    reason = FreeTextIn(max_length=500, help_text="Recorded in the audit trail with your name.")


class SupervisionOut(serializers.ModelSerializer[Supervision]):
    person = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    supervisor = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)

    class Meta:
        model = Supervision
        fields = ["person", "supervisor"]
