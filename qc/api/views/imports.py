"""Instrument export file API (`/api/v1/imports/`): upload (parsed by a worker into a
preview, polled by GET), then accept; the other endpoint an instrument key reaches."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from carnk_mfg.api.viewsets import ReadViewSet
from qc.api.serializers.imports import ImportIn, ImportOut
from qc.authentication import acting_instrument
from qc.models import Instrument, InstrumentImport
from qc.services.imports import import_accept, import_stage

_EXAMPLE = {
    "id": 17,
    "instrument": "VCB-0042",
    "filename": "Results.csv",
    "sha256": "9f2c…",
    "file_format": "vicell_blu_summary",
    "status": "ready",
    "failure": "",
    "uploaded_at": "2026-11-20T09:20:00Z",
    "accepted_at": None,
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
}


class ImportViewSet(ReadViewSet):
    """Instrument export files: upload, poll until the preview is ready, accept to commit."""

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
        instrument = acting_instrument(self.request.user)
        if instrument is not None:
            imports = imports.filter(instrument=instrument)
        return imports

    @extend_schema(
        request={"multipart/form-data": ImportIn},
        responses={
            202: ImportOut,
            200: ImportOut,
            400: OpenApiResponse(
                description="Empty, unreadable, unknown or too large a file, another "
                "instrument's kind of file, or more rows than the row cap"
            ),
        },
        examples=[
            OpenApiExample(
                "Vi-CELL BLU summary, queued for parsing",
                response_only=True,
                status_codes=["202"],
                value={**_EXAMPLE, "status": "parsing", "preview": {}, "already_imported": False},
            ),
            OpenApiExample(
                "The same file again",
                response_only=True,
                status_codes=["200"],
                value={**_EXAMPLE, "already_imported": True},
            ),
            OpenApiExample(
                "Too many rows",
                response_only=True,
                status_codes=["400"],
                value={
                    "file": [
                        "The file has 30,000 rows; at most 5,000 can be imported at once: "
                        "split the export."
                    ]
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
            "Keeps the file and answers at once, 202 with the import in status `parsing`: a "
            "worker parses it (bounded in time and memory). Poll `GET /api/v1/imports/{id}/` "
            "until `ready` (the preview lists each row: matched batch and sample, values in "
            "cells/mL, conflicts, unmatched sample IDs) or `failed` (`failure` says why), then "
            "accept. The same file again answers 200 with the earlier import and "
            "`already_imported: true`. An empty, unreadable or unknown file, one of another "
            "kind of instrument, or one with more rows than the row cap (IMPORT_MAX_ROWS, "
            "5,000 by default) is refused at once with 400 naming what was wrong."
        ),
    )
    def create(self, request, *args, **kwargs):
        data = self.parse(ImportIn)
        instrument = acting_instrument(request.user)
        if instrument is None:
            serial = data.get("instrument")
            instrument = Instrument.objects.filter(serial_number=serial).first() if serial else None
            if instrument is None:
                raise ValidationError({"instrument": ["Name the instrument by serial number."]})
        upload = data["file"]
        staged, again = import_stage(
            actor=request.user, instrument=instrument, filename=upload.name, data=upload.read()
        )
        body = {**ImportOut(staged).data, "already_imported": again}
        return Response(body, status=status.HTTP_200_OK if again else status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={
            200: ImportOut,
            400: OpenApiResponse(description="Not ready (still parsing, failed) or accepted"),
        },
        examples=[
            OpenApiExample(
                "Not ready yet",
                response_only=True,
                status_codes=["400"],
                value={
                    "status": [
                        "This file is still being parsed: accept it once its preview is ready."
                    ]
                },
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, *args, **kwargs):
        """Commit every matched row atomically (rows with conflicts are left out); only a
        `ready` import can be accepted."""
        staged = import_accept(actor=request.user, staged=self.get_object())
        return self.respond(staged)
