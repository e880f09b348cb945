"""Environmental monitoring API: /api/v1/sampling-points/ and /api/v1/em-samples/ (a plate
taken, then `result/` read after incubation; an action-level result opens the deviations of
the batches open in the room and lists them)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action

from carnk_mfg.api.viewsets import ReadViewSet
from qc.api.serializers.environment import (
    EmResultIn,
    EmSampleIn,
    EmSampleOut,
    SamplingPointIn,
    SamplingPointOut,
)
from qc.selectors.environment import em_samples, sampling_points
from qc.services import environment


@extend_schema(request=SamplingPointIn, responses={201: SamplingPointOut}, methods=["POST"])
class SamplingPointViewSet(mixins.CreateModelMixin, ReadViewSet):
    """The places sampled in each room."""

    queryset = sampling_points()
    serializer_class = SamplingPointOut
    filterset_fields = ["room__identifier"]
    search_fields = ["code", "description"]
    ordering_fields = ["code"]
    action_permissions = {
        "list": "qc.view_samplingpoint",
        "retrieve": "qc.view_samplingpoint",
        "history": "qc.view_samplingpoint",
        "signatures": "qc.view_samplingpoint",
        "create": "qc.manage_sampling_point",
    }

    def create(self, request, *args, **kwargs):
        point = environment.sampling_point_create(actor=request.user, **self.parse(SamplingPointIn))
        return self.respond(point, status.HTTP_201_CREATED)


@extend_schema(request=EmSampleIn, responses={201: EmSampleOut}, methods=["POST"])
class EmSampleViewSet(mixins.CreateModelMixin, ReadViewSet):
    """Viable air, surface and glove samples, with their count once read."""

    queryset = em_samples()
    serializer_class = EmSampleOut
    # By the point's code, not its id: an unknown id would be a 400 the schema cannot state.
    filterset_fields = [
        "sampling_point__code",
        "sampling_point__room__identifier",
        "sample_type",
        "level",
    ]
    ordering_fields = ["sampling_started_at", "read_at"]
    action_permissions = {
        "list": "qc.view_emsample",
        "retrieve": "qc.view_emsample",
        "history": "qc.view_emsample",
        "signatures": "qc.view_emsample",
        "create": "qc.record_em_sample",
        "result": "qc.read_em_result",
    }

    def create(self, request, *args, **kwargs):
        sample = environment.em_sample_record(actor=request.user, **self.parse(EmSampleIn))
        return self.respond(em_samples().get(pk=sample.pk), status.HTTP_201_CREATED)

    @extend_schema(request=EmResultIn, responses=EmSampleOut)
    @action(detail=True, methods=["post"])
    def result(self, request, *args, **kwargs):
        """Read the plate: the count, judged against the room grade's limits (final)."""
        sample = self.get_object()
        data = self.parse(EmResultIn)
        environment.em_result_read(actor=request.user, sample=sample, cfu=data["cfu"])
        return self.respond(em_samples().get(pk=sample.pk))
