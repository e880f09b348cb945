"""API shapes of the facility: cleanrooms and their grade."""

from typing import Any

from rest_framework import serializers

from batches.models import CleanroomGrade, Room
from carnk_mfg.api.serializers import FreeTextIn, IdentifierInField


class RoomOut(serializers.ModelSerializer[Room]):
    class Meta:
        model = Room
        fields = ["identifier", "name", "grade", "created_at"]


class RoomIn(serializers.Serializer[Any]):
    identifier = IdentifierInField(max_length=40)
    name = FreeTextIn(max_length=120)
    grade = serializers.ChoiceField(CleanroomGrade.choices)


class BatchRoomIn(serializers.Serializer[Any]):
    room = serializers.SlugRelatedField(
        slug_field="identifier",
        queryset=Room.objects.all(),
        error_messages={"does_not_exist": "No room {value}."},
    )
