"""Environmental monitoring pages under /qc/em/: the rooms with their points and the plates
awaiting reading, registering a room or a point, taking a plate, reading it (an action-level
result lists the batches whose deviation it opened), and one point's trend chart."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from batches.models import CleanroomGrade, Room
from batches.services import facility
from carnk_mfg.forms import datetime_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service
from qc.models import EmSampleType, SamplingPoint
from qc.models.environment import CFU
from qc.presenters.em_chart import em_point_chart
from qc.selectors import environment as selectors
from qc.services import environment


class RoomForm(forms.Form):
    identifier = forms.CharField(label="Identifier", max_length=40)
    name = forms.CharField(label="Name", max_length=120)
    grade = forms.ChoiceField(label="Grade", choices=CleanroomGrade.choices)


class SamplingPointForm(forms.Form):
    room = forms.ModelChoiceField(label="Room", queryset=Room.objects.order_by("identifier"))
    code = forms.CharField(label="Code", max_length=40)
    description = forms.CharField(label="Description", max_length=200)


class EmSampleForm(forms.Form):
    sampling_point = forms.ModelChoiceField(
        label="Sampling point", queryset=selectors.sampling_points()
    )
    sample_type = forms.ChoiceField(label="Sample", choices=EmSampleType.choices)
    sampling_started_at = datetime_field("Sampling started")
    sampling_ended_at = datetime_field("Sampling ended")
    person_sampled = forms.ModelChoiceField(
        label="Whose gloves (glove print)",
        required=False,
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class EmResultForm(forms.Form):
    cfu = forms.IntegerField(label="Colonies counted (CFU)", validators=CFU.validators())


@allowed_to("qc.view_emsample")
def em_overview(request):
    return render(
        request,
        "qc/em/overview.html",
        {
            "rooms": selectors.rooms_with_points(),
            "awaiting": selectors.samples_awaiting_reading(),
            "recent": selectors.em_samples()
            .filter(read_at__isnull=False)
            .order_by("-read_at")[:20],
            "limits": selectors.em_limits(),
            "may": {
                "room": actor_may(request.user, facility.MANAGE),
                "point": actor_may(request.user, environment.MANAGE),
                "sample": actor_may(request.user, environment.SAMPLE),
            },
        },
    )


def _form_page(request, form, title, call, done):
    """A one-form page: on a valid POST call the service, and go to `done(record)`."""
    if request.method == "POST" and form.is_valid():
        record = call_service(form, lambda: call(form.cleaned_data))
        if record is not None:
            messages.success(request, f"Recorded: {record}.")
            return redirect(done(record))
    return render(request, "qc/em/form.html", {"form": form, "title": title})


@allowed_to(facility.MANAGE)
@require_http_methods(["GET", "POST"])
def room_new(request):
    form = RoomForm(request.POST or None)
    return _form_page(
        request,
        form,
        "Register a cleanroom",
        lambda data: facility.room_create(actor=request.user, **data),
        lambda room: "em-overview",
    )


@allowed_to(environment.MANAGE)
@require_http_methods(["GET", "POST"])
def point_new(request):
    form = SamplingPointForm(request.POST or None)
    return _form_page(
        request,
        form,
        "Set up a sampling point",
        lambda data: environment.sampling_point_create(actor=request.user, **data),
        lambda point: point.get_absolute_url(),
    )


@allowed_to(environment.SAMPLE)
@require_http_methods(["GET", "POST"])
def sample_new(request):
    form = EmSampleForm(request.POST or None, initial={"sampling_point": request.GET.get("point")})
    return _form_page(
        request,
        form,
        "Record an environmental monitoring sample",
        lambda data: environment.em_sample_record(actor=request.user, **data),
        lambda sample: sample.get_absolute_url(),
    )


@allowed_to("qc.view_emsample")
@require_http_methods(["GET", "POST"])
def sample_detail(request, pk):
    """A plate, and (unread, to QC) the form to read it."""
    sample = get_object_or_404(selectors.em_samples(), pk=pk)
    may_read = sample.read_at is None and actor_may(request.user, environment.READ)
    form = EmResultForm(request.POST if request.method == "POST" and may_read else None)
    if form.is_bound and form.is_valid():
        read = call_service(
            form,
            lambda: environment.em_result_read(
                actor=request.user, sample=sample, cfu=form.cleaned_data["cfu"]
            ),
        )
        if read is not None:
            messages.success(request, f"Read: {read.cfu} CFU, {read.get_level_display().lower()}.")
            return redirect(read.get_absolute_url())
    return render(
        request, "qc/em/sample.html", {"sample": sample, "form": form if may_read else None}
    )


@allowed_to("qc.view_samplingpoint")
def point_detail(request, pk):
    """One point's results in time order, on a chart with its alert and action limits."""
    point = get_object_or_404(SamplingPoint.objects.select_related("room"), pk=pk)
    results = selectors.point_results(point)
    return render(
        request,
        "qc/em/point.html",
        {
            "point": point,
            "chart": em_point_chart(results),
            "results": list(reversed(results)),
            "awaiting": selectors.samples_awaiting_reading().filter(sampling_point=point),
            "may_sample": actor_may(request.user, environment.SAMPLE),
        },
    )
