"""Web forms: they check types and ranges of what was typed; the services decide the rules.

No form here saves anything. Views hand `cleaned_data` to a service and put the service's
ValidationError back on the form (`carnk_mfg.web.apply_service_errors`).
"""

from __future__ import annotations

import django_filters
from django import forms

from batches.models import (
    CordBloodUnit,
    Diagnosis,
    DoseLevel,
    Eligibility,
    FeederLot,
    LotStatus,
    RcrResult,
    UnitStatus,
    VectorLot,
    WeightMeasurement,
)
from batches.models.donor import KirLigandGroup
from batches.models.materials import Reagent
from carnk_mfg.fields import validators_of
from carnk_mfg.forms import ESignForm, date_field, datetime_field, reason_field, text_field

# --- Cord blood units ---

# Maternal infectious disease tests usually reported by the bank (21 CFR 1271.85); each is
# entered as a result, blank meaning "not reported".
MATERNAL_MARKERS = [
    "HIV-1/2",
    "HBsAg",
    "Anti-HBc",
    "HCV",
    "HTLV-I/II",
    "Syphilis",
    "CMV",
    "WNV",
    "T. cruzi",
]
MARKER_RESULTS = [
    ("", "—"),
    ("negative", "Negative"),
    ("positive", "Positive"),
    ("not tested", "Not tested"),
]


def _marker_field_name(marker: str) -> str:
    return "marker_" + "".join(c.lower() if c.isalnum() else "_" for c in marker)


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
    hla_a = text_field("HLA-A", 40, required=False)
    hla_b = text_field("HLA-B", 40, required=False)
    hla_c = text_field("HLA-C", 40, required=False)
    hla_drb1 = text_field("HLA-DRB1", 40, required=False)
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for marker in MATERNAL_MARKERS:
            self.fields[_marker_field_name(marker)] = forms.ChoiceField(
                label=marker, choices=MARKER_RESULTS, required=False
            )

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

    def marker_fields(self):
        return [self[_marker_field_name(m)] for m in MATERNAL_MARKERS]

    def service_arguments(self) -> dict:
        """cleaned_data shaped as `cord_blood_unit_register` takes it."""
        data = dict(self.cleaned_data)
        markers = {}
        for marker in MATERNAL_MARKERS:
            result = data.pop(_marker_field_name(marker), "")
            if result:
                markers[marker] = result
        data["maternal_markers"] = markers
        return data


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


class AllocateForm(forms.Form):
    reason = reason_field("Reason for allocation")
    urgent_need_justification = forms.CharField(
        label="Urgent medical need (justification)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    urgent_need_physician = text_field(
        "Physician who declared the urgent need", 200, required=False
    )


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
        from django.db.models import Q

        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(din__icontains=value) | Q(source_bank__icontains=value))


# --- Material lots ---


class _LotRegisterForm(forms.Form):
    lot_number = text_field("Lot number", 60)
    manufacturer = text_field("Manufacturer", 120)
    received_on = date_field("Received on")
    expiry_date = date_field("Expiry date")


class VectorLotRegisterForm(_LotRegisterForm):
    construct = text_field("Construct", 80, initial="iC9/CAR.19/IL15")
    titer_iu_per_ml = forms.FloatField(
        label="Titer (IU/mL)",
        validators=validators_of(VectorLot, "titer_iu_per_ml"),
        help_text="e.g. 1.5e7",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    rcr_result = forms.ChoiceField(
        label="RCR result", choices=RcrResult.choices, initial=RcrResult.PENDING
    )


class FeederLotRegisterForm(_LotRegisterForm):
    cell_line = text_field("Cell line", 80, initial="K562 uAPC (CD48, 4-1BBL, mbIL-21)")
    irradiation_dose_gy = forms.DecimalField(
        label="Irradiation dose (Gy)",
        max_digits=6,
        decimal_places=1,
        validators=validators_of(FeederLot, "irradiation_dose_gy"),
    )
    irradiated_on = date_field("Irradiated on")


class ReagentLotRegisterForm(_LotRegisterForm):
    reagent = forms.ChoiceField(label="Reagent", choices=Reagent.choices)
    description = text_field("Description", 200, required=False)


LOT_REGISTER_FORMS = {
    "vector": VectorLotRegisterForm,
    "feeder": FeederLotRegisterForm,
    "reagent": ReagentLotRegisterForm,
}


class DispositionForm(ESignForm):
    status = forms.ChoiceField(
        label="Disposition",
        choices=[
            (LotStatus.RELEASED, "Release"),
            (LotStatus.REJECTED, "Reject"),
            (LotStatus.QUARANTINED, "Quarantine"),
        ],
        widget=forms.RadioSelect,
    )
    reason = reason_field("Reason", help_text="Shown with the lot and in its audit trail.")


# --- Recipients ---


class RecipientRegisterForm(forms.Form):
    subject_id = text_field("Study subject ID", 40, help_text="Pseudonymous; no names.")
    diagnosis = forms.ChoiceField(label="Diagnosis", choices=Diagnosis.choices)
    diagnosis_detail = text_field("Diagnosis detail", 200, required=False)
    hla_a = text_field("HLA-A", 40, required=False)
    hla_b = text_field("HLA-B", 40, required=False)
    hla_c = text_field("HLA-C", 40, required=False)
    hla_drb1 = text_field("HLA-DRB1", 40, required=False)
    dose_level = forms.ChoiceField(
        label="Dose level", choices=[("", "— not assigned —"), *DoseLevel.choices], required=False
    )
    planned_infusion_on = date_field("Planned infusion (day 0)", required=False)
    weight_kg = forms.DecimalField(
        label="Body weight (kg)",
        max_digits=5,
        decimal_places=1,
        validators=validators_of(WeightMeasurement, "weight_kg"),
    )
    weight_measured_on = date_field("Weight measured on")


class WeightForm(forms.Form):
    weight_kg = forms.DecimalField(
        label="Body weight (kg)",
        max_digits=5,
        decimal_places=1,
        validators=validators_of(WeightMeasurement, "weight_kg"),
    )
    measured_on = date_field("Measured on")
