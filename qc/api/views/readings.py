"""Instrument readings API (`/api/v1/readings/`): one of the two endpoints an instrument
key reaches."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from batches.api.serializers.batch_record import CORRECTION_REASON_HELP, CORRECTS_HELP
from carnk_mfg.api.viewsets import ReadViewSet
from qc.api.serializers.readings import READING_EXAMPLE, ReadingOut
from qc.authentication import acting_instrument
from qc.models import Instrument, InstrumentReading
from qc.services.readings import ReadingsRejected, readings_submit


def instrument_of(request: Request) -> Instrument:
    instrument = acting_instrument(request.user)
    if instrument is None:
        raise PermissionDenied("Readings are submitted with an instrument key.")
    return instrument


class ReadingViewSet(ReadViewSet):
    """Readings. An instrument sees only its own; staff with the view permission see all."""

    serializer_class = ReadingOut
    lookup_field = "reading_id"
    filterset_fields = ["sample_id"]
    allow_instruments = True
    action_permissions = {
        "list": "qc.view_instrumentreading",
        "retrieve": "qc.view_instrumentreading",
        "create": "qc.submit_reading",
        "history": "qc.view_instrumentreading",
        "signatures": "qc.view_instrumentreading",
    }

    def get_queryset(self):
        readings = InstrumentReading.objects.select_related("instrument", "batch")
        instrument = acting_instrument(self.request.user)
        if instrument is not None:
            readings = readings.filter(instrument=instrument)
        return readings

    @extend_schema(
        request=inline_serializer(
            "ReadingIn",
            {
                "reading_id": serializers.UUIDField(),
                "sample_id": serializers.CharField(help_text="<lot>-D<day> or <lot>-QC<test id>"),
                "measured_at": serializers.DateTimeField(),
                "total_cells_per_ml": serializers.FloatField(required=False),
                "viable_cells_per_ml": serializers.FloatField(required=False),
                "viability_pct": serializers.FloatField(required=False),
                "volume_ml": serializers.FloatField(required=False),
                "result": serializers.JSONField(required=False),
                "unit": serializers.CharField(required=False),
                "corrects": serializers.IntegerField(
                    required=False, allow_null=True, help_text=CORRECTS_HELP
                ),
                "correction_reason": serializers.CharField(
                    required=False, help_text=CORRECTION_REASON_HELP
                ),
            },
        ),
        responses={
            201: inline_serializer(
                "ReadingsAccepted",
                {
                    "created": serializers.ListField(child=serializers.UUIDField()),
                    "existing": serializers.ListField(child=serializers.UUIDField()),
                },
            ),
            200: inline_serializer(
                "ReadingsAlreadyThere",
                {
                    "created": serializers.ListField(child=serializers.UUIDField()),
                    "existing": serializers.ListField(child=serializers.UUIDField()),
                },
            ),
        },
        examples=[
            OpenApiExample("One reading", value=READING_EXAMPLE, request_only=True),
            OpenApiExample("A list", value=[READING_EXAMPLE], request_only=True),
        ],
        description=(
            "One reading object or a list (at most READINGS_PER_REQUEST_MAX, default 1000). "
            "`reading_id` makes each idempotent: a retry creates nothing and is listed under "
            "`existing`. One bad item rejects the whole request: 400 with "
            '`{"items": {"<index>": {"<field>": [messages]}}}`.'
        ),
    )
    def create(self, request, *args, **kwargs):
        instrument = instrument_of(request)
        try:
            result = readings_submit(
                actor=request.user, payload=request.data, instrument=instrument
            )
        except ReadingsRejected as exc:
            return Response({"items": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response({"created": result.created, "existing": result.existing}, status=code)
