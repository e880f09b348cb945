"""Clinical API after the infusion: adverse events and follow-up visits."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from batches import selectors
from batches.api.serializers.clinical import (
    AdverseEventIn,
    AdverseEventOut,
    FollowUpIn,
    FollowUpOut,
)
from batches.models import AdverseEvent, FollowUpVisit, Infusion
from batches.services import clinical
from carnk_mfg.api.viewsets import ReadViewSet


class AdverseEventViewSet(ReadViewSet):
    serializer_class = AdverseEventOut
    queryset = AdverseEvent.objects.select_related("recipient")
    filterset_fields = ["kind", "recipient__subject_id"]
    action_permissions = {
        "list": "batches.view_adverseevent",
        "retrieve": "batches.view_adverseevent",
        "history": "batches.view_adverseevent",
        "signatures": "batches.view_adverseevent",
        "create": "batches.report_adverse_event",
    }

    @extend_schema(request=AdverseEventIn, responses={201: AdverseEventOut})
    def create(self, request, *args, **kwargs):
        """Report an adverse event (ASTCT consensus grades; ICANS with the ICE score)."""
        data = self.parse(AdverseEventIn)
        infusion = get_object_or_404(Infusion, pk=data.pop("infusion"))
        event = clinical.adverse_event_report(actor=request.user, infusion=infusion, **data)
        return self.respond(event, status.HTTP_201_CREATED)


class FollowUpViewSet(ReadViewSet):
    """Follow-up visits; `?overdue=true` lists the open ones past due (as the clinical
    worklist does), `?overdue=false` the rest."""

    serializer_class = FollowUpOut
    filterset_fields = ["recipient__subject_id"]
    action_permissions = {
        "list": "batches.view_followupvisit",
        "retrieve": "batches.view_followupvisit",
        "history": "batches.view_followupvisit",
        "signatures": "batches.view_followupvisit",
        "record": "batches.record_follow_up",
    }

    def get_queryset(self):
        visits = FollowUpVisit.objects.select_related("recipient")
        overdue = self.request.query_params.get("overdue")
        if overdue in ("true", "false"):
            past_due = selectors.visit_overdue_q(now=timezone.now())
            visits = visits.filter(past_due) if overdue == "true" else visits.exclude(past_due)
        elif overdue is not None:
            raise ValidationError({"overdue": ["true or false."]})
        return visits

    @extend_schema(request=FollowUpIn, responses=FollowUpOut)
    @action(detail=True, methods=["post"])
    def record(self, request, *args, **kwargs):
        data = self.parse(FollowUpIn)
        visit = clinical.follow_up_record(actor=request.user, visit=self.get_object(), **data)
        return self.respond(visit)
