"""Cord blood unit pages: the list with its filters, registration, and the unit page with its
actions (the signed donor eligibility determination, allocation, storage moves, discarding).
"""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from batches import selectors
from batches.hla import hla_help
from batches.models import CordBloodUnit, Eligibility, Recipient, UnitStatus
from batches.models.donor import DonorMarker, DonorTestResult, KirLigandGroup
from batches.presenters.donor import source_banks, unit_page, units_for_page
from batches.selectors.unit_selection import unit_match
from batches.services import donor, unit_selection
from carnk_mfg.fields import validators_of
from carnk_mfg.forms import ESignForm, date_field, datetime_field, reason_field, text_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service

UNITS_PER_PAGE = 25
DIN_SHAPE = re.compile(r"[A-Z0-9]{13}")

# --- forms ---


class CordBloodUnitRegisterForm(ESignForm):
    din = text_field(
        "DIN",
        20,
        help_text="13 characters as printed on the bag, e.g. G123498654321.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    check_character = text_field(
        "Check character",
        1,
        help_text="The boxed character printed after the DIN.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 2}),
    )
    product_code = text_field("Product code", 8, help_text="ISBT 128, e.g. S1145V00.")
    source_bank = text_field("Source bank", 120)
    collected_at = datetime_field("Collected at")
    cryopreserved_at = datetime_field("Cryopreserved at")
    # Bounds are the model fields' own (carnk_mfg.fields).
    volume_ml = forms.DecimalField(
        label="Volume (mL)",
        max_digits=7,
        decimal_places=2,
        validators=validators_of(CordBloodUnit, "volume_ml"),
    )
    tnc_count = forms.FloatField(
        label="TNC (cells)",
        validators=validators_of(CordBloodUnit, "tnc_count"),
        help_text="e.g. 1.2e9",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    cd34_count = forms.FloatField(
        label="CD34+ (cells)",
        validators=validators_of(CordBloodUnit, "cd34_count"),
        help_text="e.g. 4.1e6",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    nrbc_count = forms.FloatField(
        label="Nucleated red cells (cells)",
        validators=validators_of(CordBloodUnit, "nrbc_count"),
        help_text="e.g. 2.0e7",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    viability_pct = forms.DecimalField(
        label="Viability (%)",
        max_digits=5,
        decimal_places=2,
        validators=validators_of(CordBloodUnit, "viability_pct"),
    )
    hla_a = text_field("HLA-A", 40, required=False, help_text=hla_help("A"))
    hla_b = text_field("HLA-B", 40, required=False, help_text=hla_help("B"))
    hla_c = text_field("HLA-C", 40, required=False, help_text=hla_help("C"))
    hla_drb1 = text_field("HLA-DRB1", 40, required=False, help_text=hla_help("DRB1"))
    kir_ligand_group = forms.ChoiceField(
        label="KIR-ligand group",
        choices=[("", "—"), *KirLigandGroup.choices],
        required=False,
    )
    freezer = text_field("Freezer", 40)
    rack = text_field("Rack", 20)
    box = text_field("Box", 20)
    position = text_field("Position", 20)

    # Field groups for the template, in the order a technician reads the bag and its papers.
    IDENTITY = ("din", "check_character", "product_code", "source_bank")
    COLLECTION = ("collected_at", "cryopreserved_at")
    COUNTS = ("volume_ml", "tnc_count", "cd34_count", "nrbc_count", "viability_pct")
    TYPING = ("hla_a", "hla_b", "hla_c", "hla_drb1", "kir_ligand_group")
    STORAGE = ("freezer", "rack", "box", "position")

    def group(self, names):
        return [self[name] for name in names]

    def identity_fields(self):
        return self.group(self.IDENTITY)

    def collection_fields(self):
        return self.group(self.COLLECTION)

    def count_fields(self):
        return self.group(self.COUNTS)

    def typing_fields(self):
        return self.group(self.TYPING)

    def storage_fields(self):
        return self.group(self.STORAGE)

    def service_arguments(self) -> dict:
        """cleaned_data shaped as `cord_blood_unit_register` takes it."""
        return dict(self.cleaned_data)


class EligibilityForm(ESignForm):
    eligibility = forms.ChoiceField(
        label="Determination",
        choices=[
            (Eligibility.ELIGIBLE, "Eligible"),
            (Eligibility.INELIGIBLE, "Ineligible"),
            (Eligibility.INCOMPLETE, "Incomplete (stays quarantined)"),
        ],
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when the donor is ineligible or the record is incomplete.",
    )


class DonorTestForm(forms.Form):
    """One test of the unit's donor, as the bank's or laboratory's report gives it."""

    marker = forms.ChoiceField(label="Marker", choices=[("", "—"), *DonorMarker.choices])
    sample_date = date_field("Specimen sampled on")
    result = forms.ChoiceField(label="Result", choices=[("", "—"), *DonorTestResult.choices])
    test_kit = text_field("Test kit", 120, help_text="The licensed donor screening test used.")
    kit_lot = text_field("Kit lot", 40)
    laboratory = text_field("Testing laboratory", 200)
    reason = reason_field("Reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].initial = "Donor test result recorded"


class RecipientField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Recipient.objects.all(), to_field_name="subject_id", **kwargs)
        self.error_messages["invalid_choice"] = "Choose one of the enrolled recipients."


class AllocateForm(forms.Form):
    reason = reason_field("Reason for allocation")
    recipient = RecipientField(
        label="Selected for recipient",
        required=False,
        empty_label="— manufacturing stock, no recipient —",
    )
    selection_rationale = forms.CharField(
        label="Selection rationale",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required with a recipient: why this unit (match grade, KIR ligands, DSA, "
        "cell dose).",
    )
    urgent_need_justification = forms.CharField(
        label="Urgent medical need (justification)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    urgent_need_physician = text_field(
        "Physician who declared the urgent need", 200, required=False
    )


class DsaForm(forms.Form):
    recipient = RecipientField(label="Recipient")
    present = forms.TypedChoiceField(
        label="Donor-specific antibodies",
        choices=[("false", "Absent"), ("true", "Present")],
        coerce=lambda v: v == "true",
    )
    mfi = forms.IntegerField(label="MFI", min_value=0, required=False)
    specificity = text_field("Specificity", 200, required=False)
    tested_on = date_field("Serum tested on")
    reason = reason_field("Reason")


class MoveForm(forms.Form):
    freezer = text_field("Freezer", 40)
    rack = text_field("Rack", 20)
    box = text_field("Box", 20)
    position = text_field("Position", 20)
    reason = reason_field("Reason for the move")


class DiscardForm(forms.Form):
    reason = reason_field("Reason for discarding")


class CordBloodUnitSearch(django_filters.FilterSet):
    """Filters of the unit list (GET parameters, so a filtered list can be bookmarked)."""

    q = django_filters.CharFilter(label="DIN or bank", method="search")
    status = django_filters.ChoiceFilter(choices=UnitStatus.choices, empty_label="Any status")
    eligibility = django_filters.ChoiceFilter(
        choices=Eligibility.choices, empty_label="Any eligibility"
    )
    source_bank = django_filters.ChoiceFilter(
        label="Source bank", choices=[], empty_label="Any bank"
    )

    class Meta:
        model = CordBloodUnit
        fields = ["q", "status", "eligibility", "source_bank"]

    def __init__(self, *args, banks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["source_bank"].extra["choices"] = [(b, b) for b in banks]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(din__icontains=value) | Q(source_bank__icontains=value))


# --- views ---


@allowed_to("batches.view_cordbloodunit")
def unit_list(request):
    units = selectors.cord_blood_unit_list()
    search = CordBloodUnitSearch(request.GET or None, queryset=units, banks=source_banks(units))
    page = Paginator(search.qs, UNITS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "units/list.html",
        {
            "search": search,
            "page": page,
            "can_register": actor_may(request.user, "batches.add_cordbloodunit"),
        },
    )


@allowed_to("batches.add_cordbloodunit")
@require_http_methods(["GET", "POST"])
def unit_register(request):
    form = CordBloodUnitRegisterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        unit = call_service(
            form,
            lambda: donor.cord_blood_unit_register(
                actor=request.user, request=request, **form.service_arguments()
            ),
        )
        if unit is not None:
            messages.success(
                request, f"Cord blood unit {unit.din_eye_readable} registered and signed."
            )
            return redirect(unit)
    return render(request, "units/register.html", {"form": form})


def _unit_or_404(din: str) -> CordBloodUnit:
    din = din.strip().upper()
    if not DIN_SHAPE.fullmatch(din):
        raise Http404("No such DIN.")  # never send a malformed identifier to the database
    return get_object_or_404(units_for_page(), din=din)


@allowed_to("batches.view_cordbloodunit")
def unit_detail(request, din):
    return _unit_page(request, _unit_or_404(din))


def _unit_page(request, unit: CordBloodUnit, **bound_forms):
    """The unit page; a refused action passes its bound form so its errors show in place."""
    context = unit_page(unit, user=request.user)
    # The match shown for the recipient being considered (?recipient=<subject id>).
    considered = Recipient.objects.filter(subject_id=request.GET.get("recipient", "")).first()
    context.update(
        considered=considered,
        match=unit_match(unit=unit, recipient=considered) if considered else None,
        recipients=Recipient.objects.only("subject_id"),
        eligibility_form=EligibilityForm(auto_id="eligibility-%s"),
        allocate_form=AllocateForm(
            auto_id="allocate-%s", initial={"recipient": considered} if considered else None
        ),
        dsa_form=DsaForm(
            auto_id="dsa-%s", initial={"recipient": considered} if considered else None
        ),
        move_form=MoveForm(
            auto_id="move-%s",
            initial={name: getattr(unit, name) for name in ("freezer", "rack", "box", "position")},
        ),
        discard_form=DiscardForm(auto_id="discard-%s"),
        donor_test_form=DonorTestForm(auto_id="donor-test-%s"),
    )
    context.update(bound_forms)
    return render(request, "units/detail.html", context)


def _unit_action(request, din, form_class, form_name: str, call, done: str):
    """One POSTed action on a unit: validate, call the service, redirect or show errors."""
    unit = _unit_or_404(din)
    form = form_class(request.POST, auto_id=f"{form_name.removesuffix('_form')}-%s")
    if form.is_valid() and call_service(form, lambda: call(unit, form.cleaned_data)) is not None:
        messages.success(request, done.format(unit=unit))
        return redirect(unit)
    return _unit_page(request, unit, **{form_name: form})


@allowed_to("batches.determine_eligibility")
@require_POST
def unit_eligibility(request, din):
    return _unit_action(
        request,
        din,
        EligibilityForm,
        "eligibility_form",
        lambda unit, data: donor.cord_blood_unit_determine_eligibility(
            actor=request.user, request=request, unit=unit, **data
        ),
        "Donor eligibility of {unit} determined and signed.",
    )


@allowed_to("batches.record_donor_test")
@require_POST
def unit_donor_test(request, din):
    return _unit_action(
        request,
        din,
        DonorTestForm,
        "donor_test_form",
        lambda unit, data: donor.donor_test_record(actor=request.user, unit=unit, **data),
        "Donor test of {unit} recorded.",
    )


@allowed_to("batches.allocate_cordbloodunit")
@require_POST
def unit_allocate(request, din):
    return _unit_action(
        request,
        din,
        AllocateForm,
        "allocate_form",
        lambda unit, data: donor.cord_blood_unit_allocate(actor=request.user, unit=unit, **data),
        "{unit} allocated to manufacturing.",
    )


@allowed_to("batches.record_dsa")
@require_POST
def unit_dsa(request, din):
    return _unit_action(
        request,
        din,
        DsaForm,
        "dsa_form",
        lambda unit, data: unit_selection.dsa_record(actor=request.user, unit=unit, **data),
        "Donor-specific antibody result against {unit} recorded.",
    )


@allowed_to("batches.store_cordbloodunit")
@require_POST
def unit_move(request, din):
    return _unit_action(
        request,
        din,
        MoveForm,
        "move_form",
        lambda unit, data: donor.cord_blood_unit_move(actor=request.user, unit=unit, **data),
        "Storage location of {unit} updated.",
    )


@allowed_to("batches.discard_cordbloodunit")
@require_POST
def unit_discard(request, din):
    return _unit_action(
        request,
        din,
        DiscardForm,
        "discard_form",
        lambda unit, data: donor.cord_blood_unit_discard(actor=request.user, unit=unit, **data),
        "{unit} discarded.",
    )
