"""Training pages: the procedures and who is current on each, a person's training and what
they are not current on (with QA's form to name their supervisor), and QA's signed form to
record a training."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from batches.models import Assessment, Procedure, ProcedureVersion
from batches.selectors.training import (
    procedure_roster,
    supervisor_of,
    training_gaps,
    training_records,
    versions_in_effect,
)
from batches.services import training
from carnk_mfg.forms import ESignForm, date_field, reason_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import call_service, require


class TrainingRecordForm(ESignForm):
    procedure_version = forms.ModelChoiceField(
        label="Procedure version", queryset=ProcedureVersion.objects.select_related("procedure")
    )
    trainee = forms.ModelChoiceField(
        label="Trainee", queryset=get_user_model().objects.filter(is_active=True)
    )
    trained_by = forms.ModelChoiceField(
        label="Trained by", queryset=get_user_model().objects.filter(is_active=True)
    )
    trained_on = date_field("Trained on")
    assessment = forms.ChoiceField(
        label="Assessment", choices=Assessment.choices, widget=forms.RadioSelect
    )
    expires_on = date_field(
        "Expires on", required=False, help_text="Empty: the procedure's training period."
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    field_order = [
        "procedure_version",
        "trainee",
        "trained_by",
        "trained_on",
        "assessment",
        "expires_on",
        "notes",
        "password",
    ]


@login_required
def training_overview(request):
    """Every procedure, the version in effect, and who is current on it."""
    require(request, "batches.view_procedure")
    today = timezone.localdate()
    procedures = list(Procedure.objects.all())
    in_effect = versions_in_effect(procedures, on=today)
    rows = [
        {
            "procedure": p,
            "version": in_effect.get(p.pk),
            "roster": procedure_roster(p, on=today),
        }
        for p in procedures
    ]
    return render(
        request,
        "training/overview.html",
        {
            "rows": rows,
            "may_record": actor_may(request.user, training.RECORD),
            "may_issue": actor_may(request.user, training.ISSUE),
        },
    )


class SupervisorForm(forms.Form):
    supervisor = forms.ModelChoiceField(
        label="Supervisor",
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
        help_text="Told with them when a training of theirs is about to expire.",
        error_messages={"invalid_choice": "No active person with that user name."},
    )
    reason = reason_field()


@login_required
@require_http_methods(["GET", "POST"])
def person_training(request, username):
    """A person's training records, the procedures they are not current on today, and who
    supervises them; QA names (or changes) the supervisor here."""
    require(request, "batches.view_trainingrecord")
    person = get_object_or_404(get_user_model(), username=username)
    may_set_supervisor = actor_may(request.user, training.RECORD)
    form = SupervisorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        require(request, training.RECORD)
        if form.is_valid():
            supervision = call_service(
                form,
                lambda: training.supervisor_set(
                    actor=request.user, person=person, **form.cleaned_data
                ),
            )
            if supervision is not None:
                messages.success(request, f"Supervisor named: {supervision.supervisor}.")
                return redirect("person-training", username=person.username)
    gaps = training_gaps(person, Procedure.objects.all(), on=timezone.localdate())
    return render(
        request,
        "training/person.html",
        {
            "person": person,
            "records": training_records(trainee=person),
            "gaps": gaps,
            "supervisor": supervisor_of(person),
            "supervisor_form": form if may_set_supervisor else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def training_record(request):
    """QA records a person's training, signed."""
    require(request, "batches.record_training")
    form = TrainingRecordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        record = call_service(
            form,
            lambda: training.training_record_create(
                actor=request.user, request=request, **form.cleaned_data
            ),
        )
        if record is not None:
            messages.success(request, f"Training recorded: {record}.")
            return redirect("person-training", username=record.trainee.username)
    return render(request, "training/record.html", {"form": form})
