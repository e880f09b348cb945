"""Clinical pages after infusion: the follow-up worklist (due and overdue visits, flagged by
the same scan as QC), and an infusion's page: its completion while in progress, adverse
events and the safety switch."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Field
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_http_methods

from batches.models import (
    AdverseEvent,
    AdverseEventKind,
    FollowUpVisit,
    Recipient,
    SafetySwitchActivation,
)
from batches.models.clinical import FollowUpOutcome, RecipientRcrResult, TumourResponse
from batches.presenters.clinical import infusion_records, infusions_for_page, visits_due
from batches.services import bedside, clinical
from batches.web.bedside import completion_form
from carnk_mfg.fields import validators_of
from carnk_mfg.forms import datetime_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service, require, signature_rows, url_text

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
    rcr_result = forms.ChoiceField(
        label="RCR sample", required=False, choices=[("", "—"), *RecipientRcrResult.choices]
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FollowUpEndForm(forms.Form):
    outcome = forms.ChoiceField(label="Follow-up ended", choices=FollowUpOutcome.choices)
    ended_on = forms.DateField(label="On", widget=forms.DateInput(attrs={"type": "date"}))
    detail = forms.CharField(
        label="What happened",
        help_text="The cause of death, the attempts to reach the recipient...",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _event_field(name: str) -> Field:
    found = AdverseEvent._meta.get_field(name)
    assert isinstance(found, Field)
    return found


def _label(name: str) -> str:
    return capfirst(str(_event_field(name).verbose_name))


def _finding_field(name: str) -> forms.ChoiceField:
    """An ASTCT finding as a choice, labelled and offered as the model field is."""
    return forms.ChoiceField(
        label=_label(name), required=False, choices=[("", "—"), *(_event_field(name).choices or [])]
    )


class AdverseEventForm(forms.Form):
    kind = forms.ChoiceField(label="Event", choices=AdverseEventKind.choices)
    grade = forms.IntegerField(
        label="Grade",
        validators=validators_of(AdverseEvent, "grade"),
        help_text="ASTCT consensus grade",
    )
    onset_at = datetime_field("Onset")
    description = forms.CharField(label="Description", widget=forms.Textarea(attrs={"rows": 2}))
    crs_temperature_c = forms.DecimalField(
        label=_label("crs_temperature_c"),
        required=False,
        max_digits=3,
        decimal_places=1,
        validators=validators_of(AdverseEvent, "crs_temperature_c"),
        help_text="Fever is 38.0 °C or more",
    )
    crs_fever_masked = forms.BooleanField(label=_label("crs_fever_masked"), required=False)
    crs_hypotension = _finding_field("crs_hypotension")
    crs_hypoxia = _finding_field("crs_hypoxia")
    ice_score = forms.IntegerField(
        label="ICE score",
        required=False,
        validators=validators_of(AdverseEvent, "ice_score"),
        help_text="0 to 10",
    )
    ice_unarousable = forms.BooleanField(label=_label("ice_unarousable"), required=False)
    icans_consciousness = _finding_field("icans_consciousness")
    icans_seizure = _finding_field("icans_seizure")
    icans_motor = _finding_field("icans_motor")
    icans_raised_icp = _finding_field("icans_raised_icp")
    grade_difference_reason = forms.CharField(
        label=_label("grade_difference_reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when the grade entered differs from the grade the findings give",
    )

    def event_fields(self):
        return [self[name] for name in ("kind", "grade", "onset_at", "description")]

    def crs_fields(self):
        return [self[name] for name in clinical.CRS_FINDINGS]

    def icans_fields(self):
        return [self["ice_score"], *(self[name] for name in clinical.ICANS_FINDINGS)]


class SafetySwitchForm(forms.Form):
    given_at = datetime_field("AP1903 given at")
    dose_mg_per_kg = forms.DecimalField(
        label="Dose (mg/kg)",
        max_digits=5,
        decimal_places=3,
        validators=validators_of(SafetySwitchActivation, "dose_mg_per_kg"),
    )
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


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
            "rcr_results": RecipientRcrResult.choices,
            "now": now,
        },
    )


@allowed_to("batches.record_follow_up")
@require_http_methods(["POST"])
def follow_up_end(request, subject_id):
    """Record how the recipient's follow-up ended; a refused form is shown again on its own
    page with its errors."""
    recipient = get_object_or_404(Recipient, subject_id=url_text(subject_id))
    form = FollowUpEndForm(request.POST, auto_id="end-%s")
    if form.is_valid():
        ended = call_service(
            form,
            lambda: clinical.follow_up_end(
                actor=request.user, recipient=recipient, **form.cleaned_data
            ),
        )
        if ended is not None:
            messages.success(request, f"{ended} recorded; the open visits are closed.")
            return redirect(
                reverse("recipient-detail", args=[recipient.subject_id]) + "#follow-ups"
            )
    return render(request, "clinical/follow_up_end.html", {"recipient": recipient, "form": form})


def _infusion_actions(request, infusion) -> dict:
    """The forms of an infusion's page by name: (permission, form class, the service call,
    the message when it is done). The posted `form` field names the one submitted."""
    user = request.user
    return {
        "complete": (
            "batches.record_infusion",
            lambda data: completion_form(infusion, data),
            lambda form: bedside.infusion_complete(
                actor=user, request=request, infusion=infusion, **form.service_arguments()
            ),
            "Infusion completed (signed).",
        ),
        "ae": (
            "batches.report_adverse_event",
            lambda data: AdverseEventForm(data, auto_id="ae-%s"),
            lambda form: clinical.adverse_event_report(
                actor=user, infusion=infusion, **form.cleaned_data
            ),
            "Adverse event reported.",
        ),
        "switch": (
            "batches.add_safetyswitchactivation",
            lambda data: SafetySwitchForm(data, auto_id="switch-%s"),
            lambda form: clinical.safety_switch_record(
                actor=user, infusion=infusion, **form.cleaned_data
            ),
            "Safety switch activation recorded.",
        ),
    }


@allowed_to("batches.view_infusion")
@require_http_methods(["GET", "POST"])
def infusion_detail(request, pk):
    """GET shows the infusion with what followed it; POST completes it, reports an adverse
    event or records the safety switch (the posted `form` says which)."""
    infusion = get_object_or_404(infusions_for_page(), pk=pk)
    actions = _infusion_actions(request, infusion)
    posted = request.POST.get("form") if request.method == "POST" else None
    if request.method == "POST" and posted not in actions:
        return HttpResponseBadRequest("Unknown form.")
    forms_ = {
        name: make(request.POST if name == posted else None)
        for name, (_p, make, _c, _m) in actions.items()
    }
    if posted is not None:
        permission, _make, call, done = actions[posted]
        require(request, permission)
        form = forms_[posted]
        aliases = {"infusion": "__all__", "vitals": "__all__"}
        if form.is_valid() and call_service(form, lambda: call(form), aliases=aliases):
            messages.success(request, done)
            return redirect("infusion-detail", pk=infusion.pk)
    may = {name: actor_may(request.user, permission) for name, (permission, *_r) in actions.items()}
    return render(
        request,
        "clinical/infusion.html",
        {
            "infusion": infusion,
            **infusion_records(infusion),
            "signatures": signature_rows(infusion),
            "complete_form": forms_["complete"] if infusion.in_progress else None,
            "ae_form": forms_["ae"],
            "switch_form": forms_["switch"],
            "can_complete": may["complete"] and infusion.in_progress,
            "can_report": may["ae"],
            "can_switch": may["switch"],
        },
    )
