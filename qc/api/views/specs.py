"""QC specification set API: /api/v1/qc-spec-sets/ and QA's e-signed approval."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from carnk_mfg.api.viewsets import ReadViewSet
from qc.api.serializers.results import ReviewIn
from qc.api.serializers.specs import QcSpecSetOut
from qc.models import QcSpecSet
from qc.services.specs import qc_spec_set_approve


class QcSpecSetViewSet(ReadViewSet):
    """Versioned QC specification sets; QA approves a draft with an e-signature."""

    serializer_class = QcSpecSetOut
    action_permissions = {
        "list": "qc.view_qcspecset",
        "retrieve": "qc.view_qcspecset",
        "history": "qc.view_qcspecset",
        "signatures": "qc.view_qcspecset",
        "approve": "qc.approve_qcspecset",
    }

    def get_queryset(self):
        return QcSpecSet.objects.select_related("template").prefetch_related("definitions")

    @extend_schema(request=ReviewIn, responses=QcSpecSetOut)
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        data = self.parse(ReviewIn)
        spec_set = qc_spec_set_approve(
            actor=request.user, request=request, spec_set=self.get_object(), **data
        )
        return self.respond(spec_set)
