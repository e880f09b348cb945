"""Batch record API: /api/v1/batches/{lot_number}/ and its sub-paths (steps, counts,
transitions, deviations, custody); the release sub-paths are mixed in from `release`."""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from batches import selectors
from batches.api.serializers.batch_record import (
    BatchCreateIn,
    BatchDetailOut,
    BatchOut,
    CountIn,
    CustodyIn,
    CustodyOut,
    DeviationClassifyIn,
    DeviationDispositionIn,
    DeviationOpenIn,
    DeviationOut,
    ExecutedStepOut,
    GrowthPointOut,
    StepIn,
    TransitionIn,
    TransitionsOut,
)
from batches.api.serializers.facility import BatchRoomIn
from batches.api.views.release import BatchReleaseActions
from batches.models import (
    Batch,
    BatchState,
    CordBloodUnit,
    Deviation,
    ProcessTemplate,
    Recipient,
    Room,
)
from batches.services import batch_record, facility, lifecycle
from carnk_mfg.api.viewsets import ReadViewSet
from carnk_mfg.roles import actor_may


class BatchFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=BatchState.choices)
    source_unit = django_filters.CharFilter(field_name="source_unit__din")
    recipient = django_filters.CharFilter(field_name="intended_recipient__subject_id")

    class Meta:
        model = Batch
        fields = ["state", "source_unit", "recipient"]


class BatchViewSet(BatchReleaseActions, mixins.CreateModelMixin, ReadViewSet):
    """Manufacturing batches, looked up by lot number."""

    lookup_field = "lot_number"
    lookup_value_regex = "[^/]+"
    filterset_class = BatchFilter
    search_fields = ["lot_number", "din", "source_unit__din"]
    ordering_fields = ["created_at", "lot_number", "state_changed_at"]
    action_permissions = {
        "list": "batches.view_batch",
        "retrieve": "batches.view_batch",
        "history": "batches.view_batch",
        "signatures": "batches.view_batch",
        "create": "batches.add_batch",
        "steps": "batches.view_batch",
        "counts": "batches.view_batch",
        "deviations": "batches.view_batch",
        "custody": "batches.view_batch",
        "transitions": "batches.view_batch",
        "deviation_disposition": "batches.disposition_deviation",
        "deviation_classify": "batches.classify_deviation",
        "formulate": "batches.formulate_doseunit",
        "record_review": "batches.view_batch",
        "release": "batches.release_batch",
        "coa": "batches.view_batch",
        "recall": "batches.view_batch",
        "room": "batches.add_batch",
    }
    # Writes on sub-paths need more than viewing; checked per method below.
    write_permissions = {
        "steps": "batches.record_step",
        "counts": "batches.record_count",
        "deviations": "batches.open_deviation",
        "custody": "batches.record_custody",
        "transitions": "batches.transition_batch",
        "recall": "batches.recall_batch",
        "record_review": "batches.release_batch",
    }

    def get_queryset(self):
        return selectors.batch_list()

    def get_serializer_class(self):
        return BatchDetailOut if self.action != "list" else BatchOut

    def get_object(self):
        if self.action == "list":
            return super().get_object()
        lot = self.kwargs["lot_number"]
        try:
            # Without its sub-lists: the answer embeds the newest of each, the sub-paths page.
            batch = selectors.batch_summary(lot)
        except Batch.DoesNotExist:
            raise Http404 from None
        self.check_object_permissions(self.request, batch)
        return batch

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method != "POST":
            return
        if self.action == "transitions":
            # The move asked for names its permission (lifecycle.TRANSITIONS); someone who
            # holds none of them is refused before the body is read.
            if not any(actor_may(request.user, p) for p in lifecycle.transition_permissions()):
                self.permission_denied(request, message="You may not move batches.")
            return
        needed = self.write_permissions.get(self.action)
        if needed and not actor_may(request.user, needed):
            self.permission_denied(request, message=f"You may not do this ({needed}).")

    def detail_response(self, batch, code=status.HTTP_200_OK):
        return Response(BatchDetailOut(selectors.batch_summary(batch.lot_number)).data, status=code)

    @extend_schema(request=BatchCreateIn, responses={201: BatchDetailOut})
    def create(self, request, *args, **kwargs):
        data = self.parse(BatchCreateIn)
        errors = {}
        unit = CordBloodUnit.objects.filter(din=data["source_unit"].strip().upper()[:13]).first()
        if unit is None:
            errors["source_unit"] = [f"No cord blood unit with DIN {data['source_unit']!r}."]
        template = ProcessTemplate.objects.filter(pk=data["template"]).first()
        if template is None:
            errors["template"] = [f"No process template {data['template']}."]
        recipient = None
        if data["intended_recipient"]:
            recipient = Recipient.objects.filter(subject_id=data["intended_recipient"]).first()
            if recipient is None:
                errors["intended_recipient"] = ["No such recipient."]
        room = None
        if data["room"]:
            room = Room.objects.filter(identifier=data["room"]).first()
            if room is None:
                errors["room"] = [f"No room {data['room']!r}."]
        if errors:
            raise ValidationError(errors)
        assert unit is not None and template is not None  # else `errors` named them
        batch = batch_record.batch_create(
            actor=request.user,
            source_unit=unit,
            template=template,
            intended_recipient=recipient,
            room=room,
            **{
                k: v
                for k, v in data.items()
                if k not in ("source_unit", "template", "intended_recipient", "room")
            },
        )
        return self.detail_response(batch, status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=ExecutedStepOut(many=True))
    @extend_schema(methods=["POST"], request=StepIn, responses={201: BatchDetailOut})
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def steps(self, request, *args, **kwargs):
        """Executed steps, in template order; POST records the next one (operator signs)."""
        batch = self.get_object()
        if request.method == "GET":
            return self.page_of(selectors.batch_steps(batch), ExecutedStepOut)
        data = self.parse(StepIn)
        template_step = batch.template.steps.filter(code=data["step"]).first()
        if template_step is None:
            raise ValidationError(
                {"step": [f"Template {batch.template} has no step {data['step']!r}."]}
            )
        deviation = data["deviation"]
        batch_record.step_record(
            actor=request.user,
            password=data["password"],
            request=request,
            batch=batch,
            template_step=template_step,
            performed_at=data["performed_at"],
            values=data["values"],
            materials=data["materials"],
            equipment=data["equipment"],
            notes=data["notes"],
            deviation=batch_record.DeviationInput(**deviation) if deviation else None,
        )
        return self.detail_response(batch, status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=GrowthPointOut(many=True))
    @extend_schema(methods=["POST"], request=CountIn, responses={201: BatchDetailOut})
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def counts(self, request, *args, **kwargs):
        batch = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.batch_counts_in_order(batch))
            points = selectors.growth_of(batch, page or [])
            return self.get_paginated_response(GrowthPointOut(points, many=True).data)
        data = self.parse(CountIn)
        batch_record.cell_count_record(actor=request.user, batch=batch, **data)
        return self.detail_response(batch, status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=TransitionsOut)
    @extend_schema(methods=["POST"], request=TransitionIn, responses=BatchDetailOut)
    @action(detail=True, methods=["get", "post"])
    def transitions(self, request, *args, **kwargs):
        """GET: the states this batch may move to. POST: move it (409 if it moved first)."""
        batch = self.get_object()
        if request.method == "GET":
            allowed = lifecycle.allowed_next_states(batch)
            return Response(TransitionsOut({"state": batch.state, "allowed": allowed}).data)
        data = self.parse(TransitionIn)
        lifecycle.batch_transition(actor=request.user, request=request, batch=batch, **data)
        return self.detail_response(batch)

    @extend_schema(methods=["GET"], responses=DeviationOut(many=True))
    @extend_schema(methods=["POST"], request=DeviationOpenIn, responses={201: DeviationOut})
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def deviations(self, request, *args, **kwargs):
        batch = self.get_object()
        if request.method == "GET":
            return self.page_of(selectors.batch_deviations(batch), DeviationOut)
        data = self.parse(DeviationOpenIn)
        deviation = batch_record.deviation_open(actor=request.user, batch=batch, **data)
        return Response(DeviationOut(deviation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DeviationDispositionIn, responses=DeviationOut)
    @action(detail=True, methods=["post"], url_path=r"deviations/(?P<deviation_id>\d+)/disposition")
    def deviation_disposition(self, request, deviation_id=None, *args, **kwargs):
        """QA's signed disposition of a deviation (accept, or reject the batch)."""
        batch = self.get_object()
        deviation = get_object_or_404(Deviation, pk=deviation_id, batch=batch)
        data = self.parse(DeviationDispositionIn)
        deviation = batch_record.deviation_disposition(
            actor=request.user, request=request, deviation=deviation, **data
        )
        return Response(DeviationOut(deviation).data)

    @extend_schema(request=DeviationClassifyIn, responses=DeviationOut)
    @action(detail=True, methods=["post"], url_path=r"deviations/(?P<deviation_id>\d+)/classify")
    def deviation_classify(self, request, deviation_id=None, *args, **kwargs):
        """QA classifies an open deviation (minor, major, critical) with its root cause."""
        batch = self.get_object()
        deviation = get_object_or_404(Deviation, pk=deviation_id, batch=batch)
        data = self.parse(DeviationClassifyIn)
        deviation = batch_record.deviation_classify(actor=request.user, deviation=deviation, **data)
        return Response(DeviationOut(deviation).data)

    @extend_schema(methods=["GET"], responses=CustodyOut(many=True))
    @extend_schema(methods=["POST"], request=CustodyIn, responses={201: CustodyOut})
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def custody(self, request, *args, **kwargs):
        """Chain of custody of the batch (and, with subject=unit, of its cord blood unit)."""
        batch = self.get_object()
        if request.method == "GET":
            return self.page_of(selectors.batch_custody(batch), CustodyOut)
        data = self.parse(CustodyIn)
        subject = data.pop("subject")
        event = batch_record.custody_record(
            actor=request.user,
            **({"unit": batch.source_unit} if subject == "unit" else {"batch": batch}),
            **data,
        )
        return Response(CustodyOut(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BatchRoomIn, responses=BatchDetailOut)
    @action(detail=True, methods=["post"])
    def room(self, request, *args, **kwargs):
        """Name the cleanroom a batch not yet started will be made in (fixed from day 0)."""
        batch = self.get_object()
        data = self.parse(BatchRoomIn)
        facility.batch_room_set(actor=request.user, batch=batch, room=data["room"])
        return self.detail_response(batch)
