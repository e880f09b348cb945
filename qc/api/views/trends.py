"""Process trending API: /api/v1/trends/ (attributes with limits and capability, their points,
QA's signed baseline) and /api/v1/trend-signals/ (signals and QA's signed assessment)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action

from carnk_mfg.api.filters import TrueFalseFilter
from carnk_mfg.api.viewsets import ReadViewSet
from qc.api.serializers.trends import (
    AssessmentIn,
    BaselineIn,
    TrendAttributeDetailOut,
    TrendAttributeOut,
    TrendPointOut,
    TrendSignalOut,
)
from qc.models import TrendAttribute, TrendSignal, TrendSource
from qc.selectors import trends as selectors
from qc.services import trends as services


class TrendAttributeFilter(django_filters.FilterSet):
    source = django_filters.ChoiceFilter(choices=TrendSource.choices)
    # By the template's code (every version): a template's id is nothing a person reads.
    template = django_filters.CharFilter(field_name="template__code")

    class Meta:
        model = TrendAttribute
        fields = ["template", "source"]


class TrendAttributeViewSet(ReadViewSet):
    """The figures trended across batches; `points/` pages one attribute's points in time
    order; `baseline/` is QA's signed choice of the points the control limits rest on."""

    filterset_class = TrendAttributeFilter
    action_permissions = {
        "list": "qc.view_trendattribute",
        "retrieve": "qc.view_trendattribute",
        "history": "qc.view_trendattribute",
        "signatures": "qc.view_trendattribute",
        "points": "qc.view_trendattribute",
        "baseline": "qc.fix_trend_baseline",
    }

    def get_queryset(self):
        return selectors.trend_attribute_list()

    def get_serializer_class(self):
        return TrendAttributeOut if self.action == "list" else TrendAttributeDetailOut

    def retrieve(self, request, *args, **kwargs):
        chart = selectors.attribute_chart(self.get_object())
        attribute = chart.attribute
        attribute.baseline = chart.baseline  # type: ignore[attr-defined]
        attribute.capability = chart.capability  # type: ignore[attr-defined]
        attribute.capability_missing = chart.capability_missing  # type: ignore[attr-defined]
        return self.respond(attribute)

    @extend_schema(responses=TrendPointOut(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def points(self, request, *args, **kwargs):
        return self.page_of(selectors.series(self.get_object()), TrendPointOut)

    @extend_schema(request=BaselineIn, responses={201: TrendAttributeDetailOut})
    @action(detail=True, methods=["post"])
    def baseline(self, request, *args, **kwargs):
        data = self.parse(BaselineIn)
        services.trend_baseline_fix(
            actor=request.user, request=request, attribute=self.get_object(), **data
        )
        response = self.retrieve(request, *args, **kwargs)
        response.status_code = status.HTTP_201_CREATED
        return response


class TrendSignalFilter(django_filters.FilterSet):
    open = TrueFalseFilter(method="filter_open")

    class Meta:
        model = TrendSignal
        fields = ["open"]

    def filter_open(self, queryset, name, value):
        return queryset.filter(assessed_at__isnull=value)


class TrendSignalViewSet(ReadViewSet):
    """Run-rule signals raised on new points (`?open=true`: not yet assessed); `assess/` is
    QA's signed assessment."""

    serializer_class = TrendSignalOut
    filterset_class = TrendSignalFilter
    action_permissions = {
        "list": "qc.view_trendsignal",
        "retrieve": "qc.view_trendsignal",
        "history": "qc.view_trendsignal",
        "signatures": "qc.view_trendsignal",
        "assess": "qc.assess_trend_signal",
    }

    def get_queryset(self):
        return TrendSignal.objects.select_related(
            "point__attribute", "point__batch", "assessed_by"
        ).order_by("-raised_at", "-id")

    @extend_schema(request=AssessmentIn, responses=TrendSignalOut)
    @action(detail=True, methods=["post"])
    def assess(self, request, *args, **kwargs):
        data = self.parse(AssessmentIn)
        signal = services.trend_signal_assess(
            actor=request.user, request=request, signal=self.get_object(), **data
        )
        return self.respond(self.get_queryset().get(pk=signal.pk))
