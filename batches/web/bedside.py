"""Bedside pages for a tablet with a barcode scanner: the bedside check (bag, product code and
wristband scanned) and, after a match, the signed infusion record with vital signs."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from batches.models import BedsideOutcome, Infusion
from batches.presenters.bedside import checks_for_page
from batches.services import bedside
from carnk_mfg.fields import validators_of
from carnk_mfg.forms import ESignForm, datetime_field, textarea_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service, now_minute

# --- forms ---


def _scan(label, max_length, **attrs):
    return forms.CharField(
        label=label,
        max_length=max_length,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false", **attrs}
        ),
    )


class BedsideScanForm(forms.Form):
    scanned_bag = _scan("Bag DIN barcode", 60, autofocus=True)
    scanned_product_code = _scan("Bag product code barcode", 20)
    scanned_wristband = _scan("Wristband ID", 60)


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


class InfusionForm(ESignForm):
    started_at = datetime_field("Infusion started")
    ended_at = datetime_field("Infusion ended")
    volume_ml = forms.DecimalField(
        label="Volume infused (mL)",
        max_digits=7,
        decimal_places=2,
        validators=validators_of(Infusion, "volume_ml"),
    )
    notes = textarea_field("Notes", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for when in ("pre", "post"):
            self.fields.update(_vital_fields(when))
        self.order_fields([f for f in self.fields if f != "password"])

    def vital_rows(self, when: str):
        return [self[f"{when}_{key}"] for key, _label in VITALS]

    def pre_fields(self):
        return self.vital_rows("pre")

    def post_fields(self):
        return self.vital_rows("post")

    def service_arguments(self) -> dict:
        data = self.cleaned_data

        def vitals(when):
            out = {key: data[f"{when}_{key}"] for key, _label in VITALS}
            out["temp_c"] = float(out["temp_c"])
            return out

        return {
            "password": data["password"],
            "started_at": data["started_at"],
            "ended_at": data["ended_at"],
            "volume_ml": data["volume_ml"],
            "vitals": {"pre": vitals("pre"), "post": vitals("post")},
            "notes": data["notes"],
        }


# --- views ---


def _bedside_page(request, *, scan_form=None, check=None, infusion_form=None, status=200):
    may_infuse = actor_may(request.user, "batches.record_infusion")
    if check is not None and check.outcome == BedsideOutcome.MATCH and infusion_form is None:
        now = now_minute()
        infusion_form = InfusionForm(
            auto_id="infusion-%s",
            initial={
                "started_at": now,
                "ended_at": now,
                "volume_ml": check.dose_unit.dose_volume_ml,
            },
        )
    return render(
        request,
        "release/bedside.html",
        {
            "scan_form": scan_form or BedsideScanForm(auto_id="scan-%s"),
            "check": check,
            "match": check is not None and check.outcome == BedsideOutcome.MATCH,
            "may_infuse": may_infuse,
            "infusion_form": infusion_form,
            "needs_esign": infusion_form is not None and may_infuse,
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
    check = get_object_or_404(checks_for_page(), pk=check_id)
    if request.method != "POST":
        return _bedside_page(request, check=check)
    form = InfusionForm(request.POST, auto_id="infusion-%s")
    if form.is_valid():
        infusion = call_service(
            form,
            lambda: bedside.infusion_record(
                actor=request.user, request=request, check=check, **form.service_arguments()
            ),
            aliases={"bedside_check": "__all__", "vitals": "__all__"},
        )
        if infusion is not None:
            messages.success(request, f"{infusion} recorded and signed.")
            return redirect(reverse("bag-detail", args=[check.dose_unit_id]))
    return _bedside_page(request, check=check, infusion_form=form)
