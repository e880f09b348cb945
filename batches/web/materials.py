"""Material lot pages (vector, feeder cells, reagents): the lists, registration into
quarantine, and a lot's page with QA's signed disposition."""

from __future__ import annotations

import mimetypes
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_http_methods

from batches.models import (
    AdjustmentKind,
    Equipment,
    EquipmentKind,
    FeederIrradiation,
    FeederLot,
    LotStatus,
    RcrResult,
    StockUnit,
    VectorLot,
)
from batches.models.materials import Reagent
from batches.presenters.materials import (
    LOT_KIND_TITLES,
    lot_details,
    lot_kinds_allowed,
    lot_permission,
    lot_sections,
    lots_for_page,
)
from batches.selectors.inventory import lot_adjustments, lot_certificates, lot_uses
from batches.services import inventory, materials
from batches.services.irradiation import RECORD as RECORD_IRRADIATION
from batches.services.irradiation import feeder_irradiation_record
from batches.services.materials import LOT_MODELS, lot_usability
from carnk_mfg.audit import audit_history
from carnk_mfg.fields import validators_of
from carnk_mfg.forms import ESignForm, date_field, reason_field, text_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import (
    call_service,
    deny,
    history_rows,
    require,
    signature_rows,
    url_text,
)

# --- forms ---


class _LotRegisterForm(forms.Form):
    lot_number = text_field("Lot number", 60)
    manufacturer = text_field("Manufacturer", 120)
    received_on = date_field("Received on")
    expiry_date = date_field("Expiry date")
    quantity_received = forms.DecimalField(
        label="Quantity received", max_digits=12, decimal_places=3, min_value=Decimal("0.001")
    )
    unit = forms.ChoiceField(label="Unit", choices=StockUnit.choices, initial=StockUnit.ML)


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


class IrradiationForm(forms.Form):
    dose_gy = forms.DecimalField(
        label="Dose (Gy)",
        max_digits=6,
        decimal_places=1,
        validators=validators_of(FeederIrradiation, "dose_gy"),
    )
    irradiated_on = date_field("Irradiated on")
    irradiator = forms.ModelChoiceField(
        label="Irradiator",
        queryset=Equipment.objects.filter(kind=EquipmentKind.IRRADIATOR),
        to_field_name="identifier",
        help_text="Its barcode identifier; it must be in service and calibrated that day.",
    )


class CertificateForm(forms.Form):
    file = forms.FileField(
        label="Certificate of analysis", help_text="The supplier's file as received (5 MB at most)."
    )


class AdjustmentForm(forms.Form):
    adjustment_kind = forms.ChoiceField(label="Kind", choices=AdjustmentKind.choices)
    change = forms.DecimalField(
        label="Change",
        max_digits=12,
        decimal_places=3,
        help_text="In the lot's unit: -2 takes two away; a recount may add.",
    )
    reason = reason_field("Reason")


class RecallForm(ESignForm):
    reason = reason_field("Reason", help_text="The supplier's notice or the finding.")


# --- views ---


@login_required
def lot_list(request):
    """All three kinds of lot on one page; a section per kind the user may see."""
    kinds = lot_kinds_allowed(request.user, "view")
    if not kinds:
        deny("batches.view_vectorlot")
    sections = lot_sections(
        kinds,
        may_add=set(lot_kinds_allowed(request.user, "add")),
        today=timezone.localdate(),
    )
    return render(request, "lots/list.html", {"sections": sections})


@login_required
@require_http_methods(["GET", "POST"])
def lot_register(request, kind):
    require(request, lot_permission(kind, "add"))
    form = LOT_REGISTER_FORMS[kind](request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        lot = call_service(
            form,
            lambda: materials.material_lot_register(
                actor=request.user, kind=kind, **form.cleaned_data
            ),
        )
        if lot is not None:
            messages.success(
                request, f"{capfirst(str(lot))} registered; it is quarantined until QA releases it."
            )
            return redirect("lot-detail", kind=kind, lot_number=lot.lot_number)
    return render(
        request, "lots/register.html", {"form": form, "kind": kind, "title": LOT_KIND_TITLES[kind]}
    )


@login_required
@require_http_methods(["GET", "POST"])
def lot_detail(request, kind, lot_number):
    """GET shows the lot; POST is QA's signed disposition (release, reject, quarantine)."""
    require(request, lot_permission(kind, "view"))
    lot = get_object_or_404(lots_for_page(kind), lot_number=url_text(lot_number))
    form = DispositionForm(auto_id="disposition-%s")
    if request.method == "POST":
        require(request, lot_permission(kind, "disposition"))
        form = DispositionForm(request.POST, auto_id="disposition-%s")
        if form.is_valid():
            done = call_service(
                form,
                lambda: materials.material_lot_disposition(
                    actor=request.user, request=request, lot=lot, **form.cleaned_data
                ),
            )
            if done is not None:
                messages.success(
                    request, f"{capfirst(str(done))} is now {done.get_status_display().lower()}."
                )
                return redirect("lot-detail", kind=kind, lot_number=done.lot_number)
    return _lot_page(request, kind, lot, form=form)


def _lot_page(request, kind, lot, **forms_given):
    """The lot's page: its record, stock, certificates, adjustments and QA's actions; a
    refused action shows again with its form's errors."""
    user = request.user
    context = {
        "lot": lot,
        "kind": kind,
        "title": LOT_KIND_TITLES[kind],
        "usability": lot_usability(lot),
        "details": lot_details(lot),
        "signatures": signature_rows(lot),
        "history": history_rows(audit_history(lot), LOT_MODELS[kind]),
        "can_disposition": actor_may(user, lot_permission(kind, "disposition"))
        and lot.status != LotStatus.RECALLED,
        "can_upload": actor_may(user, "batches.upload_certificate"),
        "can_adjust": actor_may(user, "batches.adjust_stock"),
        "can_record_irradiation": kind == "feeder" and actor_may(user, RECORD_IRRADIATION),
        "certificates": lot_certificates(lot),
        "adjustments": lot_adjustments(lot),
        "form": DispositionForm(auto_id="disposition-%s"),
        "certificate_form": CertificateForm(auto_id="certificate-%s"),
        "adjustment_form": AdjustmentForm(auto_id="adjustment-%s"),
        **forms_given,
    }
    return render(request, "lots/detail.html", context)


def _lot(kind, lot_number):
    return get_object_or_404(lots_for_page(kind), lot_number=url_text(lot_number))


@login_required
@require_http_methods(["POST"])
def lot_certificate_upload(request, kind, lot_number):
    require(request, "batches.upload_certificate")
    lot = _lot(kind, lot_number)
    form = CertificateForm(request.POST, request.FILES, auto_id="certificate-%s")
    if form.is_valid():
        upload = form.cleaned_data["file"]
        done = call_service(
            form,
            lambda: inventory.lot_certificate_upload(
                actor=request.user, lot=lot, filename=upload.name, data=upload.read()
            ),
        )
        if done is not None:
            messages.success(request, f"Certificate {done.filename} kept (SHA-256 {done.sha256}).")
            return redirect("lot-detail", kind=kind, lot_number=lot.lot_number)
    return _lot_page(request, kind, lot, certificate_form=form)


@login_required
def lot_certificate_file(request, kind, lot_number, pk):
    require(request, "batches.view_lotcertificate")
    lot = _lot(kind, lot_number)
    certificate = get_object_or_404(lot_certificates(lot).defer(None), pk=pk)
    content_type = mimetypes.guess_type(certificate.filename)[0] or "application/octet-stream"
    response = HttpResponse(bytes(certificate.content), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{certificate.filename}"'
    return response


@login_required
@require_http_methods(["POST"])
def lot_adjust(request, kind, lot_number):
    require(request, "batches.adjust_stock")
    lot = _lot(kind, lot_number)
    form = AdjustmentForm(request.POST, auto_id="adjustment-%s")
    if form.is_valid():
        done = call_service(
            form,
            lambda: inventory.lot_stock_adjust(actor=request.user, lot=lot, **form.cleaned_data),
        )
        if done is not None:
            messages.success(
                request, f"Stock adjusted: {done.on_hand_after.normalize():f} on hand."
            )
            return redirect("lot-detail", kind=kind, lot_number=lot.lot_number)
    return _lot_page(request, kind, lot, adjustment_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def lot_recall(request, kind, lot_number):
    """GET lists every batch that used the lot; POST is QA's signed recall."""
    require(request, lot_permission(kind, "view"))
    lot = _lot(kind, lot_number)
    form = RecallForm(auto_id="recall-%s")
    if request.method == "POST":
        require(request, lot_permission(kind, "disposition"))
        form = RecallForm(request.POST, auto_id="recall-%s")
        if form.is_valid():
            done = call_service(
                form,
                lambda: inventory.material_lot_recall(
                    actor=request.user, request=request, lot=lot, **form.cleaned_data
                ),
            )
            if done is not None:
                messages.success(request, f"{capfirst(str(done))} is recalled.")
                return redirect("lot-recall", kind=kind, lot_number=done.lot_number)
    return render(
        request,
        "lots/recall.html",
        {
            "lot": lot,
            "kind": kind,
            "title": LOT_KIND_TITLES[kind],
            "uses": lot_uses(lot),
            "form": form,
            "can_recall": actor_may(request.user, lot_permission(kind, "disposition"))
            and lot.status != LotStatus.RECALLED,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def feeder_irradiation(request, lot_number):
    """The irradiation of a feeder lot (dose, day, irradiator); a step may use the lot only
    once it is recorded, and the step's dose is checked against it."""
    require(request, RECORD_IRRADIATION)
    lot = get_object_or_404(FeederLot, lot_number=url_text(lot_number))
    form = IrradiationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        record = call_service(
            form,
            lambda: feeder_irradiation_record(
                actor=request.user, feeder_lot=lot, **form.cleaned_data
            ),
        )
        if record is not None:
            messages.success(request, f"Irradiation of feeder lot {lot.lot_number} recorded.")
            return redirect("lot-detail", kind="feeder", lot_number=lot.lot_number)
    return render(request, "lots/irradiation.html", {"form": form, "lot": lot})
