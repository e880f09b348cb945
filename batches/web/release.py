"""Release pages (DESIGN section 6): QA's release queue (formulation into bags, the batch
record review, the release or rejection), the CoA and bag label PDFs, the list of bags from
release to infusion, a bag's page with its hand-offs (each confirmed by both parties'
passwords), and the dose calculator of a recipient.

A conflict (someone acted first) is a 409 page that says so.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from batches import documents, selectors
from batches.models import (
    Batch,
    CustodyEvent,
    DoseUnit,
    DoseUnitStatus,
    Presentation,
    ProtocolDoseLevel,
)
from batches.presenters.bags import (
    BAG_LIST_STATUSES,
    bag_checks,
    bag_custody,
    bag_label_prints,
    bags_for_page,
)
from batches.presenters.bags import bag_list as presenters_bag_list
from batches.presenters.bedside import infusion_of
from batches.presenters.release_queue import batches_for_release, queue_rows, recall_rows
from batches.services import bedside, labels, release
from carnk_mfg.errors import Conflict
from carnk_mfg.fields import validators_of
from carnk_mfg.forms import ESignForm, datetime_field, text_field, textarea_field
from carnk_mfg.notation import lab_number_text
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service, form_messages, now_minute, require, url_text

BAG_ROWS = 6
BAGS_PER_PAGE = 50
RELEASE_MEANINGS = '{"release": "Released", "reject": "Rejected"}'

# --- formulation, record review, release ---


class FormulateForm(ESignForm):
    """Up to BAG_ROWS bags (a row left blank is no bag); each bag's expiry follows from the
    product's stability for its presentation."""

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

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # a form's clean hands back its cleaned data
        bags: list[dict[str, Any]] = []
        for i in range(BAG_ROWS):
            # Case kept: a division's second character is a small letter or 0 (ISBT 128).
            division = (data.get(f"bags.{i}.division") or "").strip()
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
        }


class RecordReviewForm(ESignForm):
    pass


class ReleaseDecisionForm(ESignForm):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("release", "Release"), ("reject", "Reject")],
        widget=forms.RadioSelect,
    )
    reason = textarea_field("Reason", help_text="Recorded with your signature.")
    conditional = forms.BooleanField(
        required=False,
        label="Conditional release",
        help_text="Tests the spec lets release pending (e.g. 14-day sterility) are still open; "
        "the release stays open until they are reviewed in spec.",
    )
    field_order = ["decision", "reason", "conditional", "password"]


# --- dose ---


class _BagChoice(forms.ModelChoiceField):
    def label_from_instance(self, bag):
        return (
            f"{bag.batch.din} {bag.division} · {bag.volume_ml} mL · "
            f"{lab_number_text(bag.car_nk_cells)} CAR-NK cells · expires {bag.expires_at:%Y-%m-%d}"
        )


class DoseChoiceForm(forms.Form):
    """A released bag and a protocol dose level (GET: calculate; POST: assign)."""

    dose_unit = _BagChoice(
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
        dose_unit = self.fields["dose_unit"]
        assert isinstance(dose_unit, forms.ModelChoiceField)
        dose_unit.queryset = DoseUnit.objects.filter(status=DoseUnitStatus.RELEASED).select_related(
            "batch"
        )


class AssignForm(DoseChoiceForm):
    reason = text_field("Reason", 200, initial="Dose assigned")


# --- bags to the bedside ---


def _party_password(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


class HandoffForm(forms.Form):
    """A hand-off: both parties confirm it, each with their own username and password."""

    kind = forms.ChoiceField(
        label="Hand-off",
        choices=[("issue", "Issue"), ("ship", "Ship"), ("receive", "Receive")],
        widget=forms.RadioSelect,
        initial="issue",
    )
    released_by = text_field("Released by (username)", 150)
    released_by_password = _party_password("Password of the releasing party")
    received_by = text_field("Received by (username)", 150)
    received_by_password = _party_password("Password of the receiving party")
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


# --- the release queue ---


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _queue_forms(batch: Batch, refused: tuple | None) -> dict:
    """The three signed forms of a queue row; a refused one (batch id, name, form) bound."""
    forms_ = {
        "formulate": FormulateForm(auto_id=f"formulate-{batch.pk}-%s"),
        "review": RecordReviewForm(auto_id=f"review-{batch.pk}-%s"),
        "decide": ReleaseDecisionForm(auto_id=f"decide-{batch.pk}-%s"),
    }
    if refused is not None and refused[0] == batch.pk:
        forms_[refused[1]] = refused[2]
    return forms_


def _queue_page(request, *, status=200, conflict="", refused=None):
    """The queue; a refused action passes (batch id, form name, bound form) to show in place,
    or at the top when its batch has left the queue meanwhile."""
    user = request.user
    rows = queue_rows(selectors.release_queue())
    for row in rows:
        row["forms"] = _queue_forms(row["batch"], refused)
    left = refused is not None and refused[0] not in {row["batch"].pk for row in rows}
    can_formulate = actor_may(user, "batches.formulate_doseunit")
    can_release = actor_may(user, "batches.release_batch")
    return render(
        request,
        "release/queue.html",
        {
            "rows": rows,
            "conditional_releases": list(selectors.open_conditional_releases()),
            "recalls": recall_rows(),
            "conflict": conflict,
            "refused": form_messages(refused[2]) if left else [],
            "can_formulate": can_formulate,
            "can_release": can_release,
            "release_meanings": RELEASE_MEANINGS,
            "needs_esign": bool(rows) and (can_formulate or can_release),
        },
        status=status,
    )


@allowed_to("batches.view_batch")
def release_queue(request):
    return _queue_page(request)


def _batch_or_404(lot_number: str) -> Batch:
    return get_object_or_404(batches_for_release(), lot_number=url_text(lot_number))


def _queue_action(request, lot_number, name, form_class, call, done):
    batch = _batch_or_404(lot_number)
    form = form_class(request.POST, auto_id=f"{name}-{batch.pk}-%s")
    if form.is_valid():
        try:
            result = call_service(
                form,
                lambda: call(batch, form),
                aliases={"to_state": "__all__", "expected_state": "__all__", "batch": "__all__"},
            )
        except Conflict as exc:
            return _queue_page(request, status=409, conflict=str(exc))
        if result is not None:
            messages.success(request, done.format(batch=batch))
            return redirect("release-queue")
    return _queue_page(request, refused=(batch.pk, name, form))


@allowed_to("batches.formulate_doseunit")
@require_POST
def release_formulate(request, lot_number):
    return _queue_action(
        request,
        lot_number,
        "formulate",
        FormulateForm,
        lambda batch, form: release.dose_units_formulate(
            actor=request.user, request=request, batch=batch, **form.service_arguments()
        ),
        "Batch {batch.lot_number} formulated into bags (signed).",
    )


@allowed_to("batches.release_batch")
@require_POST
def release_review(request, lot_number):
    return _queue_action(
        request,
        lot_number,
        "review",
        RecordReviewForm,
        lambda batch, form: release.batch_record_review(
            actor=request.user, request=request, batch=batch, **form.cleaned_data
        ),
        "Batch record of {batch.lot_number} reviewed (signed).",
    )


@allowed_to("batches.release_batch")
@require_POST
def release_decide(request, lot_number):
    return _queue_action(
        request,
        lot_number,
        "decide",
        ReleaseDecisionForm,
        lambda batch, form: release.batch_release_decide(
            actor=request.user, request=request, batch=batch, **form.cleaned_data
        ),
        "Release decision on batch {batch.lot_number} recorded (signed).",
    )


@allowed_to("batches.view_batch")
def release_coa(request, lot_number):
    batch = _batch_or_404(lot_number)
    try:
        coa = selectors.coa_for(batch)
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("batch-detail", lot_number=batch.lot_number)
    return _pdf(documents.certificate_of_analysis_pdf(coa), f"CoA-{batch.lot_number}.pdf")


# --- bags ---


def _bag_or_404(pk: int) -> DoseUnit:
    return get_object_or_404(bags_for_page(), pk=pk)


@allowed_to("batches.view_doseunit")
def bag_label(request, pk):
    unit = _bag_or_404(pk)
    try:
        content = documents.bag_labels_pdf([selectors.bag_label_for(unit)])
    except ValueError as exc:  # LabelOverflowError: the content does not fit the label
        messages.error(request, f"The label cannot be printed: {exc}")
        return redirect("bag-detail", pk=unit.pk)
    return _pdf(content, f"label-{unit.batch.din}-{unit.division}.pdf")


class LabelPrintForm(forms.Form):
    reason = text_field("Reason", max_length=500, initial="Bag label printed")


class BagFilter(forms.Form):
    """The bag list's filters (GET, so a filtered list can be bookmarked)."""

    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Released to infused")] + [(s.value, s.label) for s in BAG_LIST_STATUSES],
    )
    recipient = forms.CharField(label="Recipient (study subject ID)", required=False, max_length=40)


@allowed_to("batches.view_doseunit")
def bag_list(request):
    form = BagFilter(request.GET or None)
    chosen = form.cleaned_data if form.is_valid() else {}
    bags = presenters_bag_list(
        status=chosen.get("status", ""), recipient=(chosen.get("recipient") or "").strip()
    )
    page = Paginator(bags, BAGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "release/bag_list.html",
        {"form": form, "page": page, "bags": page.object_list},
    )


def _bag_page(request, unit: DoseUnit, handoff_form=None, print_form=None):
    user = request.user
    return render(
        request,
        "release/bag_detail.html",
        {
            "bag": unit,
            "coi_identifier": selectors.chain_of_identity(unit.batch, unit.recipient_id),
            "custody": bag_custody(unit),
            "checks": bag_checks(unit),
            "infusion": infusion_of(unit),
            "can_handoff": actor_may(user, "batches.hand_off_dose"),
            "can_print_label": actor_may(user, labels.PRINT_LABEL),
            "print_form": print_form or LabelPrintForm(auto_id="print-%s"),
            "label_prints": bag_label_prints(unit),
            "handoff_form": handoff_form
            or HandoffForm(
                auto_id="handoff-%s",
                initial={"released_by": user.get_username(), "occurred_at": now_minute()},
            ),
        },
    )


@allowed_to("batches.view_doseunit")
def bag_detail(request, pk):
    return _bag_page(request, _bag_or_404(pk))


@allowed_to("batches.hand_off_dose")
@require_POST
def bag_handoff(request, pk):
    unit = _bag_or_404(pk)
    form = HandoffForm(request.POST, auto_id="handoff-%s")
    if form.is_valid():
        event = call_service(
            form,
            lambda: bedside.dose_custody(
                actor=request.user, request=request, dose_unit=unit, **form.cleaned_data
            ),
        )
        if event is not None:
            messages.success(request, f"Hand-off recorded: {event.kind} of {unit}.")
            return redirect("bag-detail", pk=unit.pk)
    return _bag_page(request, unit, handoff_form=form)


@allowed_to(labels.PRINT_LABEL)
@require_POST
def bag_label_print(request, pk):
    unit = _bag_or_404(pk)
    form = LabelPrintForm(request.POST, auto_id="print-%s")
    if form.is_valid():
        try:
            job = call_service(
                form,
                lambda: labels.dose_label_print(
                    actor=request.user, dose_unit=unit, request=request, **form.cleaned_data
                ),
            )
        except labels.LabelPrinterUnavailable as exc:
            messages.error(request, str(exc))
            return redirect("bag-detail", pk=unit.pk)
        if job is not None:
            messages.success(request, f"Label of {unit} sent to the label printer {job.printer}.")
            return redirect("bag-detail", pk=unit.pk)
    return _bag_page(request, unit, print_form=form)


# --- the dose calculator ---


# The calculation reads the recipient's weight: for those who see recipients (not couriers).
@allowed_to("batches.view_recipient")
@require_http_methods(["GET", "POST"])
def dose_calculator(request, subject_id):
    """GET calculates the dose of a chosen bag and level; POST assigns the bag at that dose."""
    recipient = get_object_or_404(selectors.recipient_list(), subject_id=url_text(subject_id))
    if request.method != "POST":
        initial = {"dose_level": recipient.dose_level} if recipient.dose_level else None
        return _dose_page(request, recipient, DoseChoiceForm(request.GET or None, initial=initial))
    require(request, "batches.assign_dose")
    form = AssignForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        unit = call_service(
            form,
            lambda: release.dose_assign(
                actor=request.user,
                dose_unit=data["dose_unit"],
                recipient=recipient,
                level_code=data["dose_level"].code,
                reason=data["reason"],
            ),
        )
        if unit is not None:
            assert unit.dose_level is not None  # the level it was just assigned at
            messages.success(
                request,
                f"{unit} assigned to {recipient.subject_id} at {unit.dose_level.code}: "
                f"{unit.dose_volume_ml} mL.",
            )
            return redirect("bag-detail", pk=unit.pk)
    return _dose_page(request, recipient, form)


def _dose_page(request, recipient, form: DoseChoiceForm):
    """The calculation for a valid choice, and the assignment form when it may be made."""
    can_assign = actor_may(request.user, "batches.assign_dose")
    calc = None
    if form.is_bound and form.is_valid():
        calc = release.dose_calculate(
            recipient=recipient,
            dose_unit=form.cleaned_data["dose_unit"],
            level=form.cleaned_data["dose_level"],
        )
    assign_form = None
    if calc is not None and can_assign and not calc.refusals:
        assign_form = (
            form
            if isinstance(form, AssignForm)
            else AssignForm(
                initial={
                    "dose_unit": form.cleaned_data["dose_unit"].pk,
                    "dose_level": form.cleaned_data["dose_level"].code,
                }
            )
        )
    return render(
        request,
        "release/dose_calculator.html",
        {
            "recipient": recipient,
            "weight": selectors.current_weight(recipient),
            "form": form,
            "calc": calc,
            "can_assign": can_assign,
            "assign_form": assign_form,
        },
    )
