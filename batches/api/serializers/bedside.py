"""API shapes of the bedside check and the infusion."""

from rest_framework import serializers

from batches.models import BedsideCheck, Infusion
from carnk_mfg.api.serializers import FreeTextIn, PasswordField
from carnk_mfg.fields import validators_of


class BedsideCheckOut(serializers.ModelSerializer):
    class Meta:
        model = BedsideCheck
        fields = [
            "id",
            "scanned_bag",
            "scanned_product_code",
            "scanned_coi",
            "scanned_wristband",
            "scanned_date_of_birth",
            "scanned_medical_record_number",
            "dose_unit",
            "outcome",
            "reasons",
            "checked_at",
        ]


class BedsideCheckIn(serializers.Serializer):
    scanned_bag = serializers.CharField(max_length=60)
    scanned_product_code = serializers.CharField(max_length=20, allow_blank=True)
    scanned_wristband = serializers.CharField(max_length=60)
    scanned_coi = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        default="",
        help_text="The bag's Chain of Identity barcode (identifier and check character)",
    )
    date_of_birth = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Second patient identifier: this or medical_record_number",
    )
    medical_record_number = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default=""
    )


class InfusionOut(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient.subject_id")
    in_progress = serializers.BooleanField(
        read_only=True, help_text="Started and not yet completed (no end, no volume yet)"
    )

    class Meta:
        model = Infusion
        fields = [
            "id",
            "dose_unit",
            "recipient",
            "bedside_check",
            "in_progress",
            "started_at",
            "ended_at",
            "volume_ml",
            "vitals",
            "reactions",
            "notes",
        ]


def _volume(**kwargs):
    return serializers.DecimalField(
        max_digits=7, decimal_places=2, validators=validators_of(Infusion, "volume_ml"), **kwargs
    )


def _volume_difference_reason():
    return FreeTextIn(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the volume infused is off the prescribed volume by more than the "
        "tolerance (INFUSED_VOLUME_TOLERANCE_PCT, 10 % by default): required then, and a "
        "clinical deviation is opened on the batch.",
    )


class InfusionIn(serializers.Serializer):
    """The start of an infusion; with `ended_at` and `volume_ml` its completion too, both
    recorded in one transaction (each part signed)."""

    bedside_check = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Leave out to record the start only; complete it at /infusions/{id}/complete/",
    )
    volume_ml = _volume(required=False, allow_null=True, default=None)
    vitals = serializers.DictField(
        required=False, default=dict, help_text='{"pre": {...}} and, with the end, "post"'
    )
    reactions = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    volume_difference_reason = _volume_difference_reason()
    password = PasswordField()


class InfusionCompleteIn(serializers.Serializer):
    """The completion of an infusion in progress."""

    ended_at = serializers.DateTimeField()
    volume_ml = _volume()
    vitals = serializers.DictField(
        required=False, default=dict, help_text='The vitals after: {"post": {...}}'
    )
    reactions = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    volume_difference_reason = _volume_difference_reason()
    password = PasswordField()
