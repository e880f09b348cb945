"""Equipment pages: the list with due dates (overdue highlighted), a piece's page with its
history, and the forms to register it, record a calibration, maintenance or failure (whose
page shows the batches it may have touched), and change its status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from batches.models import (
    Equipment,
    EquipmentFailure,
    EquipmentKind,
    EquipmentStatus,
    ServiceResult,
)
from batches.selectors.equipment import equipment_list, failure_impact
from batches.services import equipment as service
from carnk_mfg.forms import date_field, text_field, textarea_field
from carnk_mfg.roles import actor_may
from carnk_mfg.web import call_service, require


class RegisterForm(forms.Form):
    identifier = text_field("Identifier (barcode)", 40)
    name = text_field("Name", 120)
    kind = forms.ChoiceField(label="Kind", choices=EquipmentKind.choices)
    location = text_field("Location", 120, required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=EquipmentStatus.choices)
    reason = textarea_field("Reason")


class ServiceForm(forms.Form):
    performed_on = date_field("Performed on")
    next_due_on = date_field("Next due on")
    performed_by = text_field("Performed by", 120)
    result = forms.ChoiceField(label="Result", choices=ServiceResult.choices)
    notes = textarea_field("Notes", required=False)
    certificate = forms.FileField(label="Certificate or report", required=False)

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        upload = data.pop("certificate", None)
        if upload is not None:
            data |= {"certificate": upload.read(), "certificate_filename": upload.name or ""}
        return data


class MaintenanceForm(ServiceForm):
    description = textarea_field("What was done", required=False)


class FailureForm(forms.Form):
    found_on = date_field("Found on")
    description = textarea_field("Description")
    last_good_check_on = date_field(
        "Last good check",
        required=False,
        help_text="Empty: its last passed calibration or maintenance.",
    )


@login_required
def equipment_overview(request):
    """Every piece with its status and due dates; those a step may not use today stand out."""
    require(request, "batches.view_equipment")
    today = timezone.localdate()
    rows = [
        {"piece": piece, "usable": service.equipment_usability(piece, on=today)}
        for piece in equipment_list()
    ]
    return render(
        request,
        "equipment/list.html",
        {"rows": rows, "today": today, "may_register": actor_may(request.user, service.MANAGE)},
    )


@login_required
def equipment_detail(request, identifier):
    """A piece, whether a step may use it today, and its calibrations, maintenance and
    failures."""
    require(request, "batches.view_equipment")
    piece = get_object_or_404(equipment_list(), identifier=identifier)
    return render(
        request,
        "equipment/detail.html",
        {
            "piece": piece,
            "usable": service.equipment_usability(piece),
            "calibrations": piece.calibrations.defer("certificate"),
            "maintenance": piece.maintenance.defer("certificate"),
            "failures": piece.failures.all(),
            "may_manage": actor_may(request.user, service.MANAGE),
            "may_service": actor_may(request.user, service.SERVICE),
            "may_report": actor_may(request.user, service.FAILURE),
        },
    )


@login_required
def equipment_failure(request, pk):
    """A failure and the batches that used the equipment since its last good check."""
    require(request, "batches.view_equipmentfailure")
    failure = get_object_or_404(EquipmentFailure.objects.select_related("equipment"), pk=pk)
    return render(
        request,
        "equipment/failure.html",
        {"failure": failure, "impact": failure_impact(failure)},
    )


def _form_page(
    request,
    *,
    permission: str,
    form_class: type[forms.Form],
    title: str,
    call: Callable[[Any], Any],
    done: Callable[[Any], Any],
    piece: Equipment | None = None,
):
    """GET shows the form; POST calls the service, its refusal shown on the form."""
    require(request, permission)
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        result = call_service(form, lambda: call(form))
        if result is not None:
            messages.success(request, f"{title}: {result}.")
            return done(result)
    return render(request, "equipment/form.html", {"form": form, "title": title, "piece": piece})


@login_required
@require_http_methods(["GET", "POST"])
def equipment_register(request):
    return _form_page(
        request,
        permission=service.MANAGE,
        form_class=RegisterForm,
        title="Register equipment",
        call=lambda form: service.equipment_register(actor=request.user, **form.cleaned_data),
        done=lambda piece: redirect("equipment-detail", identifier=piece.identifier),
    )


def _piece_form(request, identifier, **kwargs):
    piece = get_object_or_404(Equipment, identifier=identifier)
    call = kwargs.pop("call")
    return _form_page(
        request,
        piece=piece,
        call=lambda form: call(form, piece),
        done=lambda _result: redirect("equipment-detail", identifier=piece.identifier),
        **kwargs,
    )


@login_required
@require_http_methods(["GET", "POST"])
def equipment_status(request, identifier):
    return _piece_form(
        request,
        identifier,
        permission=service.MANAGE,
        form_class=StatusForm,
        title="Change status",
        call=lambda form, piece: service.equipment_status_change(
            actor=request.user, equipment=piece, **form.cleaned_data
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def equipment_calibration(request, identifier):
    return _piece_form(
        request,
        identifier,
        permission=service.SERVICE,
        form_class=ServiceForm,
        title="Record a calibration",
        call=lambda form, piece: service.equipment_calibration_record(
            actor=request.user, equipment=piece, **form.service_arguments()
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def equipment_maintenance(request, identifier):
    return _piece_form(
        request,
        identifier,
        permission=service.SERVICE,
        form_class=MaintenanceForm,
        title="Record a maintenance",
        call=lambda form, piece: service.equipment_maintenance_record(
            actor=request.user, equipment=piece, **form.service_arguments()
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def equipment_failure_record(request, identifier):
    piece = get_object_or_404(Equipment, identifier=identifier)
    return _form_page(
        request,
        piece=piece,
        permission=service.FAILURE,
        form_class=FailureForm,
        title="Record a failure",
        call=lambda form: service.equipment_failure_record(
            actor=request.user, equipment=piece, **form.cleaned_data
        ),
        done=lambda failure: redirect("equipment-failure", pk=failure.pk),
    )
