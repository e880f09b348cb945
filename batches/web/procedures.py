"""QA issues the training matrix from the web: a procedure, its next version, and the
template steps that ask for it (to perform or to review)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from batches.models import Procedure, QualificationPurpose, TemplateStep
from batches.selectors.training import step_qualifications
from batches.services import training
from carnk_mfg.forms import date_field, text_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import call_service, require, url_text


class ProcedureForm(forms.Form):
    code = text_field("Code", 40, help_text="e.g. SOP-MFG-020")
    title = text_field("Title", 200)
    training_valid_days = forms.IntegerField(
        label="Training valid for (days)",
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Empty: the site's default.",
    )
    required_for_release = forms.BooleanField(
        label="Required to sign a release decision", required=False
    )


class VersionForm(forms.Form):
    effective_on = date_field("Effective on")
    document_reference = text_field("Document reference", 200)


class QualificationForm(forms.Form):
    template_step = forms.ModelChoiceField(
        label="Template step",
        queryset=TemplateStep.objects.select_related("template").order_by(
            "template__code", "template__version", "order"
        ),
    )
    purpose = forms.ChoiceField(label="To", choices=QualificationPurpose.choices)


@login_required
@require_http_methods(["GET", "POST"])
def procedure_new(request):
    require(request, training.ISSUE)
    form = ProcedureForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        procedure = call_service(
            form, lambda: training.procedure_create(actor=request.user, **form.cleaned_data)
        )
        if procedure is not None:
            messages.success(request, f"Procedure {procedure.code} issued; issue its version 1.")
            return redirect("procedure-detail", code=procedure.code)
    return render(request, "training/procedure_new.html", {"form": form})


def _detail(request, procedure, *, version_form=None, qualification_form=None, status=200):
    return render(
        request,
        "training/procedure.html",
        {
            "procedure": procedure,
            "versions": procedure.versions.order_by("-version"),
            "qualifications": step_qualifications(procedure),
            "may_issue": actor_may(request.user, training.ISSUE),
            "version_form": version_form or VersionForm(auto_id="version-%s"),
            "qualification_form": qualification_form
            or QualificationForm(auto_id="qualification-%s"),
        },
        status=status,
    )


def _procedure_or_404(code: str) -> Procedure:
    return get_object_or_404(Procedure, code=url_text(code))


@login_required
def procedure_detail(request, code):
    require(request, "batches.view_procedure")
    return _detail(request, _procedure_or_404(code))


def _issue(request, code, form_class, prefix, call, done):
    """One of QA's issuing forms on a procedure's page: done, back to the page; refused, the
    page again with the form's errors."""
    require(request, training.ISSUE)
    procedure = _procedure_or_404(code)
    form = form_class(request.POST, auto_id=f"{prefix}-%s")
    if form.is_valid():
        result = call_service(form, lambda: call(procedure, form.cleaned_data))
        if result is not None:
            messages.success(request, done(result))
            return redirect("procedure-detail", code=procedure.code)
    return _detail(request, procedure, **{f"{prefix}_form": form})


@login_required
@require_POST
def procedure_version_issue(request, code):
    return _issue(
        request,
        code,
        VersionForm,
        "version",
        lambda procedure, data: training.procedure_version_issue(
            actor=request.user, procedure=procedure, **data
        ),
        lambda version: f"{version} issued, effective {version.effective_on}.",
    )


@login_required
@require_POST
def procedure_qualification_add(request, code):
    return _issue(
        request,
        code,
        QualificationForm,
        "qualification",
        lambda procedure, data: training.step_qualification_require(
            actor=request.user, procedure=procedure, **data
        ),
        lambda done: f"Now required: {done}.",
    )
