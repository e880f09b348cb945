"""CAPA API: /api/v1/capas/ (list, raise) with complete and verify actions."""

from __future__ import annotations

import django_filters
from django.db.models import Case, Value, When
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action

from batches.api.serializers.capa import CapaCompleteIn, CapaOut, CapaRaiseIn, CapaVerifyIn
from batches.models import Capa
from batches.selectors.capa import capas, overdue_q
from batches.services import capa as capa_services
from carnk_mfg.api.filters import TrueFalseFilter
from carnk_mfg.api.viewsets import ReadViewSet


class CapaFilter(django_filters.FilterSet):
    overdue = TrueFalseFilter(field_name="overdue")
    owner = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = Capa
        fields = ["state", "overdue", "owner"]


@extend_schema(request=CapaRaiseIn, responses={201: CapaOut}, methods=["POST"])
class CapaViewSet(mixins.CreateModelMixin, ReadViewSet):
    """Corrective and preventive actions on deviations. `?overdue=true` lists the open ones
    past their due date."""

    serializer_class = CapaOut
    filterset_class = CapaFilter
    ordering_fields = ["due_on", "raised_at"]
    action_permissions = {
        "list": "batches.view_capa",
        "retrieve": "batches.view_capa",
        "history": "batches.view_capa",
        "signatures": "batches.view_capa",
        "create": capa_services.RAISE,
        "complete": capa_services.COMPLETE,
        "verify": capa_services.VERIFY,
    }

    def get_queryset(self):
        return capas().annotate(
            overdue=Case(When(overdue_q(), then=Value(True)), default=Value(False))
        )

    def create(self, request, *args, **kwargs):
        data = self.parse(CapaRaiseIn)
        done = capa_services.capa_raise(actor=request.user, **data)
        return self.respond(self.get_queryset().get(pk=done.pk), status.HTTP_201_CREATED)

    @extend_schema(request=CapaCompleteIn, responses=CapaOut)
    @action(detail=True, methods=["post"])
    def complete(self, request, *args, **kwargs):
        """The owner records the action as done."""
        data = self.parse(CapaCompleteIn)
        done = capa_services.capa_complete(actor=request.user, capa=self.get_object(), **data)
        return self.respond(self.get_queryset().get(pk=done.pk))

    @extend_schema(request=CapaVerifyIn, responses=CapaOut)
    @action(detail=True, methods=["post"])
    def verify(self, request, *args, **kwargs):
        """QA's signed effectiveness check."""
        data = self.parse(CapaVerifyIn)
        done = capa_services.capa_verify(
            actor=request.user, request=request, capa=self.get_object(), **data
        )
        return self.respond(self.get_queryset().get(pk=done.pk))
