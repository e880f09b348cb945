"""Release at a dose level through the API: formulation, record review, release decision,
recall, documents, and dose units (`/api/v1/doses/`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from batches import documents, selectors
from batches.api.serializers.release import (
    AssignIn,
    DoseCalculationOut,
    DoseCustodyIn,
    DoseCustodyOut,
    DoseUnitOut,
    FormulateIn,
    LabelPrintIn,
    LabelPrintJobOut,
    RecallIn,
    RecallOut,
    RecordExceptionsOut,
    RecordReviewOut,
    ReleaseIn,
    SignIn,
)
from batches.models import DoseUnit, ProtocolDoseLevel, Recipient
from batches.selectors.record_review import batch_record_review
from batches.services import bedside, labels, release
from carnk_mfg.api.viewsets import ReadViewSet

if TYPE_CHECKING:
    from rest_framework.serializers import Serializer

    from batches.models import Batch


def pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class BatchReleaseActions:
    """Mixed into the batch API: the sub-paths of release (DESIGN section 6)."""

    if TYPE_CHECKING:
        # What the batch viewset it is mixed into provides.
        def parse(self, serializer_class: type[Serializer[Any]]) -> Any: ...
        def get_object(self) -> Batch: ...
        def detail_response(self, batch: Batch, code: int = ...) -> Response: ...

    @extend_schema(request=FormulateIn, responses={201: DoseUnitOut(many=True)})
    @action(detail=True, methods=["post"])
    def formulate(self, request, *args, **kwargs):
        data = self.parse(FormulateIn)
        bags = release.dose_units_formulate(
            actor=request.user,
            password=data["password"],
            request=request,
            batch=self.get_object(),
            bags=[dict(b) for b in data["bags"]],
        )
        return Response(DoseUnitOut(bags, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=RecordExceptionsOut)
    @extend_schema(methods=["POST"], request=SignIn, responses={201: RecordReviewOut})
    @action(detail=True, methods=["get", "post"], url_path="record-review")
    def record_review(self, request, *args, **kwargs):
        """GET: the record by exception (what needs judgement, and the checks that passed).
        POST: QA's signed review of the complete batch record (not by anyone who made it)."""
        if request.method == "GET":
            return Response(RecordExceptionsOut(batch_record_review(self.get_object())).data)
        data = self.parse(SignIn)
        signature = release.batch_record_review(
            actor=request.user, password=data["password"], batch=self.get_object(), request=request
        )
        return Response(RecordReviewOut(signature).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReleaseIn)
    @action(detail=True, methods=["post"])
    def release(self, request, *args, **kwargs):
        """Release or reject, signed by QA; 409 if another request decided first."""
        data = self.parse(ReleaseIn)
        batch = release.batch_release_decide(
            actor=request.user, request=request, batch=self.get_object(), **data
        )
        return self.detail_response(batch)

    @extend_schema(methods=["GET"], responses=RecallOut)
    @extend_schema(methods=["POST"], request=RecallIn, responses={201: RecallOut})
    @action(detail=True, methods=["get", "post"])
    def recall(self, request, *args, **kwargs):
        """GET: the batch's recall and its lookback (404 if it was never recalled). POST: QA
        recalls a released batch, signed: every bag not yet infused is blocked at once."""
        batch = self.get_object()
        if request.method == "GET":
            recall = getattr(batch, "recall", None)
            if recall is None:
                raise NotFound("This batch has not been recalled.")
            return Response(RecallOut(recall).data)
        data = self.parse(RecallIn)
        recall = release.batch_recall(actor=request.user, request=request, batch=batch, **data)
        return Response(RecallOut(recall).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            409: OpenApiResponse(description="The batch has not started: no day 0 yet"),
        }
    )
    @action(detail=True, methods=["get"])
    def coa(self, request, *args, **kwargs):
        """The Certificate of Analysis (PDF)."""
        batch = self.get_object()
        content = documents.certificate_of_analysis_pdf(selectors.coa_for(batch))
        return pdf(content, f"CoA-{batch.lot_number}.pdf")


class DoseViewSet(ReadViewSet):
    """Dose units (bags); calculation at a dose level, assignment, and the bag label."""

    serializer_class = DoseUnitOut
    filterset_fields = ["status", "batch__lot_number", "recipient__subject_id"]
    action_permissions = {
        "list": "batches.view_doseunit",
        "retrieve": "batches.view_doseunit",
        "history": "batches.view_doseunit",
        "signatures": "batches.view_doseunit",
        # The calculation reads the recipient's weight: not for couriers.
        "calculation": "batches.view_recipient",
        "label": "batches.view_doseunit",
        "label_zpl": "batches.view_doseunit",
        "label_print": "batches.print_label",
        "assign": "batches.assign_dose",
        "custody": "batches.hand_off_dose",
    }

    def get_queryset(self):
        return DoseUnit.objects.select_related(
            "batch__source_unit", "recipient", "dose_level"
        ).prefetch_related("batch__chains_of_identity")

    def _recipient_and_level(self, recipient_id, level_code):
        # PostgreSQL refuses NUL in a string, so an identifier holding one names nothing.
        recipient, level = None, None
        if "\x00" not in recipient_id:
            recipient = Recipient.objects.filter(subject_id=recipient_id).first()
        if "\x00" not in level_code:
            level = ProtocolDoseLevel.objects.filter(code=level_code).first()
        errors = {}
        if recipient is None:
            errors["recipient"] = [f"No recipient {recipient_id!r}."]
        if level is None:
            errors["dose_level"] = [f"No protocol dose level {level_code!r}."]
        if errors:
            raise ValidationError(errors)
        return recipient, level

    @extend_schema(
        parameters=[
            OpenApiParameter("recipient", str, required=True),
            OpenApiParameter("dose_level", str, required=True),
        ],
        responses=DoseCalculationOut,
    )
    @action(detail=True, methods=["get"])
    def calculation(self, request, *args, **kwargs):
        """Dose = level x weight, volume = dose / concentration, with the arithmetic and
        every reason the dose would be refused."""
        recipient, level = self._recipient_and_level(
            request.query_params.get("recipient", ""), request.query_params.get("dose_level", "")
        )
        calc = release.dose_calculate(recipient=recipient, dose_unit=self.get_object(), level=level)
        return Response(DoseCalculationOut(calc).data)

    @extend_schema(request=AssignIn, responses=DoseUnitOut)
    @action(detail=True, methods=["post"])
    def assign(self, request, *args, **kwargs):
        data = self.parse(AssignIn)
        recipient, level = self._recipient_and_level(data["recipient"], data["dose_level"])
        unit = release.dose_assign(
            actor=request.user,
            dose_unit=self.get_object(),
            recipient=recipient,
            level_code=level.code,
            reason=data["reason"],
        )
        return self.respond(unit)

    @extend_schema(request=DoseCustodyIn, responses={201: DoseCustodyOut})
    @action(detail=True, methods=["post"])
    def custody(self, request, *args, **kwargs):
        """Issue, ship or receive the bag: a hand-off confirmed by both parties, each with
        their own password (two signatures). Issuing is clinical staff's; a courier may
        record a ship or a receive."""
        data = self.parse(DoseCustodyIn)
        event = bedside.dose_custody(
            actor=request.user, request=request, dose_unit=self.get_object(), **data
        )
        return Response(DoseCustodyOut(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def label(self, request, *args, **kwargs):
        """The bag's ISBT 128 label (PDF)."""
        unit = self.get_object()
        content = documents.bag_labels_pdf([selectors.bag_label_for(unit)])
        return pdf(content, f"label-{unit.batch.din}-{unit.division}.pdf")

    @extend_schema(
        operation_id="v1_doses_label_zpl_retrieve",
        responses={
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="The bag's label in ZPL II, UTF-8 (^CI28)"
            ),
            400: OpenApiResponse(
                inline_serializer(
                    "LabelRefused", {"label": serializers.ListField(child=serializers.CharField())}
                ),
                description="The label's content does not fit the label",
            ),
        },
    )
    # Routed as `label.zpl` in batches/api/urls.py, not by the router (no @action).
    def label_zpl(self, request, *args, **kwargs):
        """The bag's ISBT 128 label in ZPL II, for a thermal label printer: the same content
        as the PDF label."""
        unit = self.get_object()
        try:
            content = documents.bag_label_zpl(selectors.bag_label_for(unit))
        except ValueError as exc:  # LabelOverflowError: the content does not fit the label
            raise ValidationError({"label": [f"The label cannot be printed: {exc}"]}) from exc
        response = HttpResponse(content, content_type="text/plain; charset=utf-8")
        filename = f"label-{unit.batch.din}-{unit.division}.zpl"
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response

    @extend_schema(
        request=LabelPrintIn,
        responses={
            201: LabelPrintJobOut,
            503: OpenApiResponse(
                description="No label printer is configured, or it did not take the label "
                "(the job is recorded as failed)"
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="label/print")
    def label_print(self, request, *args, **kwargs):
        """Send the bag's label to the label printer; the print job is kept in the trail."""
        data = self.parse(LabelPrintIn)
        job = labels.dose_label_print(
            actor=request.user, dose_unit=self.get_object(), request=request, **data
        )
        return Response(LabelPrintJobOut(job).data, status=status.HTTP_201_CREATED)
