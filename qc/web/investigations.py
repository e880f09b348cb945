"""A phase I OOS investigation's page: the analyst completes it, QA approves it (signed).
One service call per POST; a refusal becomes form errors."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from carnk_mfg.forms import ESignForm
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service
from qc.models import InvestigationState
from qc.selectors.investigations import oos_investigations
from qc.services import investigations


class CompleteForm(forms.Form):
    checks_done = forms.CharField(
        label="Checks done",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Calculation, instrument, reagents, sample handling, analyst and method.",
    )
    assignable_cause_found = forms.TypedChoiceField(
        label="Assignable cause found",
        choices=[("", "— choose —"), ("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
        empty_value=None,
    )
    assignable_cause = forms.CharField(
        label="Assignable cause", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    conclusion = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class ApproveForm(ESignForm):
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _page(request, pk, **bound):
    investigation = get_object_or_404(oos_investigations(), pk=pk)
    context = {
        "investigation": investigation,
        "test": investigation.test,
        "show_complete": investigation.state == InvestigationState.OPEN
        and actor_may(request.user, investigations.COMPLETE),
        "show_approve": investigation.state == InvestigationState.COMPLETED
        and actor_may(request.user, investigations.APPROVE),
        "complete_form": CompleteForm(auto_id="complete-%s"),
        "approve_form": ApproveForm(auto_id="approve-%s"),
        **bound,
    }
    return render(request, "qc/investigation.html", context)


@allowed_to("qc.view_oosinvestigation")
def investigation_detail(request, pk):
    return _page(request, pk)


@allowed_to(investigations.COMPLETE)
@require_POST
def investigation_complete(request, pk):
    investigation = get_object_or_404(oos_investigations(), pk=pk)
    form = CompleteForm(request.POST, auto_id="complete-%s")
    if form.is_valid():
        done = call_service(
            form,
            lambda: investigations.oos_investigation_complete(
                actor=request.user, investigation=investigation, **form.cleaned_data
            ),
        )
        if done is not None:
            messages.success(request, "Investigation completed; QA approves it next.")
            return redirect("qc-investigation", pk=pk)
    return _page(request, pk, complete_form=form)


@allowed_to(investigations.APPROVE)
@require_POST
def investigation_approve(request, pk):
    investigation = get_object_or_404(oos_investigations(), pk=pk)
    form = ApproveForm(request.POST, auto_id="approve-%s")
    if form.is_valid():
        done = call_service(
            form,
            lambda: investigations.oos_investigation_approve(
                actor=request.user,
                password=form.cleaned_data["password"],
                investigation=investigation,
                comment=form.cleaned_data["comment"],
                request=request,
            ),
        )
        if done is not None:
            messages.success(request, "Investigation approved and signed; a retest may follow.")
            return redirect("qc-investigation", pk=pk)
    return _page(request, pk, approve_form=form)
