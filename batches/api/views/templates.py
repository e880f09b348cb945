"""Process template API: /api/v1/process-templates/ and QA's approval."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from batches.api.serializers.templates import ProcessTemplateOut, TemplateApproveIn
from batches.models import ProcessTemplate
from batches.services import templates
from carnk_mfg.api.viewsets import ReadViewSet


class ProcessTemplateViewSet(ReadViewSet):
    queryset = ProcessTemplate.objects.prefetch_related("steps__parameters")
    serializer_class = ProcessTemplateOut
    filterset_fields = ["code", "status"]
    action_permissions = {
        "list": "batches.view_processtemplate",
        "retrieve": "batches.view_processtemplate",
        "history": "batches.view_processtemplate",
        "signatures": "batches.view_processtemplate",
        "approve": "batches.approve_processtemplate",
    }

    @extend_schema(request=TemplateApproveIn, responses=ProcessTemplateOut)
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        """QA approves a draft version, e-signed; the earlier approved version retires."""
        data = self.parse(TemplateApproveIn)
        template = templates.template_approve(
            actor=request.user, request=request, template=self.get_object(), **data
        )
        return self.respond(template)
