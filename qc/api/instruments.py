"""Instrument endpoints: the only ones an instrument key reaches."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from carnk_mfg.api.viewsets import ReadViewSet
from qc.models import Instrument, InstrumentImport, InstrumentReading
from qc.services.imports import import_accept, import_stage
from qc.services.readings import ReadingsRejected, readings_submit


class ReadingOut(serializers.ModelSerializer):
    instrument = serializers.CharField(source="instrument.serial_number")
    batch = serializers.CharField(source="batch.lot_number")

    class Meta:
        model = InstrumentReading
        fields = [
            "reading_id",
            "instrument",
            "sample_id",
            "batch",
            "measured_at",
            "values",
            "cell_count",
            "qc_test",
            "received_at",
        ]


READING_EXAMPLE = {
    "reading_id": "3f1c2a8e-8d3b-4a55-9a64-0c1d2e3f4a5b",
    "sample_id": "CNK-26000001-D07",
    "measured_at": "2026-11-20T09:15:00+00:00",
    "total_cells_per_ml": 2150000,
    "viable_cells_per_ml": 1980000,
    "viability_pct": 92.1,
    "volume_ml": 120,
}


def instrument_of(request):
    if not getattr(request.user, "is_instrument", False):
        raise PermissionDenied("Readings are submitted with an instrument key.")
    return request.user.instrument


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
        if getattr(self.request.user, "is_instrument", False):
            readings = readings.filter(instrument=self.request.user.instrument)
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


class ImportOut(serializers.ModelSerializer):
    instrument = serializers.CharField(source="instrument.serial_number")

    class Meta:
        model = InstrumentImport
        fields = [
            "id",
            "instrument",
            "filename",
            "sha256",
            "file_format",
            "status",
            "preview",
            "uploaded_at",
            "accepted_at",
        ]


class ImportIn(serializers.Serializer):
    file = serializers.FileField(help_text="The instrument's native export, as it wrote it")
    instrument = serializers.CharField(
        required=False, help_text="Serial number; not needed with an instrument key"
    )


class ImportViewSet(ReadViewSet):
    """Instrument export files: upload for a staged preview, then accept to commit."""

    serializer_class = ImportOut
    parser_classes = [MultiPartParser, FormParser]
    allow_instruments = True
    action_permissions = {
        "list": "qc.view_instrumentimport",
        "retrieve": "qc.view_instrumentimport",
        "history": "qc.view_instrumentimport",
        "signatures": "qc.view_instrumentimport",
        "create": "qc.submit_reading",
        "accept": "qc.submit_reading",
    }

    def get_queryset(self):
        imports = InstrumentImport.objects.select_related("instrument").defer("raw_file")
        if getattr(self.request.user, "is_instrument", False):
            imports = imports.filter(instrument=self.request.user.instrument)
        return imports

    @extend_schema(
        request={"multipart/form-data": ImportIn},
        responses={201: ImportOut, 200: ImportOut},
        examples=[
            OpenApiExample(
                "Staged Vi-CELL BLU summary",
                response_only=True,
                status_codes=["201"],
                value={
                    "id": 17,
                    "instrument": "VCB-0042",
                    "filename": "Results.csv",
                    "sha256": "9f2c…",
                    "file_format": "vicell_blu_summary",
                    "status": "staged",
                    "already_imported": False,
                    "preview": {
                        "format_label": "Beckman Coulter Vi-CELL BLU (summary CSV)",
                        "matched": 1,
                        "unmatched": ["CNK-26000002-D07"],
                        "conflicts": [],
                        "warnings": [],
                        "rows": [
                            {
                                "row": 1,
                                "sample_id": "CNK-26000001-D07",
                                "batch": "CNK-26000001",
                                "status": "matched",
                                "kind": "count",
                                "day": 7,
                                "measured_at": "2026-11-20T09:15:00+00:00",
                                "total_cells_per_ml": 1940000.0,
                                "viable_cells_per_ml": 1850000.0,
                                "viability_pct": 95.68,
                                "conflict": "",
                                "note": "",
                            }
                        ],
                    },
                },
            ),
            OpenApiExample(
                "Unreadable file",
                response_only=True,
                status_codes=["400"],
                value={"file": ["Unknown file format: the first line is 'foo,bar'. Supported: …"]},
            ),
        ],
        description=(
            "Stages the file: the answer previews each row (matched batch and sample, values "
            "in cells/mL, conflicts, unmatched sample IDs). The same file again answers 200 "
            "with the earlier import and `already_imported: true`. An unreadable or unknown "
            "file is 400 naming what was wrong."
        ),
    )
    def create(self, request, *args, **kwargs):
        data = self.parse(ImportIn)
        if getattr(request.user, "is_instrument", False):
            instrument = request.user.instrument
        else:
            serial = data.get("instrument")
            instrument = Instrument.objects.filter(serial_number=serial).first() if serial else None
            if instrument is None:
                raise ValidationError({"instrument": ["Name the instrument by serial number."]})
        upload = data["file"]
        staged, again = import_stage(
            actor=request.user, instrument=instrument, filename=upload.name, data=upload.read()
        )
        body = {**ImportOut(staged).data, "already_imported": again}
        return Response(body, status=status.HTTP_200_OK if again else status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ImportOut)
    @action(detail=True, methods=["post"])
    def accept(self, request, *args, **kwargs):
        """Commit every matched row atomically (rows with conflicts are left out)."""
        staged = import_accept(actor=request.user, staged=self.get_object())
        return self.respond(staged)
