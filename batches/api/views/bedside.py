"""Bedside API: the bedside check (`/api/v1/bedside-checks/`) and the infusion
(`/api/v1/infusions/`: its start, or start and completion in one call; `complete/` for an
infusion in progress; the safety switch given after it)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from batches.api.serializers.bedside import (
    BedsideCheckIn,
    BedsideCheckOut,
    InfusionCompleteIn,
    InfusionIn,
    InfusionOut,
)
from batches.api.serializers.clinical import SafetySwitchIn, SafetySwitchOut
from batches.models import BedsideCheck, Infusion
from batches.services import bedside, clinical
from carnk_mfg.api.viewsets import ReadViewSet


class BedsideCheckViewSet(ReadViewSet):
    """Scan the bag and the wristband: a mismatch answers `blocked` with reasons, and is kept."""

    serializer_class = BedsideCheckOut
    queryset = BedsideCheck.objects.all()
    action_permissions = {
        "list": "batches.view_bedsidecheck",
        "retrieve": "batches.view_bedsidecheck",
        "history": "batches.view_bedsidecheck",
        "signatures": "batches.view_bedsidecheck",
        "create": "batches.verify_at_bedside",
    }

    @extend_schema(request=BedsideCheckIn, responses={201: BedsideCheckOut})
    def create(self, request, *args, **kwargs):
        data = self.parse(BedsideCheckIn)
        check = bedside.bedside_verify(actor=request.user, **data)
        return self.respond(check, status.HTTP_201_CREATED)


class InfusionViewSet(ReadViewSet):
    serializer_class = InfusionOut
    queryset = Infusion.objects.select_related("recipient")
    action_permissions = {
        "list": "batches.view_infusion",
        "retrieve": "batches.view_infusion",
        "history": "batches.view_infusion",
        "signatures": "batches.view_infusion",
        "create": "batches.record_infusion",
        "complete": "batches.record_infusion",
        "safety_switch": "batches.add_safetyswitchactivation",
    }

    @extend_schema(request=InfusionIn, responses={201: InfusionOut})
    def create(self, request, *args, **kwargs):
        """Record the start of the infusion after a passing bedside check, signed by the
        nurse; with `ended_at` and `volume_ml`, its completion too, in the same transaction
        (two signatures: the start and the completion). Without them it is in progress."""
        data = self.parse(InfusionIn)
        check = get_object_or_404(BedsideCheck, pk=data.pop("bedside_check"))
        infusion = bedside.infusion_record(actor=request.user, request=request, check=check, **data)
        return self.respond(infusion, status.HTTP_201_CREATED)

    @extend_schema(request=InfusionCompleteIn, responses=InfusionOut)
    @action(detail=True, methods=["post"])
    def complete(self, request, *args, **kwargs):
        """Complete an infusion in progress: end, volume infused, vitals after, reactions
        (signed); 400 if it was already completed."""
        data = self.parse(InfusionCompleteIn)
        infusion = bedside.infusion_complete(
            actor=request.user, request=request, infusion=self.get_object(), **data
        )
        return self.respond(infusion)

    @extend_schema(request=SafetySwitchIn, responses={201: SafetySwitchOut})
    @action(detail=True, methods=["post"], url_path="safety-switch")
    def safety_switch(self, request, *args, **kwargs):
        """AP1903 (rimiducid) given to activate the iC9 safety switch."""
        data = self.parse(SafetySwitchIn)
        record = clinical.safety_switch_record(
            actor=request.user, infusion=self.get_object(), **data
        )
        return Response(SafetySwitchOut(record).data, status=status.HTTP_201_CREATED)
