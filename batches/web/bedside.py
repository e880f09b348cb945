"""Bedside pages for a tablet with a barcode scanner: the bedside check (the bag's DIN,
product code and Chain of Identity barcodes, the wristband and a second patient identifier)
and, after a match, the signed start of the infusion with the vitals before; its completion
(end, volume, vitals after, reactions) is signed on the infusion's page when it ends."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from batches.models import BedsideOutcome, Infusion
from batches.presenters.bedside import awaiting_infusion, checks_for_page, infusion_of_bag
from batches.services import bedside
from carnk_mfg.fields import validators_of
from carnk_mfg.forms import ESignForm, datetime_field, textarea_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service, now_minute

# --- forms ---


def _scan(label, max_length, required=True, **attrs):
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false", **attrs}
        ),
    )


class BedsideScanForm(forms.Form):
    scanned_bag = _scan("Bag DIN barcode", 60, autofocus=True)
    scanned_product_code = _scan("Bag product code barcode", 20)
    scanned_coi = _scan("Bag Chain of Identity barcode", 60, required=False)
    scanned_wristband = _scan("Wristband ID", 60)
    # The second patient identifier: a text field, so a scanner's Enter moves on through it.
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "YYYY-MM-DD"}),
        help_text="Or the medical record number below: one of the two, as on the wristband.",
    )
    medical_record_number = _scan("Medical record number", 40, required=False)


BLOOD_PRESSURE = RegexValidator(r"^\d{2,3}/\d{2,3}$", "Systolic/diastolic, e.g. 124/78.")
VITALS = [
    ("temp_c", "Temperature (°C)"),
    ("hr", "Heart rate (/min)"),
    ("bp", "Blood pressure (mmHg)"),
    ("spo2", "SpO2 (%)"),
]


def _vital_fields(when: str) -> dict:
    return {
        f"{when}_temp_c": forms.DecimalField(
            label="Temperature (°C)",
            max_digits=4,
            decimal_places=1,
            validators=[MinValueValidator(30), MaxValueValidator(45)],
        ),
        f"{when}_hr": forms.IntegerField(label="Heart rate (/min)", min_value=20, max_value=250),
        f"{when}_bp": forms.CharField(
            label="Blood pressure (mmHg)", max_length=7, validators=[BLOOD_PRESSURE]
        ),
        f"{when}_spo2": forms.IntegerField(label="SpO2 (%)", min_value=50, max_value=100),
    }


def _vitals(data: dict, when: str) -> dict:
    out = {key: data[f"{when}_{key}"] for key, _label in VITALS}
    out["temp_c"] = float(out["temp_c"])
    return out


class InfusionStartForm(ESignForm):
    """The start of the infusion: when, and the vitals before (signed by the nurse)."""

    started_at = datetime_field("Infusion started")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The page lands on this form after a MATCH: the nurse goes on typing here.
        self.fields["started_at"].widget.attrs["autofocus"] = True
        self.fields.update(_vital_fields("pre"))
        self.order_fields([f for f in self.fields if f != "password"])

    def pre_fields(self):
        return [self[f"pre_{key}"] for key, _label in VITALS]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "password": data["password"],
            "started_at": data["started_at"],
            "vitals_before": _vitals(data, "pre"),
        }


class InfusionCompleteForm(ESignForm):
    """The completion: when it ended, the volume infused, the vitals after, any reaction."""

    ended_at = datetime_field("Infusion ended")
    volume_ml = forms.DecimalField(
        label="Volume infused (mL)",
        max_digits=7,
        decimal_places=2,
        validators=validators_of(Infusion, "volume_ml"),
    )
    reactions = textarea_field(
        "Infusion reactions",
        required=False,
        help_text="What was seen during the infusion (chills, fever, rash...); blank if none.",
    )
    notes = textarea_field("Notes", required=False)
    volume_difference_reason = textarea_field(
        "Why the volume differs from the prescribed volume",
        required=False,
        help_text="Needed when the volume infused is off the prescribed volume by more than "
        "the tolerance; a clinical deviation is then opened for QA.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ended_at"].widget.attrs["autofocus"] = True
        self.fields.update(_vital_fields("post"))
        self.order_fields([f for f in self.fields if f != "password"])

    def post_fields(self):
        return [self[f"post_{key}"] for key, _label in VITALS]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "password": data["password"],
            "ended_at": data["ended_at"],
            "volume_ml": data["volume_ml"],
            "vitals": {"post": _vitals(data, "post")},
            "reactions": data["reactions"],
            "notes": data["notes"],
            "volume_difference_reason": data["volume_difference_reason"],
        }


def completion_form(infusion: Infusion, data=None) -> InfusionCompleteForm:
    """The completion form of an infusion in progress, the bag's prescribed volume filled in."""
    return InfusionCompleteForm(
        data,
        auto_id="complete-%s",
        initial={"ended_at": now_minute(), "volume_ml": infusion.dose_unit.dose_volume_ml},
    )


# --- views ---


def _bedside_page(request, *, scan_form=None, check=None, start_form=None, status=200):
    may_infuse = actor_may(request.user, "batches.record_infusion")
    match = check is not None and check.outcome == BedsideOutcome.MATCH
    # An old MATCH page of a bag infused since says so, and offers no second start.
    infused = infusion_of_bag(check) if match else None
    if match and infused is None and start_form is None:
        start_form = InfusionStartForm(auto_id="infusion-%s", initial={"started_at": now_minute()})
    if infused is not None:
        start_form = None
    scan_form = scan_form or BedsideScanForm(auto_id="scan-%s")
    if start_form is not None and may_infuse:
        # The infusion form, not the next scan, takes the focus after a MATCH.
        scan_form.fields["scanned_bag"].widget.attrs.pop("autofocus", None)
    return render(
        request,
        "release/bedside.html",
        {
            "scan_form": scan_form,
            "check": check,
            "match": match,
            "infused": infused,
            "may_infuse": may_infuse,
            "start_form": start_form,
            "needs_esign": start_form is not None and may_infuse,
            "awaiting": awaiting_infusion(),
        },
        status=status,
    )


@allowed_to("batches.verify_at_bedside")
@require_http_methods(["GET", "POST"])
def bedside_check(request):
    if request.method != "POST":
        return _bedside_page(request)
    form = BedsideScanForm(request.POST, auto_id="scan-%s")
    if not form.is_valid():
        return _bedside_page(request, scan_form=form)
    check = call_service(
        form, lambda: bedside.bedside_verify(actor=request.user, **form.cleaned_data)
    )
    if check is None:
        return _bedside_page(request, scan_form=form)
    # A fresh, empty scan form for the next bag: the result shows what was scanned.
    return _bedside_page(request, check=check)


@allowed_to("batches.record_infusion")
@require_http_methods(["GET", "POST"])
def infusion_record(request, check_id):
    """GET: the bedside check again; POST: the signed start of the infusion, then on to the
    infusion's page, where it is completed when it ends."""
    check = get_object_or_404(checks_for_page(), pk=check_id)
    if request.method != "POST":
        return _bedside_page(request, check=check)
    form = InfusionStartForm(request.POST, auto_id="infusion-%s")
    if form.is_valid():
        infusion = call_service(
            form,
            lambda: bedside.infusion_start(
                actor=request.user, request=request, check=check, **form.service_arguments()
            ),
            aliases={"bedside_check": "__all__", "vitals": "__all__"},
        )
        if infusion is not None:
            messages.success(
                request, f"{infusion} started (signed). Complete the record when it ends."
            )
            return redirect(reverse("infusion-detail", args=[infusion.pk]) + "#complete")
    return _bedside_page(request, check=check, start_form=form)
