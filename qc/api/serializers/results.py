"""API shapes of QC tests and their sample, result, review and retest actions."""

from __future__ import annotations

from rest_framework import serializers

from carnk_mfg.api.serializers import FreeTextIn, PasswordField
from qc.models import QcTest


class QcTestOut(serializers.ModelSerializer):
    batch = serializers.CharField(source="batch.lot_number")
    code = serializers.CharField(source="definition.code")
    name = serializers.CharField(source="definition.name")
    specification = serializers.CharField(source="definition.spec_text")
    required_for_release = serializers.BooleanField(source="definition.required_for_release")
    # Annotated by `qc.selectors.with_overdue`; every queryset this serializer reads has it.
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = QcTest
        fields = [
            "id",
            "batch",
            "code",
            "name",
            "specification",
            "required_for_release",
            "state",
            "triggered_at",
            "sample_due_at",
            "due_at",
            "overdue",
            "sampled_at",
            "result_numeric",
            "result_text",
            "result_unit",
            "in_spec",
            "evaluation",
            "resulted_at",
            "reviewed_at",
            "retest_of",
            "overdue_flagged_at",
            "escalated_at",
        ]


class SampleIn(serializers.Serializer):
    sampled_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ResultIn(serializers.Serializer):
    value = serializers.JSONField(help_text="A number, or the categorical/pass-fail answer")
    unit = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)


class ReviewIn(serializers.Serializer):
    password = PasswordField()


class ReviewsIn(serializers.Serializer):
    tests = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        min_length=1,
        max_length=200,
        help_text="The ids of the QC tests whose results are reviewed",
    )
    password = PasswordField()


class RetestIn(serializers.Serializer):
    reason = FreeTextIn()
