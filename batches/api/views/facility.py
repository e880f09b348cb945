"""Facility API: /api/v1/rooms/ (cleanrooms and their grade; QA registers them)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status

from batches.api.serializers.facility import RoomIn, RoomOut
from batches.selectors.facility import rooms
from batches.services import facility
from carnk_mfg.api.viewsets import ReadViewSet


@extend_schema(request=RoomIn, responses={201: RoomOut}, methods=["POST"])
class RoomViewSet(mixins.CreateModelMixin, ReadViewSet):
    """The cleanrooms batches are made in, with their EU GMP Annex 1 grade."""

    queryset = rooms()
    serializer_class = RoomOut
    lookup_field = "identifier"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["grade"]
    search_fields = ["identifier", "name"]
    ordering_fields = ["identifier"]
    action_permissions = {
        "list": "batches.view_room",
        "retrieve": "batches.view_room",
        "history": "batches.view_room",
        "signatures": "batches.view_room",
        "create": "batches.manage_room",
    }

    def create(self, request, *args, **kwargs):
        room = facility.room_create(actor=request.user, **self.parse(RoomIn))
        return self.respond(room, status.HTTP_201_CREATED)
