"""Material lot API: /api/v1/vector-lots/, /feeder-lots/, /reagent-lots/."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action

from batches.api.serializers.materials import (
    DispositionIn,
    FeederLotIn,
    FeederLotOut,
    ReagentLotIn,
    ReagentLotOut,
    VectorLotIn,
    VectorLotOut,
)
from batches.models import FeederLot, MaterialLot, ReagentLot, VectorLot
from batches.services import materials
from carnk_mfg.api.viewsets import ReadViewSet


class _LotViewSet(mixins.CreateModelMixin, ReadViewSet):
    lookup_field = "lot_number"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["status", "manufacturer"]
    search_fields = ["lot_number", "manufacturer"]
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
