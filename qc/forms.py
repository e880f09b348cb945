"""Web forms of the QC pages: sample taken, result entry, second-person review, retest.

They check the shape of what was typed; the QC services evaluate results against the spec
and decide what is allowed (`batches.forms.apply_service_errors` brings refusals back).
"""

from __future__ import annotations

from django import forms

from carnk_mfg.forms import ESignForm, datetime_field
from qc.models import ResultType


class SampleForm(forms.Form):
    sampled_at = datetime_field(
        "Sampled at", required=False, help_text="Blank: now. Not before the triggering step."
    )


class ResultForm(forms.Form):
    """A number with its unit for a numeric test; one of the allowed answers otherwise."""

    def __init__(self, *args, definition, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        if definition.result_type == ResultType.NUMERIC:
            self.fields["value"] = forms.CharField(
                label="Result",
                max_length=40,
                help_text=f"Specification: {definition.spec_text}",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
            self.fields["unit"] = forms.CharField(
                label="Unit",
                max_length=40,
                initial=definition.unit,
                help_text=f"The specification's unit is {definition.unit or 'none'}.",
            )
        else:
            allowed = definition.allowed_values or definition.passing_values
            self.fields["value"] = forms.ChoiceField(
                label="Result",
                choices=[("", "— choose —"), *[(a, a) for a in allowed]],
                help_text=f"In specification: {definition.spec_text}",
            )

    @property
    def is_numeric(self) -> bool:
        return self.definition.result_type == ResultType.NUMERIC

    def service_arguments(self) -> dict:
        return {"value": self.cleaned_data["value"], "unit": self.cleaned_data.get("unit", "")}


class ReviewForm(ESignForm):
    """Second-person review: the reviewer signs with their password."""


class RetestForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the retest",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The original result stays on record; the retest is a new test.",
    )
