"""The base of every API viewset: permission per action, input parsing, and each record's
audit trail and signatures as sub-paths."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from carnk_mfg.api.permissions import ActorMay
from carnk_mfg.api.serializers import AuditEventOut, SignatureSerializer, text_type_errors
from carnk_mfg.audit import audit_history
from carnk_mfg.signatures import signatures_for


class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Any]):
    """List and detail, `history/` and `signatures/`; each action needs the permission its
    viewset maps it to in `action_permissions` (ActorMay)."""

    permission_classes = [ActorMay]

    def respond(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(instance).data, status=code)

    def page_of(
        self,
        rows: Any,
        serializer_class: type[serializers.BaseSerializer[Any]],
        context: dict[str, Any] | None = None,
    ) -> Response:
        """One page of a sub-list, in the lists' envelope (count, next, previous, results);
        a queryset is sliced in SQL."""
        page = self.paginate_queryset(rows)
        data = serializer_class(page, many=True, context=context or {}).data
        return self.get_paginated_response(data)

    def parse(self, serializer_class: type[serializers.Serializer[Any]]) -> Any:
        ser = serializer_class(data=self.request.data)
        wrong_types = text_type_errors(ser, self.request.data)
        if wrong_types:
            raise serializers.ValidationError(wrong_types)
        ser.is_valid(raise_exception=True)
        return ser.validated_data

    # A sub-list is paged but not filtered: the list's filters name the list's fields.
    @extend_schema(responses=AuditEventOut(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The record's audit trail: who, when, why, and old and new values."""
        return self.page_of(audit_history(self.get_object()), AuditEventOut)

    @extend_schema(responses=SignatureSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def signatures(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.get_object()
        return self.page_of(signatures_for(record), SignatureSerializer, {"record": record})
