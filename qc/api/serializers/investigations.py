"""API shapes of phase I OOS investigations and their complete and approve actions."""

from typing import Any

from rest_framework import serializers

from carnk_mfg.api.serializers import FreeTextIn, PasswordField
from qc.models import OosInvestigation


class OosInvestigationOut(serializers.ModelSerializer[OosInvestigation]):
    batch = serializers.CharField(source="test.batch.lot_number", read_only=True)
    code = serializers.CharField(source="test.definition.code", read_only=True)
    evaluation = serializers.CharField(source="test.evaluation", read_only=True)
    completed_by = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True
    )
    approved_by = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = OosInvestigation
        fields = [
            "id",
            "test",
            "batch",
            "code",
            "evaluation",
            "state",
            "opened_at",
            "checks_done",
            "assignable_cause_found",
            "assignable_cause",
            "conclusion",
            "completed_by",
            "completed_at",
            "approved_by",
            "approved_at",
        ]


class InvestigationCompleteIn(serializers.Serializer[Any]):
    checks_done = FreeTextIn(max_length=4000)
    assignable_cause_found = serializers.BooleanField()
    assignable_cause = FreeTextIn(
        required=False,
        allow_blank=True,
        default="",
        max_length=4000,
        help_text="Required when an assignable cause was found.",
    )
    conclusion = FreeTextIn(max_length=4000)


class InvestigationApproveIn(serializers.Serializer[Any]):
    comment = FreeTextIn(required=False, allow_blank=True, default="", max_length=2000)
    password = PasswordField()
