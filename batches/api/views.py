"""Thin API endpoints: parse input, call one service, shape the output."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action

from batches import selectors
from batches.api import serializers as s
from batches.models import CordBloodUnit, FeederLot, ReagentLot, VectorLot
from batches.services import donor, materials, recipients
from carnk_mfg.api.viewsets import ReadViewSet


class CordBloodUnitFilter(django_filters.FilterSet):
    class Meta:
        model = CordBloodUnit
        fields = ["status", "eligibility", "source_bank", "product_code"]


class CordBloodUnitViewSet(mixins.CreateModelMixin, ReadViewSet):
    """Cord blood units, looked up by DIN."""

    queryset = selectors.cord_blood_unit_list().select_related("registered_by")
    serializer_class = s.CordBloodUnitOut
    lookup_field = "din"
    filterset_class = CordBloodUnitFilter
    search_fields = ["din", "source_bank", "freezer"]
    ordering_fields = ["registered_at", "din", "collected_at"]
    action_permissions = {
        "list": "batches.view_cordbloodunit",
        "retrieve": "batches.view_cordbloodunit",
        "history": "batches.view_cordbloodunit",
        "signatures": "batches.view_cordbloodunit",
        "create": "batches.add_cordbloodunit",
        "eligibility": "batches.determine_eligibility",
        "allocate": "batches.allocate_cordbloodunit",
        "move": "batches.store_cordbloodunit",
        "discard": "batches.discard_cordbloodunit",
    }

    @extend_schema(request=s.CordBloodUnitRegisterIn, responses={201: s.CordBloodUnitOut})
    def create(self, request, *args, **kwargs):
        """Register a received unit. `din` needs its keyboard `check_character`; the
        registering technician signs with their password."""
        data = self.parse(s.CordBloodUnitRegisterIn)
        unit = donor.cord_blood_unit_register(actor=request.user, request=request, **data)
        return self.respond(unit, status.HTTP_201_CREATED)

    @extend_schema(request=s.EligibilityIn, responses=s.CordBloodUnitOut)
    @action(detail=True, methods=["post"])
    def eligibility(self, request, *args, **kwargs):
        """QA's donor eligibility determination, e-signed."""
        data = self.parse(s.EligibilityIn)
        unit = donor.cord_blood_unit_determine_eligibility(
            actor=request.user, request=request, unit=self.get_object(), **data
        )
        return self.respond(unit)

    @extend_schema(request=s.AllocateIn, responses=s.CordBloodUnitOut)
    @action(detail=True, methods=["post"])
    def allocate(self, request, *args, **kwargs):
        data = self.parse(s.AllocateIn)
        unit = donor.cord_blood_unit_allocate(actor=request.user, unit=self.get_object(), **data)
        return self.respond(unit)

    @extend_schema(request=s.MoveIn, responses=s.CordBloodUnitOut)
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        data = self.parse(s.MoveIn)
        unit = donor.cord_blood_unit_move(actor=request.user, unit=self.get_object(), **data)
        return self.respond(unit)

    @extend_schema(request=s.ReasonIn, responses=s.CordBloodUnitOut)
    @action(detail=True, methods=["post"])
    def discard(self, request, *args, **kwargs):
        data = self.parse(s.ReasonIn)
        unit = donor.cord_blood_unit_discard(actor=request.user, unit=self.get_object(), **data)
        return self.respond(unit)


class _LotViewSet(mixins.CreateModelMixin, ReadViewSet):
    lookup_field = "lot_number"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["status", "manufacturer"]
    search_fields = ["lot_number", "manufacturer"]
    ordering_fields = ["expiry_date", "lot_number", "received_on"]
    kind = ""
    input_serializer = None

    def get_queryset(self):
        return self.queryset.model.objects.all()

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

    @extend_schema(request=s.DispositionIn)
    @action(detail=True, methods=["post"])
    def disposition(self, request, *args, **kwargs):
        """QA releases, rejects or quarantines the lot, e-signed."""
        data = self.parse(s.DispositionIn)
        lot = materials.material_lot_disposition(
            actor=request.user, request=request, lot=self.get_object(), **data
        )
        return self.respond(lot)


@extend_schema(request=s.VectorLotIn, responses={201: s.VectorLotOut}, methods=["POST"])
class VectorLotViewSet(_LotViewSet):
    queryset = VectorLot.objects.all()
    serializer_class = s.VectorLotOut
    input_serializer = s.VectorLotIn
    kind = "vector"


@extend_schema(request=s.FeederLotIn, responses={201: s.FeederLotOut}, methods=["POST"])
class FeederLotViewSet(_LotViewSet):
    queryset = FeederLot.objects.all()
    serializer_class = s.FeederLotOut
    input_serializer = s.FeederLotIn
    kind = "feeder"


@extend_schema(request=s.ReagentLotIn, responses={201: s.ReagentLotOut}, methods=["POST"])
class ReagentLotViewSet(_LotViewSet):
    queryset = ReagentLot.objects.all()
    serializer_class = s.ReagentLotOut
    input_serializer = s.ReagentLotIn
    kind = "reagent"
    filterset_fields = ["status", "manufacturer", "reagent"]


class RecipientViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, ReadViewSet):
    """Recipients, looked up by their pseudonymous study subject ID."""

    serializer_class = s.RecipientOut
    lookup_field = "subject_id"
    filterset_fields = ["diagnosis", "dose_level"]
    search_fields = ["subject_id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "list": "batches.view_recipient",
        "retrieve": "batches.view_recipient",
        "history": "batches.view_recipient",
        "signatures": "batches.view_recipient",
        "create": "batches.add_recipient",
        "partial_update": "batches.change_recipient",
        "weights": "batches.record_weight",
    }

    def get_queryset(self):
        return selectors.recipient_list()

    @extend_schema(request=s.RecipientRegisterIn, responses={201: s.RecipientOut})
    def create(self, request, *args, **kwargs):
        data = self.parse(s.RecipientRegisterIn)
        recipient = recipients.recipient_register(actor=request.user, **data)
        return self.respond(
            selectors.recipient_list().get(pk=recipient.pk), status.HTTP_201_CREATED
        )

    @extend_schema(request=s.RecipientUpdateIn, responses=s.RecipientOut)
    def partial_update(self, request, *args, **kwargs):
        data = self.parse(s.RecipientUpdateIn)
        reason = data.pop("reason")
        recipient = recipients.recipient_update(
            actor=request.user, recipient=self.get_object(), reason=reason, **data
        )
        return self.respond(selectors.recipient_list().get(pk=recipient.pk))

    @extend_schema(request=s.WeightIn, responses={201: s.RecipientOut})
    @action(detail=True, methods=["post"])
    def weights(self, request, *args, **kwargs):
        """Record a body weight with the date it was measured."""
        data = self.parse(s.WeightIn)
        recipient = self.get_object()
        recipients.recipient_record_weight(actor=request.user, recipient=recipient, **data)
        return self.respond(
            selectors.recipient_list().get(pk=recipient.pk), status.HTTP_201_CREATED
        )
