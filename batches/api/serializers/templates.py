"""API shapes of process templates, their steps and parameters."""

from rest_framework import serializers

from batches.models import ProcessTemplate, StepParameter, TemplateStep
from carnk_mfg.api.serializers import FreeTextIn, PasswordField


class StepParameterOut(serializers.ModelSerializer):
    class Meta:
        model = StepParameter
        fields = [
            "code",
            "name",
            "value_type",
            "unit",
            "min_value",
            "max_value",
            "choices",
            "required",
        ]


class TemplateStepOut(serializers.ModelSerializer):
    parameters = StepParameterOut(many=True, read_only=True)

    class Meta:
        model = TemplateStep
        fields = [
            "order",
            "code",
            "name",
            "planned_day",
            "late_after_days",
            "material_kinds",
            "is_harvest",
            "instructions",
            "parameters",
        ]


class ProcessTemplateOut(serializers.ModelSerializer):
    steps = TemplateStepOut(many=True, read_only=True)

    class Meta:
        model = ProcessTemplate
        fields = [
            "id",
            "code",
            "version",
            "name",
            "construct",
            "expected_fold_min",
            "expected_fold_max",
            "status",
            "approved_at",
            "notes",
            "steps",
        ]


class TemplateApproveIn(serializers.Serializer):
    reason = FreeTextIn(required=False, default="Template approved for use")
    password = PasswordField()
