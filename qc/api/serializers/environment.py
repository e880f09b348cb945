"""API shapes of environmental monitoring: sampling points, samples and their reading."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from batches.models import Room
from carnk_mfg.api.serializers import FreeTextIn, IdentifierInField
from qc.models import EmExcursionDeviation, EmSample, EmSampleType, SamplingPoint
from qc.models.environment import CFU


class SamplingPointOut(serializers.ModelSerializer[SamplingPoint]):
    room = serializers.CharField(source="room.identifier")
    grade = serializers.CharField(source="room.grade")

    class Meta:
        model = SamplingPoint
        fields = ["id", "room", "grade", "code", "description", "created_at"]


class SamplingPointIn(serializers.Serializer[Any]):
    room = serializers.SlugRelatedField(
        slug_field="identifier",
        queryset=Room.objects.all(),
        error_messages={"does_not_exist": "No room {value}."},
    )
    code = IdentifierInField(max_length=40)
    description = FreeTextIn(max_length=200)


class ExcursionDeviationOut(serializers.ModelSerializer[EmExcursionDeviation]):
    deviation = serializers.IntegerField(source="deviation.pk")
    batch = serializers.CharField(source="deviation.batch.lot_number")
    state = serializers.CharField(source="deviation.state")

    class Meta:
        model = EmExcursionDeviation
        fields = ["deviation", "batch", "state"]


class EmSampleOut(serializers.ModelSerializer[EmSample]):
    room = serializers.CharField(source="sampling_point.room.identifier")
    sampling_point = serializers.IntegerField(source="sampling_point.pk")
    sampling_point_code = serializers.CharField(source="sampling_point.code")
    sampled_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    # Null for a plate that is not a glove print, and until the plate is read.
    person_sampled = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True
    )
    read_by = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True
    )
    deviations = ExcursionDeviationOut(many=True, read_only=True)

    class Meta:
        model = EmSample
        fields = [
            "id",
            "room",
            "sampling_point",
            "sampling_point_code",
            "sample_type",
            "sampling_started_at",
            "sampling_ended_at",
            "sampled_by",
            "person_sampled",
            "notes",
            "recorded_at",
            "cfu",
            "level",
            "alert_limit",
            "action_limit",
            "read_by",
            "read_at",
            "deviations",
        ]


class EmSampleIn(serializers.Serializer[Any]):
    sampling_point = serializers.PrimaryKeyRelatedField(
        queryset=SamplingPoint.objects.select_related("room"),
        error_messages={"does_not_exist": "No sampling point {pk_value}."},
    )
    sample_type = serializers.ChoiceField(EmSampleType.choices)
    sampling_started_at = serializers.DateTimeField()
    sampling_ended_at = serializers.DateTimeField()
    person_sampled = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="Whose gloves (glove prints only)",
        error_messages={"does_not_exist": "No active person {value}."},
    )
    notes = FreeTextIn(required=False, allow_blank=True, max_length=2000, default="")


class EmResultIn(serializers.Serializer[Any]):
    cfu = serializers.IntegerField(validators=CFU.validators(), help_text="Colonies counted")
