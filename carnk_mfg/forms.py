"""Form pieces every page shares: date and time inputs as browsers send them, text and
reason fields, and the signed form (password re-entry)."""

from __future__ import annotations

from typing import Any

from django import forms

from carnk_mfg.fields import free_text_validator


def datetime_field(label: str, **kwargs: Any) -> forms.DateTimeField:
    # Browsers send datetime-local as "2025-03-01T14:30"; it is read in the site's time zone.
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=[
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d %H:%M:%S",
        ],
        **kwargs,
    )


def date_field(label: str, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kwargs,
    )


def text_field(
    label: str, max_length: int, *, required: bool = True, **kwargs: Any
) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        validators=[free_text_validator],
        **kwargs,
    )


def textarea_field(
    label: str, *, required: bool = True, rows: int = 2, help_text: str = ""
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
        validators=[free_text_validator],
    )


def reason_field(
    label: str = "Reason", help_text: str = "Recorded in the audit trail with your name."
) -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
        validators=[free_text_validator],
    )


class ESignForm(forms.Form):
    """A form that is signed: the signer re-enters their password (21 CFR 11.200).

    The field is rendered inside the form, so signing works without JavaScript; esign.js
    only moves it into the signing dialog.
    """

    password = forms.CharField(
        label="Your password (to sign)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
