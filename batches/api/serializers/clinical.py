"""API shapes after the infusion: the safety switch, adverse events, follow-up visits."""

from django.db.models import Field
from rest_framework import serializers

from batches.models import (
    AdverseEvent,
    AdverseEventKind,
    FollowUpEnd,
    FollowUpOutcome,
    FollowUpVisit,
    RecipientRcrResult,
    SafetySwitchActivation,
)
from carnk_mfg.api.serializers import FreeTextIn
from carnk_mfg.fields import validators_of


class SafetySwitchIn(serializers.Serializer):
    given_at = serializers.DateTimeField()
    dose_mg_per_kg = serializers.DecimalField(
        max_digits=5,
        decimal_places=3,
        validators=validators_of(SafetySwitchActivation, "dose_mg_per_kg"),
    )
    reason = FreeTextIn()


class SafetySwitchOut(serializers.Serializer):
    id = serializers.IntegerField()
    given_at = serializers.DateTimeField()


class AdverseEventOut(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient.subject_id")

    class Meta:
        model = AdverseEvent
        fields = [
            "id",
            "recipient",
            "infusion",
            "kind",
            "grade",
            "derived_grade",
            "grade_difference_reason",
            "ice_score",
            "ice_unarousable",
            "icans_consciousness",
            "icans_seizure",
            "icans_motor",
            "icans_raised_icp",
            "crs_temperature_c",
            "crs_fever_masked",
            "crs_hypotension",
            "crs_hypoxia",
            "onset_at",
            "description",
            "resolved_at",
            "reported_at",
        ]


def _finding(name: str) -> serializers.ChoiceField:
    """An ASTCT finding (batches.grading) as the model field offers it; empty when not given."""
    field = AdverseEvent._meta.get_field(name)
    choices = (field.choices if isinstance(field, Field) else None) or []
    return serializers.ChoiceField(
        [value for value, _label in choices], required=False, allow_blank=True, default=""
    )


class AdverseEventIn(serializers.Serializer):
    """An adverse event; CRS and ICANS with their ASTCT findings, each domain stated."""

    infusion = serializers.IntegerField()
    kind = serializers.ChoiceField(AdverseEventKind.values)
    grade = serializers.IntegerField(validators=validators_of(AdverseEvent, "grade"))
    onset_at = serializers.DateTimeField()
    description = serializers.CharField()
    crs_temperature_c = serializers.DecimalField(
        max_digits=3,
        decimal_places=1,
        required=False,
        allow_null=True,
        default=None,
        validators=validators_of(AdverseEvent, "crs_temperature_c"),
    )
    crs_fever_masked = serializers.BooleanField(required=False, default=False)
    crs_hypotension = _finding("crs_hypotension")
    crs_hypoxia = _finding("crs_hypoxia")
    ice_score = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        validators=validators_of(AdverseEvent, "ice_score"),
    )
    ice_unarousable = serializers.BooleanField(required=False, default=False)
    icans_consciousness = _finding("icans_consciousness")
    icans_seizure = _finding("icans_seizure")
    icans_motor = _finding("icans_motor")
    icans_raised_icp = _finding("icans_raised_icp")
    grade_difference_reason = serializers.CharField(required=False, allow_blank=True, default="")


class FollowUpOut(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient.subject_id")

    class Meta:
        model = FollowUpVisit
        fields = [
            "id",
            "recipient",
            "infusion",
            "visit",
            "day",
            "due_at",
            "done_at",
            "response",
            "car_nk_copies_per_ug",
            "donor_specific_antibodies",
            "rcr_sample",
            "rcr_result",
            "overdue_flagged_at",
            "closed_at",
        ]


class FollowUpIn(serializers.Serializer):
    done_at = serializers.DateTimeField()
    response = serializers.ChoiceField(["", "CR", "PR", "SD", "PD"], required=False, default="")
    car_nk_copies_per_ug = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        validators=validators_of(FollowUpVisit, "car_nk_copies_per_ug"),
    )
    donor_specific_antibodies = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    rcr_result = serializers.ChoiceField(
        RecipientRcrResult.choices, required=False, allow_blank=True, default=""
    )


class FollowUpEndIn(serializers.Serializer):
    outcome = serializers.ChoiceField(FollowUpOutcome.values)
    ended_on = serializers.DateField()
    detail = FreeTextIn()


class FollowUpEndOut(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient.subject_id")
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = FollowUpEnd
        fields = ["id", "recipient", "outcome", "ended_on", "detail", "recorded_by", "recorded_at"]
