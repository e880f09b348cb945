"""API shapes of process trending: attributes with their limits, points, signals, and QA's
signed baseline and assessment."""

from __future__ import annotations

from rest_framework import serializers

from carnk_mfg.api.serializers import FreeTextIn, PasswordField
from qc.models import SignalAssessment, TrendAttribute, TrendBaseline, TrendPoint, TrendSignal


class BaselineOut(serializers.ModelSerializer):
    upper_control_limit = serializers.SerializerMethodField()
    lower_control_limit = serializers.SerializerMethodField()
    moving_range_upper_limit = serializers.SerializerMethodField()
    fixed_by = serializers.CharField(source="fixed_by.username")

    class Meta:
        model = TrendBaseline
        fields = [
            "id",
            "chosen_as",
            "centre",
            "sigma",
            "upper_control_limit",
            "lower_control_limit",
            "mean_moving_range",
            "moving_range_upper_limit",
            "point_count",
            "covers_until",
            "reason",
            "fixed_by",
            "fixed_at",
        ]

    def get_upper_control_limit(self, baseline: TrendBaseline) -> float:
        return baseline.centre + 3 * baseline.sigma

    def get_lower_control_limit(self, baseline: TrendBaseline) -> float:
        return baseline.centre - 3 * baseline.sigma

    def get_moving_range_upper_limit(self, baseline: TrendBaseline) -> float:
        from qc.spc import D4

        return D4 * baseline.mean_moving_range


class TrendAttributeOut(serializers.ModelSerializer):
    template = serializers.CharField(source="template.__str__")
    spec_set = serializers.CharField(source="spec_set.__str__", allow_null=True, default=None)
    # Annotated by the list's selector.
    point_count = serializers.IntegerField(read_only=True)
    open_signals = serializers.IntegerField(read_only=True)

    class Meta:
        model = TrendAttribute
        fields = [
            "id",
            "template",
            "spec_set",
            "source",
            "key",
            "name",
            "unit",
            "spec_lower",
            "spec_upper",
            "point_count",
            "open_signals",
        ]


class CapabilityOut(serializers.Serializer):
    cpk = serializers.FloatField()
    cpk_interval = serializers.ListField(child=serializers.FloatField())
    ppk = serializers.FloatField()
    ppk_interval = serializers.ListField(child=serializers.FloatField())
    points = serializers.IntegerField()
    confidence = serializers.FloatField()
    caveat = serializers.CharField()


class TrendAttributeDetailOut(TrendAttributeOut):
    baseline = BaselineOut(allow_null=True)
    capability = CapabilityOut(allow_null=True)
    capability_missing = serializers.CharField()

    class Meta(TrendAttributeOut.Meta):
        fields = [*TrendAttributeOut.Meta.fields, "baseline", "capability", "capability_missing"]


class TrendPointOut(serializers.ModelSerializer):
    batch = serializers.CharField(source="batch.lot_number")

    class Meta:
        model = TrendPoint
        fields = ["id", "batch", "value", "observed_at"]


class TrendSignalOut(serializers.ModelSerializer):
    attribute = serializers.IntegerField(source="point.attribute_id")
    attribute_name = serializers.CharField(source="point.attribute.name")
    batch = serializers.CharField(source="point.batch.lot_number")
    observed_at = serializers.DateTimeField(source="point.observed_at")
    assessed_by = serializers.CharField(
        source="assessed_by.username", allow_null=True, default=None
    )

    class Meta:
        model = TrendSignal
        fields = [
            "id",
            "attribute",
            "attribute_name",
            "batch",
            "observed_at",
            "rule",
            "value",
            "baseline",
            "raised_at",
            "assessment",
            "assessment_comment",
            "investigation_reference",
            "assessed_by",
            "assessed_at",
        ]


class BaselineIn(serializers.Serializer):
    lots = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=1000,
        help_text="The lots whose points make the baseline; or give from_date and to_date",
    )
    from_date = serializers.DateField(required=False)
    to_date = serializers.DateField(required=False)
    reason = FreeTextIn(max_length=2000)
    password = PasswordField()


class AssessmentIn(serializers.Serializer):
    assessment = serializers.ChoiceField(choices=SignalAssessment.choices)
    comment = FreeTextIn(max_length=2000)
    investigation_reference = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=60
    )
    password = PasswordField()
