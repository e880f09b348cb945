"""Web forms of the batch record: planning a batch, the next step, counts, deviations, QA
dispositions, custody hand-offs and lifecycle moves (kept apart from the views of
`batches.web.batch_record`, which would otherwise pass 500 lines).

A form only checks the shape and plausible range of what was typed; the services decide the
rules. Field names of the step form are the service's own error keys
("values.nk_purity_pct", "materials.0.lot_number"), so a refusal lands next to its input.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from batches.models import (
    Batch,
    BatchState,
    CellCount,
    CordBloodUnit,
    CustodyEvent,
    DeviationClassification,
    DeviationDisposition,
    DeviationKind,
    Eligibility,
    MaterialKind,
    ProcessTemplate,
    Recipient,
    TemplateStatus,
    UnitStatus,
    ValueType,
)
from batches.models.materials import Reagent
from batches.selectors import due_steps
from batches.services import lifecycle
from batches.services.batch_record import DeviationInput
from carnk_mfg import notation
from carnk_mfg.fields import validators_of
from carnk_mfg.forms import ESignForm, datetime_field, text_field, textarea_field

NO_SLASH = "A lot number cannot contain '/': it is part of the batch page's address."
RESERVED_LOT_NUMBERS = {"new", "templates"}
# The technicians' worklists the batch list filters by (keys of `batches.presenters.work`).
WORK_CHOICES = [
    ("steps-due", "Step due today or late"),
    ("counts-due", "Count due today"),
    ("on-hold", "On hold"),
]


def _cells_field(label, help_text, field):
    return forms.FloatField(
        label=label,
        validators=validators_of(CellCount, field),
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


# --- list filters ---


class BatchSearch(django_filters.FilterSet):
    """Filters of the batch list (GET, so a filtered list can be bookmarked)."""

    q = django_filters.CharFilter(label="Lot number or DIN", method="search")
    state = django_filters.ChoiceFilter(choices=BatchState.choices, empty_label="Any state")
    work = django_filters.ChoiceFilter(
        label="Work", choices=WORK_CHOICES, empty_label="Any", method="with_work"
    )

    class Meta:
        model = Batch
        fields = ["q", "state", "work"]

    def with_work(self, queryset, name, value):
        """The batches of a technician's worklist: the home page counts the same selector."""
        now = timezone.now()
        if value == "steps-due":
            wanted = [batch.pk for batch, _work in due_steps.steps_due(now=now)]
        elif value == "counts-due":
            wanted = [batch.pk for batch, _day in due_steps.counts_due(now=now)]
        else:
            wanted = list(due_steps.batches_on_hold().values_list("pk", flat=True))
        return queryset.filter(pk__in=wanted)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(lot_number__icontains=value)
            | Q(source_unit__din__icontains=value)
            | Q(din__icontains=value)
        )


# --- planning a batch ---


class _UnitChoice(forms.ModelChoiceField):
    def label_from_instance(self, unit):
        text = f"{unit.din_eye_readable} · {unit.get_status_display()} · {unit.source_bank}"
        if not unit.usable_without_urgent_need:
            text += f" · donor {unit.get_eligibility_display().lower()}: urgent need only"
        return text


class _RecipientChoice(forms.ModelChoiceField):
    def label_from_instance(self, recipient):
        return f"{recipient.subject_id} ({recipient.get_diagnosis_display()})"


class BatchCreateForm(forms.Form):
    source_unit = _UnitChoice(
        label="Cord blood unit (DIN)",
        queryset=CordBloodUnit.objects.none(),
        to_field_name="din",
        empty_label="— choose a unit —",
    )
    template = forms.ModelChoiceField(
        label="Process template (approved version)",
        queryset=ProcessTemplate.objects.filter(status=TemplateStatus.APPROVED),
        empty_label="— choose a template —",
    )
    intended_recipient = _RecipientChoice(
        label="Intended recipient",
        queryset=Recipient.objects.order_by("subject_id"),
        to_field_name="subject_id",
        required=False,
        empty_label="— none: off-the-shelf stock —",
    )
    unit_fraction_used_pct = forms.DecimalField(
        label="Share of the unit used (%)",
        max_digits=5,
        decimal_places=2,
        initial=Decimal(100),
        validators=validators_of(Batch, "unit_fraction_used_pct"),
        help_text="One unit may feed several batches, up to 100 % in all.",
    )
    lot_number = text_field(
        "Lot number",
        40,
        required=False,
        help_text="Leave blank to number the batch from its DIN.",
    )
    urgent_need_justification = textarea_field(
        "Urgent medical need (justification)", required=False
    )
    urgent_need_physician = text_field(
        "Physician who declared the urgent need", 200, required=False
    )

    def __init__(self, *args, may_allocate_ineligible: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # Units ready for manufacturing; an ineligible or incomplete (quarantined) unit only
        # for those who may take the medical decision to use it.
        ready = Q(status__in=[UnitStatus.AVAILABLE, UnitStatus.ALLOCATED])
        if may_allocate_ineligible:
            ready |= Q(
                status=UnitStatus.QUARANTINED,
                eligibility__in=[Eligibility.INELIGIBLE, Eligibility.INCOMPLETE],
            )
        source_unit = self.fields["source_unit"]
        assert isinstance(source_unit, forms.ModelChoiceField)
        source_unit.queryset = CordBloodUnit.objects.filter(ready).order_by("din")

    def clean_lot_number(self):
        number = self.cleaned_data["lot_number"].strip()
        if "/" in number:
            raise ValidationError(NO_SLASH)
        if number.lower() in RESERVED_LOT_NUMBERS:
            raise ValidationError(f"{number!r} is reserved; choose another lot number.")
        return number


# --- the next step ---


def _parameter_field(param) -> forms.Field:
    label = f"{param.name} ({param.unit})" if param.unit else param.name
    allowed = notation.spec_range_text(param.min_value, param.max_value, param.unit)
    help_text = f"Allowed: {allowed}" if allowed != notation.NO_VALUE else ""
    if param.value_type == ValueType.NUMBER:
        # Typed as text: the service reads 9e8 or 0.2 and explains a value it cannot read.
        return forms.CharField(
            label=label,
            required=param.required,
            max_length=40,
            help_text=help_text,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        )
    if param.value_type == ValueType.BOOLEAN:
        return forms.ChoiceField(
            label=label,
            required=param.required,
            choices=[("", "—"), ("yes", "Yes"), ("no", "No")],
        )
    if param.value_type == ValueType.CHOICE:
        return forms.ChoiceField(
            label=label,
            required=param.required,
            choices=[("", "—"), *[(c, c) for c in param.choices]],
        )
    return forms.CharField(label=label, required=param.required, max_length=500)


def expected_material_label(kind: str) -> str:
    """'reagent:il2' -> 'Reagent: IL-2'; 'feeder' -> 'Feeder cells'."""
    base, _, detail = kind.partition(":")
    label = MaterialKind(base).label if base in MaterialKind.values else base
    if detail:
        detail_label = Reagent(detail).label if detail in Reagent.values else detail
        return f"{label}: {detail_label}"
    return label


class StepForm(ESignForm):
    """One executed step of the template: its parameters, materials, notes, an optional
    deviation, and the operator's signature."""

    step = forms.CharField(widget=forms.HiddenInput, max_length=40)
    performed_at = datetime_field("Performed at")
    notes = textarea_field("Notes", required=False)
    equipment = text_field(
        "Equipment used",
        400,
        required=False,
        help_text="Scan each piece's barcode (separate several with spaces).",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    # Never rendered as an input: it carries the service's "a deviation is needed" message.
    deviation = forms.CharField(required=False, widget=forms.HiddenInput)
    deviation_what = textarea_field(
        "What departed from the procedure",
        required=False,
        help_text="Leave blank to use the departures the system found.",
    )
    deviation_why = textarea_field("Why", required=False)
    deviation_impact = textarea_field("Impact assessment", required=False)

    def __init__(self, *args, template_step, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("step", template_step.code)
        super().__init__(*args, **kwargs)
        self.template_step = template_step
        self.parameters = list(template_step.parameters.all())
        for param in self.parameters:
            self.fields[f"values.{param.code}"] = _parameter_field(param)
        # One row per material the template expects (kind prefilled), and one spare.
        self.expected_materials = list(template_step.material_kinds or [])
        kinds = [("", "—"), *MaterialKind.choices]
        for row, expected in enumerate([*self.expected_materials, ""]):
            self.fields[f"materials.{row}.kind"] = forms.ChoiceField(
                label="Kind", choices=kinds, required=False, initial=expected.partition(":")[0]
            )
            self.fields[f"materials.{row}.lot_number"] = text_field(
                "Lot number",
                60,
                required=False,
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
            )
            self.fields[f"materials.{row}.quantity"] = forms.DecimalField(
                label="Quantity used",
                max_digits=12,
                decimal_places=3,
                min_value=Decimal("0.001"),
                required=False,
                help_text="In the lot's unit; drawn from its stock",
            )
        self.material_row_count = len(self.expected_materials) + 1

    # Grouped bound fields for the template (it cannot look up names with dots).

    def parameter_rows(self):
        return [{"param": p, "field": self[f"values.{p.code}"]} for p in self.parameters]

    def material_rows(self):
        rows = []
        for row in range(self.material_row_count):
            expected = self.expected_materials[row] if row < len(self.expected_materials) else ""
            rows.append(
                {
                    "expected": expected_material_label(expected) if expected else "",
                    "kind": self[f"materials.{row}.kind"],
                    "lot_number": self[f"materials.{row}.lot_number"],
                    "quantity": self[f"materials.{row}.quantity"],
                }
            )
        return rows

    def deviation_fields(self):
        return [self["deviation_what"], self["deviation_why"], self["deviation_impact"]]

    @property
    def deviation_open(self) -> bool:
        """Show the deviation fields: the server asked for them, or they were filled in."""
        if self.errors.get("deviation"):
            return True
        parts = ("deviation_what", "deviation_why", "deviation_impact")
        return any(self.data.get(name) for name in parts)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # a form's clean hands back its cleaned data
        for row in range(self.material_row_count):
            lot = data.get(f"materials.{row}.lot_number")
            if lot and not data.get(f"materials.{row}.kind"):
                self.add_error(f"materials.{row}.kind", "Choose the kind of material.")
        given = [data.get(f"deviation_{part}") for part in ("what", "why", "impact")]
        if any(given):
            if not data.get("deviation_why"):
                self.add_error("deviation_why", "Say why the step departed from the template.")
            if not data.get("deviation_impact"):
                self.add_error("deviation_impact", "Assess the impact on the product.")
        return data

    def service_arguments(self) -> tuple[dict, dict]:
        """(keyword arguments for `step_record`, error-key aliases). Blank material rows are
        left out, so the service's list positions are mapped back to the form's rows."""
        data = self.cleaned_data
        values = {}
        for param in self.parameters:
            value = data.get(f"values.{param.code}")
            if value not in (None, ""):
                values[param.code] = value
        materials: list[dict[str, Any]] = []
        aliases: dict[str, str] = {}
        for row in range(self.material_row_count):
            number = data.get(f"materials.{row}.lot_number")
            if not number:
                continue
            index = len(materials)
            materials.append(
                {
                    "kind": data[f"materials.{row}.kind"],
                    "lot_number": number,
                    "quantity": data.get(f"materials.{row}.quantity"),
                }
            )
            aliases[f"materials.{index}.kind"] = f"materials.{row}.kind"
            aliases[f"materials.{index}.lot_number"] = f"materials.{row}.lot_number"
            aliases[f"materials.{index}.quantity"] = f"materials.{row}.quantity"
            aliases[f"materials.{index}"] = f"materials.{row}.lot_number"
        deviation = None
        if any(data.get(f"deviation_{part}") for part in ("what", "why", "impact")):
            deviation = DeviationInput(
                what=data.get("deviation_what", ""),
                why=data.get("deviation_why", ""),
                impact=data.get("deviation_impact", ""),
            )
        arguments = {
            "performed_at": data["performed_at"],
            "values": values,
            "materials": materials,
            "equipment": (data.get("equipment") or "").replace(",", " ").split(),
            "notes": data.get("notes", ""),
            "deviation": deviation,
            "password": data["password"],
        }
        # The service's "step" errors (order, state) concern the whole form.
        aliases["step"] = "__all__"
        aliases |= {f"equipment.{index}": "equipment" for index in range(20)}
        return arguments, aliases


# --- counts, deviations, custody ---


class CellCountForm(forms.Form):
    day = forms.IntegerField(
        label="Culture day",
        validators=validators_of(CellCount, "day"),
        help_text="Day 0 = cord blood thaw.",
    )
    measured_at = datetime_field("Measured at")
    total_cells_per_ml = _cells_field("Total cells per mL", "e.g. 1.1e6", "total_cells_per_ml")
    viable_cells_per_ml = _cells_field("Viable cells per mL", "e.g. 1.0e6", "viable_cells_per_ml")
    viability_pct = forms.DecimalField(
        label="Viability (%)",
        max_digits=5,
        decimal_places=2,
        required=False,
        validators=validators_of(CellCount, "viability_pct"),
        help_text="Blank: computed from viable / total.",
    )
    volume_ml = forms.DecimalField(
        label="Culture volume (mL)",
        max_digits=9,
        decimal_places=2,
        validators=validators_of(CellCount, "volume_ml"),
    )
    notes = textarea_field("Notes", required=False)


class CountCorrectionForm(CellCountForm):
    """A new count of the same day that replaces the current one; the day is the corrected
    count's own."""

    correction_reason = textarea_field(
        "Reason for the correction",
        help_text="Why the count is replaced (a mistyped value, a repeated measurement...). "
        "Recorded with the correction and in the trail.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["day"]


class DeviationForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of deviation", choices=DeviationKind.choices)
    what = textarea_field("What departed from the procedure")
    why = textarea_field("Why")
    impact = textarea_field("Impact assessment")


class DeviationDispositionForm(ESignForm):
    # Not required here: the closing service says what is missing (a major or critical
    # deviation also needs a CAPA), and what was classified before stays.
    classification = forms.ChoiceField(
        label="Classification",
        choices=DeviationClassification.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    root_cause = textarea_field(
        "Root cause", required=False, help_text="Why it happened, as far as it is known."
    )
    disposition = forms.ChoiceField(
        label="QA disposition", choices=DeviationDisposition.choices, widget=forms.RadioSelect
    )
    notes = textarea_field("QA rationale", help_text="Shown with the deviation and in the trail.")


class CustodyForm(forms.Form):
    subject = forms.ChoiceField(
        label="What was handed over",
        choices=[("batch", "The batch (culture or product)"), ("unit", "The cord blood unit")],
        widget=forms.RadioSelect,
        initial="batch",
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
    notes = textarea_field("Notes", required=False)


# --- lifecycle ---


class TransitionForm(forms.Form):
    to_state = forms.ChoiceField(choices=BatchState.choices, widget=forms.HiddenInput)
    # The state the user saw: if someone moved the batch meanwhile, the move is refused.
    expected_state = forms.ChoiceField(choices=BatchState.choices, widget=forms.HiddenInput)
    # Asked for only where the move needs one (lifecycle.reason_required): a routine forward
    # move is recorded with lifecycle.ROUTINE_FORWARD_REASON.
    reason = textarea_field(
        "Reason", required=False, help_text="Recorded in the audit trail with your name."
    )
    password = forms.CharField(
        label="Your password (to sign)",
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, signed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.signed = signed

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # a form's clean hands back its cleaned data
        # A forgotten password is not a failed signature: ask for it before the service.
        if self.signed and not data.get("password"):
            self.add_error("password", "Enter your password to sign.")
        to_state, expected = data.get("to_state"), data.get("expected_state")
        if (
            to_state
            and expected
            and not (data.get("reason") or "").strip()
            and lifecycle.reason_required(expected, to_state)
        ):
            self.add_error("reason", lifecycle.REASON_NEEDED)
        return data
