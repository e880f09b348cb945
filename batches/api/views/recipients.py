"""Recipient API: /api/v1/recipients/{subject_id}/ and their weights."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from batches import selectors
from batches.api.serializers.clinical import FollowUpEndIn, FollowUpEndOut
from batches.api.serializers.recipients import (
    ClinicianIn,
    LymphodepletionIn,
    RecipientOut,
    RecipientRegisterIn,
    RecipientUpdateIn,
    WeightIn,
)
from batches.services import clinical, recipients
from carnk_mfg.api.viewsets import ReadViewSet


class RecipientViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, ReadViewSet):
    """Recipients, looked up by their pseudonymous study subject ID."""

    serializer_class = RecipientOut
    lookup_field = "subject_id"
    filterset_fields = ["diagnosis", "dose_level"]
    search_fields = ["subject_id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "list": "batches.view_recipient",
        "retrieve": "batches.view_recipient",
        "history": "batches.view_recipient",
        "signatures": "batches.view_recipient",
        "create": "batches.add_recipient",
        "partial_update": "batches.change_recipient",
        "weights": "batches.record_weight",
        "lymphodepletion": "batches.record_lymphodepletion",
        "follow_up_end": "batches.record_follow_up",
        "clinician": "batches.change_recipient",
    }

    def get_queryset(self):
        return selectors.recipient_list()

    @extend_schema(request=RecipientRegisterIn, responses={201: RecipientOut})
    def create(self, request, *args, **kwargs):
        data = self.parse(RecipientRegisterIn)
        recipient = recipients.recipient_register(actor=request.user, **data)
        return self.respond(
            selectors.recipient_list().get(pk=recipient.pk), status.HTTP_201_CREATED
        )

    @extend_schema(request=RecipientUpdateIn, responses=RecipientOut)
    def partial_update(self, request, *args, **kwargs):
        data = self.parse(RecipientUpdateIn)
        reason = data.pop("reason")
        recipient = recipients.recipient_update(
            actor=request.user, recipient=self.get_object(), reason=reason, **data
        )
        return self.respond(selectors.recipient_list().get(pk=recipient.pk))

    @extend_schema(request=ClinicianIn, responses=RecipientOut)
    @action(detail=True, methods=["post"])
    def clinician(self, request, *args, **kwargs):
        """Hand the recipient to another treating clinician, with the reason."""
        data = self.parse(ClinicianIn)
        recipient = recipients.recipient_reassign_clinician(
            actor=request.user, recipient=self.get_object(), **data
        )
        return self.respond(selectors.recipient_list().get(pk=recipient.pk))

    @extend_schema(request=WeightIn, responses={201: RecipientOut})
    @action(detail=True, methods=["post"])
    def weights(self, request, *args, **kwargs):
        """Record a body weight with the date it was measured."""
        data = self.parse(WeightIn)
        recipient = self.get_object()
        recipients.recipient_record_weight(actor=request.user, recipient=recipient, **data)
        return self.respond(
            selectors.recipient_list().get(pk=recipient.pk), status.HTTP_201_CREATED
        )

    @extend_schema(request=LymphodepletionIn, responses={201: RecipientOut})
    @action(detail=True, methods=["post"])
    def lymphodepletion(self, request, *args, **kwargs):
        """Record a dose of the preparative regimen as given (agent, mg/m2, body surface
        area, the day); the total is computed. The recipient answers with its doses and
        whether it may be infused today."""
        data = self.parse(LymphodepletionIn)
        recipient = self.get_object()
        recipients.lymphodepletion_record(actor=request.user, recipient=recipient, **data)
        return self.respond(
            selectors.recipient_list().get(pk=recipient.pk), status.HTTP_201_CREATED
        )

    @extend_schema(request=FollowUpEndIn, responses={201: FollowUpEndOut})
    @action(detail=True, methods=["post"], url_path="follow-up-end")
    def follow_up_end(self, request, *args, **kwargs):
        """Record how and when the recipient's follow-up ended (lost to follow-up, died,
        withdrew, completed); the visits still open are closed."""
        data = self.parse(FollowUpEndIn)
        ended = clinical.follow_up_end(actor=request.user, recipient=self.get_object(), **data)
        return Response(FollowUpEndOut(ended).data, status=status.HTTP_201_CREATED)
