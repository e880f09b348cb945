"""Clinical pages after infusion: the follow-up worklist (due and overdue visits, flagged by
the same scan as QC), and an infusion's page with adverse events and the safety switch."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from batches.models import AdverseEvent, AdverseEventKind, FollowUpVisit, SafetySwitchActivation
from batches.models.clinical import TumourResponse
from batches.presenters.clinical import infusion_records, infusions_for_page, visits_due
from batches.services import clinical
from carnk_mfg.fields import validators_of
from carnk_mfg.forms import datetime_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service, require

# --- forms ---


class FollowUpForm(forms.Form):
    visit_id = forms.IntegerField(widget=forms.HiddenInput)
    done_at = datetime_field("Seen at")
    response = forms.ChoiceField(
        label="Response", required=False, choices=[("", "—"), *TumourResponse.choices]
    )
    car_nk_copies_per_ug = forms.FloatField(
        label="CAR-NK persistence (qPCR copies/ug DNA)",
        required=False,
        validators=validators_of(FollowUpVisit, "car_nk_copies_per_ug"),
    )
    donor_specific_antibodies = forms.ChoiceField(
        label="Donor-specific antibodies",
        required=False,
        choices=[("", "not tested"), ("negative", "negative"), ("positive", "positive")],
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AdverseEventForm(forms.Form):
    kind = forms.ChoiceField(choices=AdverseEventKind.choices)
    grade = forms.IntegerField(
        validators=validators_of(AdverseEvent, "grade"), help_text="ASTCT consensus grade"
    )
    ice_score = forms.IntegerField(
        label="ICE score",
        required=False,
        validators=validators_of(AdverseEvent, "ice_score"),
        help_text="ICANS only",
    )
    onset_at = datetime_field("Onset")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class SafetySwitchForm(forms.Form):
    given_at = datetime_field("AP1903 given at")
    dose_mg_per_kg = forms.DecimalField(
        label="Dose (mg/kg)",
        max_digits=5,
        decimal_places=3,
        validators=validators_of(SafetySwitchActivation, "dose_mg_per_kg"),
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


# --- views ---


@allowed_to("batches.view_followupvisit")
@require_http_methods(["GET", "POST"])
def follow_up_worklist(request):
    now = timezone.now()
    form = None
    if request.method == "POST":
        require(request, "batches.record_follow_up")
        form = FollowUpForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            visit = get_object_or_404(FollowUpVisit, pk=data.pop("visit_id"))
            data["donor_specific_antibodies"] = data["donor_specific_antibodies"] or ""
            done = call_service(
                form,
                lambda: clinical.follow_up_record(actor=request.user, visit=visit, **data),
            )
            if done is not None:
                messages.success(request, f"{visit} recorded.")
                return redirect("follow-up-worklist")
    return render(
        request,
        "clinical/worklist.html",
        {
            **visits_due(now=now),
            "form": form,
            "can_record": actor_may(request.user, "batches.record_follow_up"),
            "now": now,
        },
    )


@allowed_to("batches.view_infusion")
@require_http_methods(["GET", "POST"])
def infusion_detail(request, pk):
    infusion = get_object_or_404(infusions_for_page(), pk=pk)
    ae_form = AdverseEventForm(request.POST if request.POST.get("form") == "ae" else None)
    switch_form = SafetySwitchForm(request.POST if request.POST.get("form") == "switch" else None)
    if request.method == "POST":
        if request.POST.get("form") == "ae":
            require(request, "batches.report_adverse_event")
            if ae_form.is_valid():
                reported = call_service(
                    ae_form,
                    lambda: clinical.adverse_event_report(
                        actor=request.user, infusion=infusion, **ae_form.cleaned_data
                    ),
                )
                if reported:
                    messages.success(request, "Adverse event reported.")
                    return redirect("infusion-detail", pk=infusion.pk)
        elif request.POST.get("form") == "switch":
            require(request, "batches.add_safetyswitchactivation")
            if switch_form.is_valid():
                recorded = call_service(
                    switch_form,
                    lambda: clinical.safety_switch_record(
                        actor=request.user, infusion=infusion, **switch_form.cleaned_data
                    ),
                )
                if recorded:
                    messages.success(request, "Safety switch activation recorded.")
                    return redirect("infusion-detail", pk=infusion.pk)
    return render(
        request,
        "clinical/infusion.html",
        {
            "infusion": infusion,
            **infusion_records(infusion),
            "ae_form": ae_form,
            "switch_form": switch_form,
            "can_report": actor_may(request.user, "batches.report_adverse_event"),
            "can_switch": actor_may(request.user, "batches.add_safetyswitchactivation"),
        },
    )
