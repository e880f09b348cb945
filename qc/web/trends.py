"""Process trending pages: the figures of a template version with their sparklines and latest
signals, one figure's control charts with QA's signed baseline and assessments, and the CSV
of its points."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from batches.models import ProcessTemplate
from carnk_mfg.forms import ESignForm
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service, require
from qc.models import SignalAssessment, TrendAttribute, TrendSignal
from qc.presenters import trend_chart
from qc.selectors import trends as selectors
from qc.services import trends as services

SPARK_POINTS = 30


class BaselineForm(ESignForm):
    lots = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One lot number per line or separated by commas; or give the dates below.",
    )
    from_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    to_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def lot_list(self) -> list[str]:
        raw = self.cleaned_data.get("lots") or ""
        return [lot for lot in raw.replace(",", "\n").split() if lot]


class AssessmentForm(ESignForm):
    assessment = forms.ChoiceField(choices=SignalAssessment.choices, widget=forms.RadioSelect)
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    investigation_reference = forms.CharField(required=False, max_length=60)


@allowed_to("qc.view_trendattribute")
def trend_list(request):
    templates = ProcessTemplate.objects.filter(trend_attributes__isnull=False).distinct()
    chosen = request.GET.get("template")
    template = (
        templates.filter(pk=chosen).first() if chosen and chosen.isdigit() else None
    ) or templates.order_by("-id").first()
    attributes = list(selectors.trend_attribute_list().filter(template=template))
    sparks = selectors.recent_series(attributes, SPARK_POINTS)
    latest = selectors.latest_signals(attributes)
    rows = [
        {
            "attribute": a,
            "spark": trend_chart.sparkline(sparks.get(a.pk, [])),
            "latest": latest.get(a.pk),
        }
        for a in attributes
    ]
    return render(
        request,
        "qc/trends/list.html",
        {"templates": templates, "template": template, "rows": rows},
    )


@allowed_to("qc.view_trendattribute")
@require_http_methods(["GET", "POST"])
def trend_detail(request, pk):
    attribute = get_object_or_404(TrendAttribute.objects.select_related("template"), pk=pk)
    baseline_form = BaselineForm(request.POST or None, auto_id="baseline-%s")
    if request.method == "POST":
        require(request, "qc.fix_trend_baseline")
        if baseline_form.is_valid():
            data = baseline_form.cleaned_data
            fixed = call_service(
                baseline_form,
                lambda: services.trend_baseline_fix(
                    actor=request.user,
                    request=request,
                    attribute=attribute,
                    lots=baseline_form.lot_list(),
                    from_date=data["from_date"],
                    to_date=data["to_date"],
                    reason=data["reason"],
                    password=data["password"],
                ),
            )
            if fixed is not None:
                messages.success(request, f"Baseline fixed and signed: {fixed.chosen_as}.")
                return redirect("trend-detail", pk=attribute.pk)
    chart = selectors.attribute_chart(attribute)
    return render(
        request,
        "qc/trends/detail.html",
        {
            "attribute": attribute,
            "chart": chart,
            "i_chart": trend_chart.individuals_chart(chart),
            "mr_chart": trend_chart.moving_range_chart(chart),
            "signals": [s for p in reversed(chart.points) for s in chart.signals.get(p.pk, [])],
            "baseline_form": baseline_form,
            "can_fix": actor_may(request.user, "qc.fix_trend_baseline"),
            "can_assess": actor_may(request.user, "qc.assess_trend_signal"),
            "assessment_form": AssessmentForm(auto_id="assess-%s"),
        },
    )


@allowed_to("qc.assess_trend_signal")
@require_http_methods(["GET", "POST"])
def signal_assess(request, pk):
    signal = get_object_or_404(
        TrendSignal.objects.select_related("point__attribute", "point__batch"), pk=pk
    )
    form = AssessmentForm(request.POST or None, auto_id="assess-%s")
    if request.method == "POST" and form.is_valid():
        assessed = call_service(
            form,
            lambda: services.trend_signal_assess(
                actor=request.user, request=request, signal=signal, **form.cleaned_data
            ),
        )
        if assessed is not None:
            messages.success(request, "Assessment signed.")
            return redirect("trend-detail", pk=signal.point.attribute_id)
    return render(request, "qc/trends/assess.html", {"signal": signal, "form": form})


class _Echo:
    def write(self, value: str) -> str:
        return value


@allowed_to("qc.view_trendattribute")
def trend_csv(request, pk):
    """Every point of the figure, oldest first, streamed (the file grows with the batches,
    the memory does not)."""
    attribute = get_object_or_404(TrendAttribute, pk=pk)
    writer = csv.writer(_Echo())
    header = ["lot_number", "observed_at", "value", "unit", "signals"]

    def rows():
        yield writer.writerow(header)
        points = selectors.series(attribute).prefetch_related("signals")
        for point in points.iterator(chunk_size=2000):
            fired = "; ".join(s.rule for s in point.signals.all())
            yield writer.writerow(
                [
                    point.batch.lot_number,
                    point.observed_at.isoformat(),
                    repr(point.value),
                    attribute.unit,
                    fired,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    name = f"trend-{attribute.template.code}-v{attribute.template.version}-{attribute.key}"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    response["Content-Disposition"] = f'attachment; filename="{safe}.csv"'
    return response
