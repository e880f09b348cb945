"""Training API: /api/v1/procedures/ (with their versions) and /api/v1/training-records/
(with who supervises whom)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from batches.api.serializers.training import (
    ProcedureIn,
    ProcedureOut,
    ProcedureVersionIn,
    StepQualificationIn,
    StepQualificationOut,
    SupervisionIn,
    SupervisionOut,
    TrainingRecordIn,
    TrainingRecordOut,
)
from batches.models import Procedure
from batches.selectors.training import step_qualifications, training_records
from batches.services import training
from carnk_mfg.api.filters import TrueFalseFilter
from carnk_mfg.api.viewsets import ReadViewSet
from carnk_mfg.roles import actor_may


class ProcedureFilter(django_filters.FilterSet):
    required_for_release = TrueFalseFilter()

    class Meta:
        model = Procedure
        fields = ["required_for_release"]


@extend_schema(request=ProcedureIn, responses={201: ProcedureOut}, methods=["POST"])
class ProcedureViewSet(mixins.CreateModelMixin, ReadViewSet):
    """SOPs with their versions and the version in effect today; QA issues a procedure, its
    next version, and the template steps that ask for it."""

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
        "create": training.ISSUE,
        "versions": training.ISSUE,
        "qualifications": "batches.view_procedure",
    }

    def check_permissions(self, request):
        super().check_permissions(request)
        writing = self.action == "qualifications" and request.method == "POST"
        if writing and not actor_may(request.user, training.ISSUE):
            self.permission_denied(request, message=f"You may not do this ({training.ISSUE}).")

    def create(self, request, *args, **kwargs):
        data = self.parse(ProcedureIn)
        procedure = training.procedure_create(actor=request.user, **data)
        return self.respond(procedure, status.HTTP_201_CREATED)

    @extend_schema(request=ProcedureVersionIn, responses={201: ProcedureOut})
    @action(detail=True, methods=["post"])
    def versions(self, request, *args, **kwargs):
        """Issue the procedure's next version; from its effective date, people trained on
        the one before are no longer current."""
        data = self.parse(ProcedureVersionIn)
        procedure = self.get_object()
        training.procedure_version_issue(actor=request.user, procedure=procedure, **data)
        return self.respond(self.get_queryset().get(pk=procedure.pk), status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=StepQualificationOut(many=True))
    @extend_schema(
        methods=["POST"], request=StepQualificationIn, responses={201: StepQualificationOut}
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def qualifications(self, request, *args, **kwargs):
        """GET: the template steps that ask for this procedure, to perform or to review.
        POST: ask it of whoever performs (or reviews) one more step."""
        procedure = self.get_object()
        if request.method == "GET":
            return self.page_of(step_qualifications(procedure), StepQualificationOut)
        data = self.parse(StepQualificationIn)
        qualification = training.step_qualification_require(
            actor=request.user, procedure=procedure, **data
        )
        return Response(StepQualificationOut(qualification).data, status=status.HTTP_201_CREATED)


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
        "supervisor": training.RECORD,
    }

    def create(self, request, *args, **kwargs):
        data = self.parse(TrainingRecordIn)
        record = training.training_record_create(actor=request.user, request=request, **data)
        return self.respond(record, status.HTTP_201_CREATED)

    @extend_schema(request=SupervisionIn, responses={200: SupervisionOut})
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def supervisor(self, request, *args, **kwargs):
        """Name a person's supervisor, with a reason: the one told with them when a training
        of theirs is about to expire. Replaces the supervisor named before."""
        data = self.parse(SupervisionIn)
        supervision = training.supervisor_set(actor=request.user, **data)
        return Response(SupervisionOut(supervision).data)
