"""Equipment API: /api/v1/equipment/ (register, status, calibrations, maintenance, failures
with their impact) and /api/v1/feeder-irradiations/."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from batches.api.serializers.equipment import (
    CalibrationOut,
    EquipmentIn,
    EquipmentOut,
    FailureIn,
    FailureOut,
    FeederIrradiationIn,
    FeederIrradiationOut,
    MaintenanceIn,
    MaintenanceOut,
    ServiceIn,
    StatusIn,
)
from batches.models import FeederIrradiation
from batches.selectors.equipment import equipment_list
from batches.services import equipment as service
from batches.services.irradiation import RECORD, feeder_irradiation_record
from carnk_mfg.api.viewsets import ReadViewSet
from carnk_mfg.roles import actor_may

# A sub-list's GET is read by everyone on staff; its POST writes, under its own permission.
_WRITES = {
    "calibrations": service.SERVICE,
    "maintenance": service.SERVICE,
    "failures": service.FAILURE,
}


def _certificate(data: dict[str, Any]) -> dict[str, Any]:
    upload = data.pop("certificate", None)
    if upload is None:
        return data
    return {**data, "certificate": upload.read(), "certificate_filename": upload.name or ""}


@extend_schema(request=EquipmentIn, responses={201: EquipmentOut}, methods=["POST"])
class EquipmentViewSet(mixins.CreateModelMixin, ReadViewSet):
    """Equipment by its barcode identifier, with its due dates and whether a step may use it
    today; QA registers it and changes its status; the floor records its calibrations,
    maintenance and failures."""

    queryset = equipment_list()
    serializer_class = EquipmentOut
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    lookup_field = "identifier"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["kind", "status"]
    search_fields = ["identifier", "name"]
    ordering_fields = ["identifier"]
    action_permissions = {
        "list": "batches.view_equipment",
        "retrieve": "batches.view_equipment",
        "history": "batches.view_equipment",
        "signatures": "batches.view_equipment",
        "create": service.MANAGE,
        "status": service.MANAGE,
        "calibrations": "batches.view_equipment",
        "maintenance": "batches.view_equipment",
        "failures": "batches.view_equipment",
    }

    def check_permissions(self, request):
        super().check_permissions(request)
        needed = _WRITES.get(self.action or "")
        if needed and request.method == "POST" and not actor_may(request.user, needed):
            self.permission_denied(request, message=f"You may not do this ({needed}).")

    def create(self, request, *args, **kwargs):
        data = self.parse(EquipmentIn)
        piece = service.equipment_register(actor=request.user, **data)
        return self.respond(self.get_queryset().get(pk=piece.pk), status.HTTP_201_CREATED)

    @extend_schema(request=StatusIn, responses={200: EquipmentOut})
    @action(detail=True, methods=["post"])
    def status(self, request, *args, **kwargs):
        """Put it in service, out of service or in quarantine, saying why."""
        data = self.parse(StatusIn)
        piece = service.equipment_status_change(
            actor=request.user, equipment=self.get_object(), **data
        )
        return self.respond(self.get_queryset().get(pk=piece.pk))

    @extend_schema(methods=["GET"], responses=CalibrationOut(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": ServiceIn},
        responses={201: CalibrationOut},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def calibrations(self, request, *args, **kwargs):
        """GET: its calibrations, newest first. POST: record one, with its certificate."""
        piece = self.get_object()
        if request.method == "GET":
            return self.page_of(piece.calibrations.defer("certificate"), CalibrationOut)
        data = _certificate(dict(self.parse(ServiceIn)))
        record = service.equipment_calibration_record(actor=request.user, equipment=piece, **data)
        return Response(CalibrationOut(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=MaintenanceOut(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": MaintenanceIn},
        responses={201: MaintenanceOut},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def maintenance(self, request, *args, **kwargs):
        """GET: its maintenance, newest first. POST: record one, with its report."""
        piece = self.get_object()
        if request.method == "GET":
            return self.page_of(piece.maintenance.defer("certificate"), MaintenanceOut)
        data = _certificate(dict(self.parse(MaintenanceIn)))
        record = service.equipment_maintenance_record(actor=request.user, equipment=piece, **data)
        return Response(MaintenanceOut(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=FailureOut(many=True))
    @extend_schema(methods=["POST"], request=FailureIn, responses={201: FailureOut})
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def failures(self, request, *args, **kwargs):
        """GET: its failures, each with the batches it may have touched. POST: record one
        (the equipment goes out of service)."""
        piece = self.get_object()
        if request.method == "GET":
            return self.page_of(piece.failures.all(), FailureOut)
        data = self.parse(FailureIn)
        failure = service.equipment_failure_record(actor=request.user, equipment=piece, **data)
        return Response(FailureOut(failure).data, status=status.HTTP_201_CREATED)


@extend_schema(request=FeederIrradiationIn, responses={201: FeederIrradiationOut}, methods=["POST"])
class FeederIrradiationViewSet(mixins.CreateModelMixin, ReadViewSet):
    """The irradiation record of each feeder lot, on an irradiator usable that day."""

    queryset = FeederIrradiation.objects.select_related("feeder_lot", "irradiator")
    serializer_class = FeederIrradiationOut
    filterset_fields = ["feeder_lot__lot_number"]
    ordering_fields = ["irradiated_on"]
    action_permissions = {
        "list": "batches.view_feederirradiation",
        "retrieve": "batches.view_feederirradiation",
        "history": "batches.view_feederirradiation",
        "signatures": "batches.view_feederirradiation",
        "create": RECORD,
    }

    def create(self, request, *args, **kwargs):
        data = self.parse(FeederIrradiationIn)
        record = feeder_irradiation_record(actor=request.user, **data)
        return self.respond(record, status.HTTP_201_CREATED)
