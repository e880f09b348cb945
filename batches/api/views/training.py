"""Training API: /api/v1/procedures/ (with their versions) and /api/v1/training-records/."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status

from batches.api.serializers.training import ProcedureOut, TrainingRecordIn, TrainingRecordOut
from batches.models import Procedure
from batches.selectors.training import training_records
from batches.services import training
from carnk_mfg.api.filters import TrueFalseFilter
from carnk_mfg.api.viewsets import ReadViewSet


class ProcedureFilter(django_filters.FilterSet):
    required_for_release = TrueFalseFilter()

    class Meta:
        model = Procedure
        fields = ["required_for_release"]


class ProcedureViewSet(ReadViewSet):
    """SOPs with their versions and the version in effect today."""

    queryset = Procedure.objects.prefetch_related("versions")
    serializer_class = ProcedureOut
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_class = ProcedureFilter
    search_fields = ["code", "title"]
    ordering_fields = ["code"]
    action_permissions = {
        "list": "batches.view_procedure",
        "retrieve": "batches.view_procedure",
        "history": "batches.view_procedure",
        "signatures": "batches.view_procedure",
    }


@extend_schema(request=TrainingRecordIn, responses={201: TrainingRecordOut}, methods=["POST"])
class TrainingRecordViewSet(mixins.CreateModelMixin, ReadViewSet):
    """People's training on procedure versions; recording one is signed (QA)."""

    queryset = training_records()
    serializer_class = TrainingRecordOut
    filterset_fields = ["trainee__username", "procedure_version__procedure__code", "assessment"]
    ordering_fields = ["trained_on", "expires_on"]
    action_permissions = {
        "list": "batches.view_trainingrecord",
        "retrieve": "batches.view_trainingrecord",
        "history": "batches.view_trainingrecord",
        "signatures": "batches.view_trainingrecord",
        "create": "batches.record_training",
    }

    def create(self, request, *args, **kwargs):
        data = self.parse(TrainingRecordIn)
        record = training.training_record_create(actor=request.user, request=request, **data)
        return self.respond(record, status.HTTP_201_CREATED)
