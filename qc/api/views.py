"""QC API: /api/v1/qc-tests/ with worklist filters, and sample, result and review actions."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from carnk_mfg.api.serializers import PasswordField
from carnk_mfg.api.viewsets import ReadViewSet
from carnk_mfg.timeutil import to_utc
from qc.models import QcSpecSet, QcTest, TestState
from qc.selectors import qc_test_list
from qc.services import results
from qc.services.specs import qc_spec_set_approve


class QcTestOut(serializers.ModelSerializer):
    batch = serializers.CharField(source="batch.lot_number")
    code = serializers.CharField(source="definition.code")
    name = serializers.CharField(source="definition.name")
    specification = serializers.CharField(source="definition.spec_text")
    required_for_release = serializers.BooleanField(source="definition.required_for_release")
    # Annotated by `qc.selectors.with_overdue`; every queryset this serializer reads has it.
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = QcTest
        fields = [
            "id",
            "batch",
            "code",
            "name",
            "specification",
            "required_for_release",
            "state",
            "triggered_at",
            "sample_due_at",
            "due_at",
            "overdue",
            "sampled_at",
            "result_numeric",
            "result_text",
            "result_unit",
            "in_spec",
            "evaluation",
            "resulted_at",
            "reviewed_at",
            "retest_of",
            "overdue_flagged_at",
            "escalated_at",
        ]


class QcTestFilter(django_filters.FilterSet):
    batch = django_filters.CharFilter(field_name="batch__lot_number")
    state = django_filters.MultipleChoiceFilter(choices=TestState.choices)
    # The queryset's `overdue` annotation (qc.selectors.overdue_q): open and past due_at.
    overdue = django_filters.TypedChoiceFilter(
        field_name="overdue",
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda answer: answer == "true",
    )
    due_before = django_filters.IsoDateTimeFilter(method="filter_due_before")
    code = django_filters.CharFilter(field_name="definition__code")

    class Meta:
        model = QcTest
        fields = ["batch", "state", "overdue", "due_before", "code"]

    def filter_due_before(self, queryset, name, value):
        moment = to_utc(value)
        if moment is None:
            raise ValidationError({"due_before": ["Not a real time zone offset."]})
        return queryset.filter(due_at__lt=moment)


class SampleIn(serializers.Serializer):
    sampled_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ResultIn(serializers.Serializer):
    value = serializers.JSONField(help_text="A number, or the categorical/pass-fail answer")
    unit = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)


class ReviewIn(serializers.Serializer):
    password = PasswordField()


class RetestIn(serializers.Serializer):
    reason = serializers.CharField()


class QcTestViewSet(ReadViewSet):
    """QC tests. `?overdue=true` lists the open ones past due (flagged by the scan or not yet);
    `?due_before=` the coming ones."""

    serializer_class = QcTestOut
    filterset_class = QcTestFilter
    ordering_fields = ["due_at", "triggered_at"]
    action_permissions = {
        "list": "qc.view_qctest",
        "retrieve": "qc.view_qctest",
        "history": "qc.view_qctest",
        "signatures": "qc.view_qctest",
        "sample": "qc.record_qc_sample",
        "result": "qc.enter_qc_result",
        "review": "qc.review_qc_result",
        "retest": "qc.enter_qc_result",
    }

    def get_queryset(self):
        return qc_test_list(now=timezone.now())

    def respond(self, instance, code=status.HTTP_200_OK):
        # A service hands back the row it wrote; read it again with its `overdue` mark.
        return super().respond(self.get_queryset().get(pk=instance.pk), code)

    @extend_schema(request=SampleIn, responses=QcTestOut)
    @action(detail=True, methods=["post"])
    def sample(self, request, *args, **kwargs):
        data = self.parse(SampleIn)
        test = results.qc_sample_record(actor=request.user, test=self.get_object(), **data)
        return self.respond(test)

    @extend_schema(request=ResultIn, responses=QcTestOut)
    @action(detail=True, methods=["post"])
    def result(self, request, *args, **kwargs):
        """Enter the result; it is evaluated against the spec at once."""
        data = self.parse(ResultIn)
        test = results.qc_result_enter(actor=request.user, test=self.get_object(), **data)
        return self.respond(test)

    @extend_schema(request=ReviewIn, responses=QcTestOut)
    @action(detail=True, methods=["post"])
    def review(self, request, *args, **kwargs):
        """Second-person review, e-signed (the reviewer is not the analyst)."""
        data = self.parse(ReviewIn)
        test = results.qc_result_review(
            actor=request.user, request=request, test=self.get_object(), **data
        )
        return self.respond(test)

    @extend_schema(request=RetestIn, responses={201: QcTestOut})
    @action(detail=True, methods=["post"])
    def retest(self, request, *args, **kwargs):
        data = self.parse(RetestIn)
        test = results.qc_retest(actor=request.user, test=self.get_object(), **data)
        return self.respond(test, status.HTTP_201_CREATED)


class QcSpecSetOut(serializers.ModelSerializer):
    template = serializers.CharField(source="template.__str__")
    definitions = serializers.SerializerMethodField()

    class Meta:
        model = QcSpecSet
        fields = ["id", "name", "version", "template", "status", "approved_at", "definitions"]

    def get_definitions(self, spec_set) -> list[dict]:
        return [
            {
                "code": d.code,
                "name": d.name,
                "specification": d.spec_text,
                "trigger_step": d.trigger_step_code,
                "turnaround_hours": d.turnaround_hours,
                "required_for_release": d.required_for_release,
                "may_release_pending": d.may_release_pending,
            }
            for d in spec_set.definitions.all()
        ]


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
