"""API shapes of CAPAs and their raise, complete and verify actions."""

from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import serializers

from batches.models import Capa, Deviation
from carnk_mfg.api.serializers import FreeTextIn, PasswordField


class CapaOut(serializers.ModelSerializer[Capa]):
    owner = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    raised_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    completed_by = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True
    )
    verified_by = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True
    )
    deviations = serializers.PrimaryKeyRelatedField[Any](many=True, read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Capa
        fields = [
            "id",
            "deviations",
            "action",
            "owner",
            "due_on",
            "effectiveness_check_on",
            "state",
            "overdue",
            "raised_by",
            "raised_at",
            "completion_notes",
            "completed_by",
            "completed_at",
            "effectiveness_result",
            "verified_by",
            "verified_at",
        ]

    def get_overdue(self, capa: Capa) -> bool:
        """Open and past its due date (`batches.selectors.capa.overdue_q`)."""
        return bool(getattr(capa, "overdue", False))


class CapaRaiseIn(serializers.Serializer[Any]):
    deviations = serializers.PrimaryKeyRelatedField(
        many=True,
        allow_empty=False,
        queryset=Deviation.objects.select_related("batch"),
        error_messages={"does_not_exist": "No deviation {pk_value}."},
    )
    action = FreeTextIn(max_length=4000)
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        error_messages={"does_not_exist": "No active person {value}."},
    )
    due_on = serializers.DateField()
    effectiveness_check_on = serializers.DateField()

    def validate_due_on(self, value):
        # Kept to a real calendar range; the service says why a past date is refused.
        if value.year > timezone.localdate().year + 20:
            raise serializers.ValidationError("The due date is within twenty years.")
        return value


class CapaCompleteIn(serializers.Serializer[Any]):
    notes = FreeTextIn(max_length=4000, help_text="What was done")


class CapaVerifyIn(serializers.Serializer[Any]):
    effective = serializers.BooleanField()
    result = FreeTextIn(max_length=4000, help_text="What the effectiveness check found")
    password = PasswordField()
