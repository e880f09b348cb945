"""Web forms of release and the bedside: formulation into bags, QA's record review and
release decision, the dose calculator, bag hand-offs, the bedside scan and the infusion.

As in `batches.forms`, a form checks only the shape and plausible range of what was typed;
the services decide the rules. The formulation rows are named as the service names its
errors ("bags.0.division"), so a refusal lands next to its input.
"""

from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator

from batches.models import (
    CustodyEvent,
    DoseUnit,
    DoseUnitStatus,
    Infusion,
    Presentation,
    ProtocolDoseLevel,
)
from carnk_mfg.fields import validators_of
from carnk_mfg.forms import ESignForm, datetime_field, text_field

BAG_ROWS = 6


def _textarea(label, *, required=True, rows=2, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


# --- formulation, record review, release ---


class FormulateForm(ESignForm):
    """Up to BAG_ROWS bags (a row left blank is no bag) and their common expiry."""

    expires_at = datetime_field("Bags expire at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(BAG_ROWS):
            self.fields[f"bags.{i}.division"] = forms.CharField(
                label="Division", max_length=2, required=False
            )
            self.fields[f"bags.{i}.presentation"] = forms.ChoiceField(
                label="Presentation",
                choices=[("", "—"), *Presentation.choices],
                required=False,
            )
            self.fields[f"bags.{i}.volume_ml"] = forms.DecimalField(
                label="Volume (mL)",
                max_digits=7,
                decimal_places=2,
                validators=validators_of(DoseUnit, "volume_ml"),
                required=False,
            )
        # The password field comes last, after the bags.
        self.order_fields([f for f in self.fields if f != "password"])

    def rows(self):
        return [
            {
                "number": i + 1,
                "division": self[f"bags.{i}.division"],
                "presentation": self[f"bags.{i}.presentation"],
                "volume_ml": self[f"bags.{i}.volume_ml"],
            }
            for i in range(BAG_ROWS)
        ]

    def clean(self):
        data = super().clean()
        bags = []
        for i in range(BAG_ROWS):
            division = (data.get(f"bags.{i}.division") or "").strip().upper()
            presentation = data.get(f"bags.{i}.presentation") or ""
            volume = data.get(f"bags.{i}.volume_ml")
            if not (division or presentation or volume is not None):
                if f"bags.{i}.volume_ml" in self.errors:
                    bags.append({})  # a typed volume that did not parse: not a blank row
                continue
            bags.append({"division": division, "presentation": presentation, "volume_ml": volume})
        if not bags and not self.errors:
            self.add_error(None, "Enter at least one bag (division, presentation, volume).")
        data["bags"] = bags
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "password": data["password"],
            "bags": data["bags"],
            "expires_at": data["expires_at"],
        }


class RecordReviewForm(ESignForm):
    pass


class ReleaseDecisionForm(ESignForm):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("release", "Release"), ("reject", "Reject")],
        widget=forms.RadioSelect,
    )
    reason = _textarea("Reason", help_text="Recorded with your signature.")
    conditional = forms.BooleanField(
        required=False,
        label="Conditional release",
        help_text="Tests the spec lets release pending (e.g. 14-day sterility) are still open; "
        "the release stays open until they are reviewed in spec.",
    )
    field_order = ["decision", "reason", "conditional", "password"]


# --- dose ---


class DoseChoiceForm(forms.Form):
    """A released bag and a protocol dose level (GET: calculate; POST: assign)."""

    dose_unit = forms.ModelChoiceField(
        label="Released bag",
        queryset=DoseUnit.objects.none(),
        empty_label="Choose a bag",
    )
    dose_level = forms.ModelChoiceField(
        label="Dose level",
        queryset=ProtocolDoseLevel.objects.all(),
        to_field_name="code",
        empty_label="Choose a dose level",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dose_unit"].queryset = DoseUnit.objects.filter(
            status=DoseUnitStatus.RELEASED
        ).select_related("batch")


class AssignForm(DoseChoiceForm):
    reason = text_field("Reason", 200, initial="Dose assigned")


# --- bags to the bedside ---


class HandoffForm(forms.Form):
    kind = forms.ChoiceField(
        label="Hand-off",
        choices=[("issue", "Issue"), ("ship", "Ship"), ("receive", "Receive")],
        widget=forms.RadioSelect,
        initial="issue",
    )
    released_by = text_field("Released by (username)", 150)
    received_by = text_field("Received by (username)", 150)
    from_location = text_field("From", 120)
    to_location = text_field("To", 120)
    occurred_at = datetime_field("Hand-off time")
    temperature_c = forms.DecimalField(
        label="Temperature (°C)",
        max_digits=5,
        decimal_places=1,
        required=False,
        validators=validators_of(CustodyEvent, "temperature_c"),
    )


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
    notes = _textarea("Notes", required=False)

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
