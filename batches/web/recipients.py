"""Recipient pages: the list with current weights, registration with a first weight, and a
recipient's page (weights, lymphodepletion, the bags assigned with their dose, infusions,
adverse events and follow-up visits) where a body weight or a lymphodepletion dose is
recorded and the treating clinician changed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from batches import selectors
from batches.hla import hla_help
from batches.models import (
    Diagnosis,
    DoseLevel,
    LymphodepletionAgent,
    LymphodepletionDose,
    Recipient,
    WeightMeasurement,
)
from batches.models.donor import KirLigandGroup
from batches.models.recipients import not_in_the_future
from batches.presenters.recipients import (
    recipient_care,
    recipient_lymphodepletion,
    recipient_rows,
    recipient_weights,
)
from batches.services import recipients
from batches.web.clinical import FollowUpEndForm
from carnk_mfg.audit import references_trail
from carnk_mfg.fields import validators_of
from carnk_mfg.forms import date_field, reason_field, text_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service, history_rows, require, url_text

RECIPIENTS_PER_PAGE = 50

# --- forms ---


class ClinicianField(forms.ModelChoiceField):
    """One of the active clinical staff, shown by name."""

    def __init__(self, **kwargs):
        super().__init__(queryset=selectors.clinical_staff(), **kwargs)
        self.error_messages["invalid_choice"] = "Choose one of the clinical staff."

    def label_from_instance(self, obj):
        return f"{obj.get_full_name() or obj.get_username()} ({obj.get_username()})"


class RecipientRegisterForm(forms.Form):
    subject_id = text_field("Study subject ID", 40, help_text="Pseudonymous; no names.")
    diagnosis = forms.ChoiceField(label="Diagnosis", choices=Diagnosis.choices)
    diagnosis_detail = text_field("Diagnosis detail", 200, required=False)
    hla_a = text_field("HLA-A", 40, required=False, help_text=hla_help("A"))
    hla_b = text_field("HLA-B", 40, required=False, help_text=hla_help("B"))
    hla_c = text_field("HLA-C", 40, required=False, help_text=hla_help("C"))
    hla_drb1 = text_field("HLA-DRB1", 40, required=False, help_text=hla_help("DRB1"))
    kir_ligand_group = forms.ChoiceField(
        label="KIR-ligand group (stated)",
        choices=[("", "— from the HLA-C typing —"), *KirLigandGroup.choices],
        required=False,
        help_text="Only when the HLA-C alleles are not in the C1/C2 table.",
    )
    dose_level = forms.ChoiceField(
        label="Dose level", choices=[("", "— not assigned —"), *DoseLevel.choices], required=False
    )
    planned_infusion_on = date_field("Planned infusion (day 0)", required=False)
    date_of_birth = date_field(
        "Date of birth",
        required=False,
        validators=[not_in_the_future],
        help_text="This or the medical record number: the bedside check needs one of the two.",
    )
    medical_record_number = text_field("Medical record number", 40, required=False)
    treating_clinician = ClinicianField(
        label="Treating clinician",
        required=False,
        empty_label="— me —",
        help_text="Their home page lists this recipient's bags, infusions and visits.",
    )
    weight_kg = forms.DecimalField(
        label="Body weight (kg)",
        max_digits=5,
        decimal_places=1,
        validators=validators_of(WeightMeasurement, "weight_kg"),
    )
    weight_measured_on = date_field("Weight measured on")


class ClinicianForm(forms.Form):
    treating_clinician = ClinicianField(label="New treating clinician")
    reason = reason_field("Reason for the change")


class WeightForm(forms.Form):
    weight_kg = forms.DecimalField(
        label="Body weight (kg)",
        max_digits=5,
        decimal_places=1,
        validators=validators_of(WeightMeasurement, "weight_kg"),
    )
    measured_on = date_field("Measured on")


class LymphodepletionForm(forms.Form):
    agent = forms.ChoiceField(label="Agent", choices=LymphodepletionAgent.choices)
    dose_mg_per_m2 = forms.DecimalField(
        label="Dose (mg/m2)",
        max_digits=6,
        decimal_places=1,
        validators=validators_of(LymphodepletionDose, "dose_mg_per_m2"),
    )
    body_surface_area_m2 = forms.DecimalField(
        label="Body surface area (m2)",
        max_digits=3,
        decimal_places=2,
        validators=validators_of(LymphodepletionDose, "body_surface_area_m2"),
    )
    given_on = date_field("Given on")
    given_by = ClinicianField(label="Given by", required=False, empty_label="— me —")


# --- views ---


@allowed_to("batches.view_recipient")
def recipient_list(request):
    paginator = Paginator(selectors.recipient_list(), RECIPIENTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "recipients/list.html",
        {
            "page": page,
            "rows": recipient_rows(page),
            "can_register": actor_may(request.user, "batches.add_recipient"),
        },
    )


@allowed_to("batches.add_recipient")
@require_http_methods(["GET", "POST"])
def recipient_register(request):
    form = RecipientRegisterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        recipient = call_service(
            form,
            lambda: recipients.recipient_register(actor=request.user, **form.cleaned_data),
            # The first weight is checked by the weight rule, which names its own fields.
            aliases={"measured_on": "weight_measured_on"},
        )
        if recipient is not None:
            messages.success(request, f"{recipient} registered.")
            return redirect(recipient)
    return render(request, "recipients/register.html", {"form": form})


@allowed_to("batches.view_recipient")
@require_http_methods(["GET", "POST"])
def recipient_detail(request, subject_id):
    """GET shows the recipient; POST records a body weight."""
    recipient = get_object_or_404(selectors.recipient_list(), subject_id=url_text(subject_id))
    form = None
    if request.method == "POST":
        require(request, "batches.record_weight")
        form = WeightForm(request.POST, auto_id="weight-%s")
        if form.is_valid():
            weight = call_service(
                form,
                lambda: recipients.recipient_record_weight(
                    actor=request.user, recipient=recipient, **form.cleaned_data
                ),
            )
            if weight is not None:
                messages.success(request, f"Weight {weight} recorded for {recipient.subject_id}.")
                return redirect(recipient)
    return _recipient_page(request, recipient, form=form)


def _recipient_page(
    request, recipient, *, form=None, clinician_form=None, lymphodepletion_form=None
):
    return render(
        request,
        "recipients/detail.html",
        {
            "recipient": recipient,
            "weights": recipient_weights(recipient),
            **recipient_care(recipient, now=timezone.now()),
            "history": history_rows(
                references_trail(recipient), Recipient, WeightMeasurement, LymphodepletionDose
            ),
            "can_record_weight": actor_may(request.user, "batches.record_weight"),
            "follow_up_end_form": FollowUpEndForm(auto_id="end-%s"),
            "form": form
            or WeightForm(auto_id="weight-%s", initial={"measured_on": timezone.localdate()}),
            "can_reassign": actor_may(request.user, "batches.change_recipient"),
            "clinician_form": clinician_form or ClinicianForm(auto_id="clinician-%s"),
            **recipient_lymphodepletion(recipient, today=timezone.localdate()),
            "can_record_lymphodepletion": actor_may(request.user, "batches.record_lymphodepletion"),
            "lymphodepletion_form": lymphodepletion_form
            or LymphodepletionForm(
                auto_id="ld-%s",
                initial={
                    "given_on": timezone.localdate(),
                    "dose_mg_per_m2": selectors.lymphodepletion_regimen()[0].mg_per_m2,
                },
            ),
        },
    )


@allowed_to("batches.record_lymphodepletion")
@require_http_methods(["POST"])
def lymphodepletion_dose_record(request, subject_id):
    """Record one lymphodepletion dose as given."""
    recipient = get_object_or_404(selectors.recipient_list(), subject_id=url_text(subject_id))
    form = LymphodepletionForm(request.POST, auto_id="ld-%s")
    if form.is_valid():
        dose = call_service(
            form,
            lambda: recipients.lymphodepletion_record(
                actor=request.user, recipient=recipient, **form.cleaned_data
            ),
        )
        if dose is not None:
            messages.success(request, f"{dose} recorded for {recipient.subject_id}.")
            return redirect(recipient.get_absolute_url() + "#lymphodepletion")
    return _recipient_page(request, recipient, lymphodepletion_form=form)


@allowed_to("batches.change_recipient")
@require_http_methods(["POST"])
def recipient_clinician(request, subject_id):
    """Hand the recipient to another treating clinician."""
    recipient = get_object_or_404(selectors.recipient_list(), subject_id=url_text(subject_id))
    form = ClinicianForm(request.POST, auto_id="clinician-%s")
    if form.is_valid():
        changed = call_service(
            form,
            lambda: recipients.recipient_reassign_clinician(
                actor=request.user, recipient=recipient, **form.cleaned_data
            ),
        )
        if changed is not None:
            clinician = form.cleaned_data["treating_clinician"]
            messages.success(
                request, f"{recipient.subject_id} is now treated by {clinician.get_username()}."
            )
            return redirect(recipient)
    return _recipient_page(request, recipient, clinician_form=form)
