"""API shapes of the bedside check and the infusion."""

from rest_framework import serializers

from batches.models import BedsideCheck, Infusion
from carnk_mfg.api.serializers import PasswordField
from carnk_mfg.fields import validators_of


class BedsideCheckOut(serializers.ModelSerializer):
    class Meta:
        model = BedsideCheck
        fields = [
            "id",
            "scanned_bag",
            "scanned_product_code",
            "scanned_wristband",
            "dose_unit",
            "outcome",
            "reasons",
            "checked_at",
        ]


class BedsideCheckIn(serializers.Serializer):
    scanned_bag = serializers.CharField(max_length=60)
    scanned_product_code = serializers.CharField(max_length=20, allow_blank=True)
    scanned_wristband = serializers.CharField(max_length=60)


class InfusionOut(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient.subject_id")

    class Meta:
        model = Infusion
        fields = [
            "id",
            "dose_unit",
            "recipient",
            "bedside_check",
            "started_at",
            "ended_at",
            "volume_ml",
            "vitals",
            "notes",
        ]


class InfusionIn(serializers.Serializer):
    bedside_check = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    volume_ml = serializers.DecimalField(
        max_digits=7, decimal_places=2, validators=validators_of(Infusion, "volume_ml")
    )
    vitals = serializers.DictField(required=False, default=dict)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    password = PasswordField()
