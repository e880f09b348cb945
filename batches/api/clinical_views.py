"""Clinical API: bedside checks, infusions, adverse events, follow-up visits."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from batches import selectors
from batches.models import (
    AdverseEvent,
    BedsideCheck,
    FollowUpVisit,
    Infusion,
    SafetySwitchActivation,
)
from batches.services import bedside, clinical
from carnk_mfg.api.serializers import PasswordField
from carnk_mfg.api.viewsets import ReadViewSet
from carnk_mfg.fields import validators_of


class BedsideCheckOut(serializers.ModelSerializer):
    class Meta:
        model = BedsideCheck
        fields = [
            "id",
            "scanned_bag",
            "scanned_product_code",
            "scanned_wristband",
            "dose_unit",
            "outcome",
            "reasons",
            "checked_at",
        ]


class BedsideCheckIn(serializers.Serializer):
    scanned_bag = serializers.CharField(max_length=60)
    scanned_product_code = serializers.CharField(max_length=20, allow_blank=True)
    scanned_wristband = serializers.CharField(max_length=60)


class BedsideCheckViewSet(ReadViewSet):
    """Scan the bag and the wristband: a mismatch answers `blocked` with reasons, and is kept."""

    serializer_class = BedsideCheckOut
    queryset = BedsideCheck.objects.all()
    action_permissions = {
        "list": "batches.view_bedsidecheck",
        "retrieve": "batches.view_bedsidecheck",
        "history": "batches.view_bedsidecheck",
        "signatures": "batches.view_bedsidecheck",
        "create": "batches.verify_at_bedside",
    }

    @extend_schema(request=BedsideCheckIn, responses={201: BedsideCheckOut})
    def create(self, request, *args, **kwargs):
        data = self.parse(BedsideCheckIn)
        check = bedside.bedside_verify(actor=request.user, **data)
        return self.respond(check, status.HTTP_201_CREATED)


class InfusionOut(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient.subject_id")

    class Meta:
        model = Infusion
        fields = [
            "id",
            "dose_unit",
            "recipient",
            "bedside_check",
            "started_at",
            "ended_at",
            "volume_ml",
            "vitals",
            "notes",
        ]


class InfusionIn(serializers.Serializer):
    bedside_check = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    volume_ml = serializers.DecimalField(
        max_digits=7, decimal_places=2, validators=validators_of(Infusion, "volume_ml")
    )
    vitals = serializers.DictField(required=False, default=dict)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    password = PasswordField()


class SafetySwitchIn(serializers.Serializer):
    given_at = serializers.DateTimeField()
    dose_mg_per_kg = serializers.DecimalField(
        max_digits=5,
        decimal_places=3,
        validators=validators_of(SafetySwitchActivation, "dose_mg_per_kg"),
    )
    reason = serializers.CharField()


class InfusionViewSet(ReadViewSet):
    serializer_class = InfusionOut
    queryset = Infusion.objects.select_related("recipient")
    action_permissions = {
        "list": "batches.view_infusion",
        "retrieve": "batches.view_infusion",
        "history": "batches.view_infusion",
        "signatures": "batches.view_infusion",
        "create": "batches.record_infusion",
        "safety_switch": "batches.add_safetyswitchactivation",
    }

    @extend_schema(request=InfusionIn, responses={201: InfusionOut})
    def create(self, request, *args, **kwargs):
        """Record the infusion after a passing bedside check (signed by the nurse)."""
        data = self.parse(InfusionIn)
        check = get_object_or_404(BedsideCheck, pk=data.pop("bedside_check"))
        infusion = bedside.infusion_record(actor=request.user, request=request, check=check, **data)
        return self.respond(infusion, status.HTTP_201_CREATED)

    @extend_schema(request=SafetySwitchIn, responses={201: dict})
    @action(detail=True, methods=["post"], url_path="safety-switch")
    def safety_switch(self, request, *args, **kwargs):
        """AP1903 (rimiducid) given to activate the iC9 safety switch."""
        data = self.parse(SafetySwitchIn)
        record = clinical.safety_switch_record(
            actor=request.user, infusion=self.get_object(), **data
        )
        return Response(
            {"id": record.pk, "given_at": record.given_at}, status=status.HTTP_201_CREATED
        )


class AdverseEventOut(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient.subject_id")

    class Meta:
        model = AdverseEvent
        fields = [
            "id",
            "recipient",
            "infusion",
            "kind",
            "grade",
            "ice_score",
            "onset_at",
            "description",
            "resolved_at",
            "reported_at",
        ]


class AdverseEventIn(serializers.Serializer):
    infusion = serializers.IntegerField()
    kind = serializers.ChoiceField(["crs", "icans", "gvhd", "other"])
    grade = serializers.IntegerField(validators=validators_of(AdverseEvent, "grade"))
    ice_score = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        validators=validators_of(AdverseEvent, "ice_score"),
    )
    onset_at = serializers.DateTimeField()
    description = serializers.CharField()


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


class FollowUpOut(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient.subject_id")

    class Meta:
        model = FollowUpVisit
        fields = [
            "id",
            "recipient",
            "infusion",
            "visit",
            "day",
            "due_at",
            "done_at",
            "response",
            "car_nk_copies_per_ug",
            "donor_specific_antibodies",
            "overdue_flagged_at",
        ]


class FollowUpIn(serializers.Serializer):
    done_at = serializers.DateTimeField()
    response = serializers.ChoiceField(["", "CR", "PR", "SD", "PD"], required=False, default="")
    car_nk_copies_per_ug = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        validators=validators_of(FollowUpVisit, "car_nk_copies_per_ug"),
    )
    donor_specific_antibodies = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")


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
