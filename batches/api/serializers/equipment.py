"""API shapes of equipment: the piece with its due dates, calibrations and maintenance (the
certificate's SHA-256, never its bytes), failures with their impact, feeder irradiations."""

from decimal import Decimal
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from batches.models import (
    Equipment,
    EquipmentCalibration,
    EquipmentFailure,
    EquipmentKind,
    EquipmentMaintenance,
    EquipmentStatus,
    FeederIrradiation,
    FeederLot,
    ServiceResult,
)
from batches.selectors.equipment import failure_impact
from batches.services.equipment import equipment_usability
from carnk_mfg.api.serializers import FreeTextIn

_SERVICE_OUT = [
    "id",
    "performed_on",
    "next_due_on",
    "result",
    "performed_by",
    "notes",
    "certificate_filename",
    "certificate_sha256",
    "recorded_at",
]


class CalibrationOut(serializers.ModelSerializer[EquipmentCalibration]):
    class Meta:
        model = EquipmentCalibration
        fields = _SERVICE_OUT


class MaintenanceOut(serializers.ModelSerializer[EquipmentMaintenance]):
    class Meta:
        model = EquipmentMaintenance
        fields = [*_SERVICE_OUT, "description"]


class EquipmentOut(serializers.ModelSerializer[Equipment]):
    calibration_due_on = serializers.DateField(read_only=True, allow_null=True)
    maintenance_due_on = serializers.DateField(read_only=True, allow_null=True)
    usable = serializers.SerializerMethodField()
    refusal = serializers.SerializerMethodField()

    class Meta:
        model = Equipment
        fields = [
            "identifier",
            "name",
            "kind",
            "location",
            "status",
            "status_reason",
            "status_changed_at",
            "calibration_due_on",
            "maintenance_due_on",
            "usable",
            "refusal",
        ]

    def get_usable(self, piece: Equipment) -> bool:
        """Whether a step may use it today (`equipment_usability`)."""
        return bool(equipment_usability(piece, on=timezone.localdate()))

    def get_refusal(self, piece: Equipment) -> str:
        """Why a step may not use it today; empty when it may."""
        return equipment_usability(piece, on=timezone.localdate()).reason


class EquipmentIn(serializers.Serializer[Any]):
    identifier = serializers.CharField(max_length=40, help_text="As on its barcode label")
    name = FreeTextIn(max_length=120)
    kind = serializers.ChoiceField(EquipmentKind.choices)
    location = FreeTextIn(max_length=120, required=False, allow_blank=True, default="")


class StatusIn(serializers.Serializer[Any]):
    status = serializers.ChoiceField(EquipmentStatus.choices)
    reason = FreeTextIn(max_length=500)


class ServiceIn(serializers.Serializer[Any]):
    performed_on = serializers.DateField()
    next_due_on = serializers.DateField()
    performed_by = FreeTextIn(max_length=120)
    result = serializers.ChoiceField(ServiceResult.choices, required=False, default="passed")
    notes = FreeTextIn(max_length=2000, required=False, allow_blank=True, default="")
    certificate = serializers.FileField(
        required=False, allow_null=True, help_text="The certificate or report, kept as sent"
    )


class MaintenanceIn(ServiceIn):
    description = FreeTextIn(max_length=2000, required=False, allow_blank=True, default="")


class ImpactOut(serializers.Serializer[Any]):
    lot_number = serializers.CharField()
    state = serializers.CharField()


class FailureOut(serializers.ModelSerializer[EquipmentFailure]):
    impact = serializers.SerializerMethodField()

    class Meta:
        model = EquipmentFailure
        fields = ["id", "found_on", "description", "last_good_check_on", "recorded_at", "impact"]

    def get_impact(self, failure: EquipmentFailure) -> list[dict[str, str]]:
        """The batches whose steps used the equipment from its last good check to the day
        the failure was found."""
        return [{"lot_number": b.lot_number, "state": b.state} for b in failure_impact(failure)]


class FailureIn(serializers.Serializer[Any]):
    found_on = serializers.DateField()
    description = FreeTextIn(max_length=2000)
    last_good_check_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Default: its last passed calibration or maintenance",
    )


class FeederIrradiationOut(serializers.ModelSerializer[FeederIrradiation]):
    feeder_lot = serializers.SlugRelatedField[Any](slug_field="lot_number", read_only=True)
    irradiator = serializers.SlugRelatedField[Any](slug_field="identifier", read_only=True)

    class Meta:
        model = FeederIrradiation
        fields = ["id", "feeder_lot", "dose_gy", "irradiated_on", "irradiator", "recorded_at"]


class FeederIrradiationIn(serializers.Serializer[Any]):
    feeder_lot = serializers.SlugRelatedField[Any](
        slug_field="lot_number",
        queryset=FeederLot.objects.all(),
        error_messages={"does_not_exist": "No feeder lot {value}."},
    )
    dose_gy = serializers.DecimalField(max_digits=6, decimal_places=1, min_value=Decimal("0.1"))
    irradiated_on = serializers.DateField()
    irradiator = serializers.SlugRelatedField[Any](
        slug_field="identifier",
        queryset=Equipment.objects.all(),
        error_messages={"does_not_exist": "No equipment {value}."},
    )
