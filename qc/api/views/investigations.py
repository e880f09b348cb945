"""Phase I OOS investigation API: /api/v1/oos-investigations/ with complete and approve."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from carnk_mfg.api.viewsets import ReadViewSet
from qc.api.serializers.investigations import (
    InvestigationApproveIn,
    InvestigationCompleteIn,
    OosInvestigationOut,
)
from qc.models import OosInvestigation
from qc.selectors.investigations import oos_investigations
from qc.services import investigations


class OosInvestigationFilter(django_filters.FilterSet):
    # By what the lab knows them by, not by row ids.
    batch = django_filters.CharFilter(field_name="test__batch__lot_number")
    code = django_filters.CharFilter(field_name="test__definition__code")

    class Meta:
        model = OosInvestigation
        fields = ["state", "batch", "code"]


class OosInvestigationViewSet(ReadViewSet):
    """Phase I investigations, one per out-of-specification result, opened with it; the
    analyst completes one, QA approves it (signed), and only then may the result be
    retested."""

    serializer_class = OosInvestigationOut
    filterset_class = OosInvestigationFilter
    ordering_fields = ["opened_at"]
    action_permissions = {
        "list": "qc.view_oosinvestigation",
        "retrieve": "qc.view_oosinvestigation",
        "history": "qc.view_oosinvestigation",
        "signatures": "qc.view_oosinvestigation",
        "complete": investigations.COMPLETE,
        "approve": investigations.APPROVE,
    }

    def get_queryset(self):
        return oos_investigations()

    @extend_schema(request=InvestigationCompleteIn, responses=OosInvestigationOut)
    @action(detail=True, methods=["post"])
    def complete(self, request, *args, **kwargs):
        """The analyst's checks, assignable cause (found or not, and which) and conclusion."""
        data = self.parse(InvestigationCompleteIn)
        done = investigations.oos_investigation_complete(
            actor=request.user, investigation=self.get_object(), **data
        )
        return self.respond(self.get_queryset().get(pk=done.pk))

    @extend_schema(request=InvestigationApproveIn, responses=OosInvestigationOut)
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        """QA's signed approval; a retest of the result may be recorded from then on."""
        data = self.parse(InvestigationApproveIn)
        done = investigations.oos_investigation_approve(
            actor=request.user, request=request, investigation=self.get_object(), **data
        )
        return self.respond(self.get_queryset().get(pk=done.pk))
