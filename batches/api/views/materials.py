"""Material lot API: /api/v1/vector-lots/, /feeder-lots/, /reagent-lots/."""

from __future__ import annotations

import mimetypes
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from batches.api.serializers.materials import (
    AdjustmentIn,
    AdjustmentOut,
    CertificateIn,
    CertificateOut,
    DispositionIn,
    FeederLotIn,
    FeederLotOut,
    LotRecallIn,
    LotUseOut,
    ReagentLotIn,
    ReagentLotOut,
    VectorLotIn,
    VectorLotOut,
)
from batches.models import FeederLot, MaterialLot, ReagentLot, VectorLot
from batches.selectors.inventory import lot_adjustments, lot_certificates, lot_uses
from batches.services import inventory, materials
from carnk_mfg.api.viewsets import ReadViewSet


class _LotViewSet(mixins.CreateModelMixin, ReadViewSet):
    lookup_field = "lot_number"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["status", "manufacturer"]
    search_fields = ["lot_number", "manufacturer"]
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    ordering_fields = ["expiry_date", "lot_number", "received_on"]
    kind = ""
    # Each kind's view names its lots and the shape a new lot is registered with.
    queryset: QuerySet[MaterialLot]
    input_serializer: type[serializers.Serializer[Any]]

    def get_queryset(self) -> QuerySet[MaterialLot]:
        return self.queryset.model._default_manager.all()

    @property
    def action_permissions(self):
        name = self.queryset.model._meta.model_name
        return {
            "list": f"batches.view_{name}",
            "retrieve": f"batches.view_{name}",
            "history": f"batches.view_{name}",
            "signatures": f"batches.view_{name}",
            "create": f"batches.add_{name}",
            "disposition": f"batches.disposition_{name}",
            "recall": f"batches.disposition_{name}",
            "certificates": "batches.view_lotcertificate",
            "certificate_file": "batches.view_lotcertificate",
            "certificate_upload": "batches.upload_certificate",
            "adjustments": "batches.view_stockadjustment",
            "adjust": "batches.adjust_stock",
            "uses": "batches.view_executedstep",
        }

    def create(self, request, *args, **kwargs):
        data = self.parse(self.input_serializer)
        lot = materials.material_lot_register(actor=request.user, kind=self.kind, **data)
        return self.respond(lot, status.HTTP_201_CREATED)

    @extend_schema(request=DispositionIn)
    @action(detail=True, methods=["post"])
    def disposition(self, request, *args, **kwargs):
        """QA releases, rejects or quarantines the lot, e-signed."""
        data = self.parse(DispositionIn)
        lot = materials.material_lot_disposition(
            actor=request.user, request=request, lot=self.get_object(), **data
        )
        return self.respond(lot)

    @extend_schema(request=LotRecallIn)
    @action(detail=True, methods=["post"])
    def recall(self, request, *args, **kwargs):
        """QA recalls the lot, e-signed: it is never used again. `batches/` lists every batch
        that used it."""
        data = self.parse(LotRecallIn)
        lot = inventory.material_lot_recall(
            actor=request.user, request=request, lot=self.get_object(), **data
        )
        return self.respond(lot)

    @extend_schema(responses=LotUseOut(many=True))
    @action(detail=True, methods=["get"], url_path="batches", filter_backends=[])
    def uses(self, request, *args, **kwargs):
        """Every step of every batch that used the lot (a recall's reach), oldest first."""
        return self.page_of(lot_uses(self.get_object()), LotUseOut)

    @extend_schema(responses=CertificateOut(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def certificates(self, request, *args, **kwargs):
        """The supplier's certificates of analysis on file, with their SHA-256."""
        return self.page_of(lot_certificates(self.get_object()), CertificateOut)

    @extend_schema(
        request={"multipart/form-data": CertificateIn},
        responses={201: CertificateOut},
        description="Keeps the file as received with its SHA-256 (at most 5 MB). A lot is "
        "released only with a certificate on file.",
    )
    @certificates.mapping.post
    def certificate_upload(self, request, *args, **kwargs):
        data = self.parse(CertificateIn)
        upload = data["file"]
        certificate = inventory.lot_certificate_upload(
            actor=request.user, lot=self.get_object(), filename=upload.name, data=upload.read()
        )
        return Response(CertificateOut(certificate).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="No such certificate of this lot"),
        }
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"certificates/(?P<certificate_id>[0-9]+)",
        filter_backends=[],
    )
    def certificate_file(self, request, *args, certificate_id: str, **kwargs):
        """The certificate's file as it was received."""
        lot = self.get_object()
        certificate = get_object_or_404(lot_certificates(lot).defer(None), pk=certificate_id)
        kind = mimetypes.guess_type(certificate.filename)[0] or "application/octet-stream"
        response = HttpResponse(bytes(certificate.content), content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="{certificate.filename}"'
        response["X-Content-SHA256"] = certificate.sha256
        return response

    @extend_schema(responses=AdjustmentOut(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def adjustments(self, request, *args, **kwargs):
        """Count corrections, breakage and discards of the lot, newest first."""
        return self.page_of(lot_adjustments(self.get_object()), AdjustmentOut)

    @extend_schema(request=AdjustmentIn, responses={201: AdjustmentOut})
    @adjustments.mapping.post
    def adjust(self, request, *args, **kwargs):
        data = self.parse(AdjustmentIn)
        adjustment = inventory.lot_stock_adjust(actor=request.user, lot=self.get_object(), **data)
        return Response(AdjustmentOut(adjustment).data, status=status.HTTP_201_CREATED)


@extend_schema(request=VectorLotIn, responses={201: VectorLotOut}, methods=["POST"])
class VectorLotViewSet(_LotViewSet):
    queryset = VectorLot.objects.all()
    serializer_class = VectorLotOut
    input_serializer = VectorLotIn
    kind = "vector"


@extend_schema(request=FeederLotIn, responses={201: FeederLotOut}, methods=["POST"])
class FeederLotViewSet(_LotViewSet):
    queryset = FeederLot.objects.all()
    serializer_class = FeederLotOut
    input_serializer = FeederLotIn
    kind = "feeder"


@extend_schema(request=ReagentLotIn, responses={201: ReagentLotOut}, methods=["POST"])
class ReagentLotViewSet(_LotViewSet):
    queryset = ReagentLot.objects.all()
    serializer_class = ReagentLotOut
    input_serializer = ReagentLotIn
    kind = "reagent"
    filterset_fields = ["status", "manufacturer", "reagent"]
