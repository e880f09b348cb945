"""QC test API: /api/v1/qc-tests/ with worklist filters, and sample, result, review and
retest actions; several results reviewed under one signature."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.utils import timezone
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from carnk_mfg.api.filters import TrueFalseFilter
from carnk_mfg.api.viewsets import ReadViewSet
from carnk_mfg.timeutil import to_utc
from qc.api.serializers.results import (
    QcTestOut,
    ResultIn,
    RetestIn,
    ReviewIn,
    ReviewsIn,
    SampleIn,
)
from qc.models import QcTest, TestState
from qc.selectors import in_worklist_order, qc_test_list
from qc.services import results

# A time with a real time zone's offset (at most 14 hours from UTC), as `to_utc` takes.
REAL_OFFSET_TIME = (
    r"^[12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d"
    r":[0-5]\d(\.\d{1,6})?(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)$"
)


class RealOffsetDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        if value and not re.fullmatch(REAL_OFFSET_TIME, str(value)):
            raise forms.ValidationError(
                "Give a time with seconds and an offset of at most 14 hours, "
                "e.g. 2026-11-20T09:15:00+01:00."
            )
        return super().to_python(value)


@extend_schema_field({"type": "string", "format": "date-time", "pattern": REAL_OFFSET_TIME})
class RealOffsetDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = RealOffsetDateTimeField


class QcTestFilter(django_filters.FilterSet):
    batch = django_filters.CharFilter(field_name="batch__lot_number")
    state = django_filters.MultipleChoiceFilter(choices=TestState.choices)
    # The queryset's `overdue` annotation (qc.selectors.overdue_q): open and past due_at.
    overdue = TrueFalseFilter(field_name="overdue")
    due_before = RealOffsetDateTimeFilter(method="filter_due_before")
    code = django_filters.CharFilter(field_name="definition__code")

    class Meta:
        model = QcTest
        fields = ["batch", "state", "overdue", "due_before", "code"]

    def filter_due_before(self, queryset, name, value):
        moment = to_utc(value)
        if moment is None:
            raise ValidationError({"due_before": ["Not a real time zone offset."]})
        return queryset.filter(due_at__lt=moment)


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
        "reviews": "qc.review_qc_result",
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

    @extend_schema(request=ReviewsIn, responses=QcTestOut(many=True))
    @action(detail=False, methods=["post"])
    def reviews(self, request, *args, **kwargs):
        """Several results reviewed under one e-signature, each its own review and signature;
        if one is refused, none is recorded and the 400 names each refused result."""
        data = self.parse(ReviewsIn)
        tests = list(self.get_queryset().filter(pk__in=data["tests"]))
        missing = sorted(set(data["tests"]) - {test.pk for test in tests})
        if missing:
            raise ValidationError({"tests": [f"No QC test {pk}." for pk in missing]})
        done = results.qc_results_review(
            actor=request.user, request=request, tests=tests, password=data["password"]
        )
        reviewed = in_worklist_order(self.get_queryset().filter(pk__in=[t.pk for t in done]))
        return Response(QcTestOut(reviewed, many=True).data)

    @extend_schema(request=RetestIn, responses={201: QcTestOut})
    @action(detail=True, methods=["post"])
    def retest(self, request, *args, **kwargs):
        data = self.parse(RetestIn)
        test = results.qc_retest(actor=request.user, test=self.get_object(), **data)
        return self.respond(test, status.HTTP_201_CREATED)
