"""Server-rendered pages: cord blood units, material lots, recipients, and the dashboard.

Views stay thin: selectors read, services write. A view checks the permission with
`actor_may` (403 without it), hands a valid form's data to one service, and turns the
service's ValidationError back into form errors, so no input gives a server error.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_http_methods, require_POST

from batches import selectors
from batches.forms import (
    LOT_REGISTER_FORMS,
    AllocateForm,
    CordBloodUnitRegisterForm,
    CordBloodUnitSearch,
    DiscardForm,
    DispositionForm,
    EligibilityForm,
    MoveForm,
    RecipientRegisterForm,
    WeightForm,
)
from batches.models import CordBloodUnit, LotStatus, Recipient, UnitStatus, WeightMeasurement
from batches.services import donor, materials, recipients
from batches.services.materials import LOT_MODELS, lot_usability
from carnk_mfg.audit import audit_history, references_trail
from carnk_mfg.roles import actor_may
from carnk_mfg.web import (
    allowed_to,
    call_service,
    deny,
    history_rows,
    require,
    signature_rows,
    url_text,
)

UNITS_PER_PAGE = 25
RECIPIENTS_PER_PAGE = 50
EXPIRY_WARNING_DAYS = 30
LOT_KIND_TITLES = {"vector": "Vector lots", "feeder": "Feeder cell lots", "reagent": "Reagent lots"}
DIN_SHAPE = re.compile(r"[A-Z0-9]{13}")


# --- dashboard ---


@login_required
def dashboard(request):
    """Home page contents: units by status, lots expiring soon, links for the user's roles."""
    user = request.user
    context = {"unit_counts": None, "expiring_lots": None}
    if actor_may(user, "batches.view_cordbloodunit"):
        counted = dict(
            selectors.cord_blood_unit_list()
            .order_by()
            .values_list("status")
            .annotate(n=Count("id"))
        )
        context["unit_counts"] = [
            {"status": value, "label": label, "count": counted.get(value, 0)}
            for value, label in UnitStatus.choices
        ]
        context["unit_total"] = sum(counted.values())
    # Lots that run out within the warning window, of the kinds this user may see.
    kinds = _lot_kinds_allowed(user, "view")
    if kinds:
        today = timezone.localdate()
        horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
        expiring = [
            {"kind": kind, "lot": lot}
            for kind in kinds
            for lot in LOT_MODELS[kind]
            .objects.filter(expiry_date__range=(today, horizon))
            .exclude(status=LotStatus.REJECTED)
        ]
        context["expiring_lots"] = sorted(expiring, key=lambda row: row["lot"].expiry_date)
    context["expiry_warning_days"] = EXPIRY_WARNING_DAYS
    context.update(_quick_links(user))
    return render(request, "home.html", context)


def _quick_links(user) -> dict:
    return {
        "can_register_unit": actor_may(user, "batches.add_cordbloodunit"),
        "can_register_lot": _lot_kinds_allowed(user, "add"),
        "can_register_recipient": actor_may(user, "batches.add_recipient"),
        "may_determine_eligibility": actor_may(user, "batches.determine_eligibility"),
    }


def _lot_kinds_allowed(user, action: str) -> list[str]:
    return [
        kind
        for kind, model in LOT_MODELS.items()
        if actor_may(user, f"batches.{action}_{model._meta.model_name}")
    ]


# --- cord blood units ---


@allowed_to("batches.view_cordbloodunit")
def unit_list(request):
    units = selectors.cord_blood_unit_list()
    banks = sorted(set(units.order_by().values_list("source_bank", flat=True).distinct()))
    search = CordBloodUnitSearch(request.GET or None, queryset=units, banks=banks)
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
    units = selectors.cord_blood_unit_list().select_related(
        "registered_by", "eligibility_determined_by", "urgent_medical_need"
    )
    return get_object_or_404(units, din=din)


@allowed_to("batches.view_cordbloodunit")
def unit_detail(request, din):
    return _unit_page(request, _unit_or_404(din))


def _unit_page(request, unit: CordBloodUnit, **bound_forms):
    """The unit page; a refused action passes its bound form so its errors show in place."""
    user = request.user
    open_unit = unit.status not in (UnitStatus.CONSUMED, UnitStatus.DISCARDED)
    context = {
        "unit": unit,
        "signatures": signature_rows(unit),
        "history": history_rows(audit_history(unit), CordBloodUnit),
        # A JSON field: anything but a mapping (e.g. typed in the admin) shows as no results.
        "markers": sorted(unit.maternal_markers.items())
        if isinstance(unit.maternal_markers, dict)
        else [],
        "can_determine": actor_may(user, "batches.determine_eligibility"),
        "can_allocate": actor_may(user, "batches.allocate_cordbloodunit"),
        "can_move": actor_may(user, "batches.store_cordbloodunit"),
        "can_discard": actor_may(user, "batches.discard_cordbloodunit"),
        "eligibility_open": unit.status
        in (UnitStatus.RECEIVED, UnitStatus.QUARANTINED, UnitStatus.AVAILABLE),
        "allocation_open": unit.status in (UnitStatus.AVAILABLE, UnitStatus.QUARANTINED),
        "needs_urgent_justification": not unit.usable_without_urgent_need,
        "unit_open": open_unit,
        "eligibility_form": EligibilityForm(auto_id="eligibility-%s"),
        "allocate_form": AllocateForm(auto_id="allocate-%s"),
        "move_form": MoveForm(
            auto_id="move-%s",
            initial={name: getattr(unit, name) for name in ("freezer", "rack", "box", "position")},
        ),
        "discard_form": DiscardForm(auto_id="discard-%s"),
    }
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


# --- material lots ---


def _lot_permission(kind: str, action: str) -> str:
    return f"batches.{action}_{LOT_MODELS[kind]._meta.model_name}"


@login_required
def lot_list(request):
    """All three kinds of lot on one page; a section per kind the user may see."""
    kinds = _lot_kinds_allowed(request.user, "view")
    if not kinds:
        deny("batches.view_vectorlot")
    may_add = set(_lot_kinds_allowed(request.user, "add"))
    today = timezone.localdate()
    sections = []
    for kind in kinds:
        lots = LOT_MODELS[kind].objects.all()
        sections.append(
            {
                "kind": kind,
                "title": LOT_KIND_TITLES[kind],
                "can_register": kind in may_add,
                "rows": [{"lot": lot, "usability": lot_usability(lot, on=today)} for lot in lots],
            }
        )
    return render(request, "lots/list.html", {"sections": sections})


@login_required
@require_http_methods(["GET", "POST"])
def lot_register(request, kind):
    require(request, _lot_permission(kind, "add"))
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
    require(request, _lot_permission(kind, "view"))
    model = LOT_MODELS[kind]
    lot = get_object_or_404(
        model.objects.select_related("registered_by", "dispositioned_by"),
        lot_number=url_text(lot_number),
    )
    can_disposition = actor_may(request.user, _lot_permission(kind, "disposition"))
    form = DispositionForm(auto_id="disposition-%s")
    if request.method == "POST":
        require(request, _lot_permission(kind, "disposition"))
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
    return render(
        request,
        "lots/detail.html",
        {
            "lot": lot,
            "kind": kind,
            "title": LOT_KIND_TITLES[kind],
            "usability": lot_usability(lot),
            "details": _lot_details(lot),
            "signatures": signature_rows(lot),
            "history": history_rows(audit_history(lot), model),
            "can_disposition": can_disposition,
            "form": form,
        },
    )


def _lot_details(lot) -> list[tuple[str, object]]:
    """The kind-specific fields of a lot, as label/value pairs."""
    shared = {
        "id",
        "lot_number",
        "manufacturer",
        "received_on",
        "expiry_date",
        "status",
        "status_reason",
        "dispositioned_by",
        "dispositioned_at",
        "registered_by",
        "registered_at",
    }
    rows = []
    for field in lot._meta.concrete_fields:
        if field.name in shared:
            continue
        if field.choices:
            value = getattr(lot, f"get_{field.name}_display")()
        else:
            value = getattr(lot, field.name)
        rows.append((capfirst(str(field.verbose_name)), value))
    return rows


# --- recipients ---


@allowed_to("batches.view_recipient")
def recipient_list(request):
    paginator = Paginator(selectors.recipient_list(), RECIPIENTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [{"recipient": r, "weight": selectors.current_weight(r)} for r in page]
    return render(
        request,
        "recipients/list.html",
        {
            "page": page,
            "rows": rows,
            "can_register": actor_may(request.user, "batches.add_recipient"),
        },
    )


@allowed_to("batches.add_recipient")
@require_http_methods(["GET", "POST"])
def recipient_register(request):
    form = RecipientRegisterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        recipient = call_service(
            form,
            lambda: recipients.recipient_register(actor=request.user, **form.cleaned_data),
            # The first weight is checked by the weight rule, which names its own fields.
            aliases={"measured_on": "weight_measured_on"},
        )
        if recipient is not None:
            messages.success(request, f"{recipient} registered.")
            return redirect(recipient)
    return render(request, "recipients/register.html", {"form": form})


@allowed_to("batches.view_recipient")
@require_http_methods(["GET", "POST"])
def recipient_detail(request, subject_id):
    """GET shows the recipient; POST records a body weight."""
    recipient = get_object_or_404(selectors.recipient_list(), subject_id=url_text(subject_id))
    can_record_weight = actor_may(request.user, "batches.record_weight")
    form = WeightForm(auto_id="weight-%s", initial={"measured_on": timezone.localdate()})
    if request.method == "POST":
        require(request, "batches.record_weight")
        form = WeightForm(request.POST, auto_id="weight-%s")
        if form.is_valid():
            weight = call_service(
                form,
                lambda: recipients.recipient_record_weight(
                    actor=request.user, recipient=recipient, **form.cleaned_data
                ),
            )
            if weight is not None:
                messages.success(request, f"Weight {weight} recorded for {recipient.subject_id}.")
                return redirect(recipient)
    return render(
        request,
        "recipients/detail.html",
        {
            "recipient": recipient,
            "weights": recipient.weights.select_related("recorded_by").order_by(
                "-measured_on", "-recorded_at"
            ),
            "history": history_rows(references_trail(recipient), Recipient, WeightMeasurement),
            "can_record_weight": can_record_weight,
            "form": form,
        },
    )
