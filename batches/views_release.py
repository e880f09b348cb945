"""Server-rendered pages of release and the bedside (DESIGN section 6): QA's release queue
(formulation into bags, the batch record review, the release or rejection), the CoA and bag
label PDFs, a bag's page with its hand-offs, the dose calculator of a recipient, and the
bedside check and infusion record for a tablet with a barcode scanner.

Views stay thin, as in `batches.views`: selectors read, one service writes per POST, and a
service's refusal comes back as form errors; a conflict (someone acted first) is a 409 page
that says so.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from batches import documents, selectors
from batches.forms_release import (
    AssignForm,
    BedsideScanForm,
    DoseChoiceForm,
    FormulateForm,
    HandoffForm,
    InfusionForm,
    RecordReviewForm,
    ReleaseDecisionForm,
)
from batches.models import (
    Batch,
    BedsideCheck,
    BedsideOutcome,
    CustodyEvent,
    DoseUnit,
)
from batches.services import bedside, release
from carnk_mfg.errors import Conflict
from carnk_mfg.people import printed_name
from carnk_mfg.roles import actor_may
from carnk_mfg.web import allowed_to, call_service, require, url_text

RELEASE_MEANINGS = '{"release": "Released", "reject": "Rejected"}'


def _now_minute():
    return timezone.now().replace(second=0, microsecond=0)


def pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- the release queue ---


def _qc_summary(readiness) -> dict:
    """The release tests of a batch counted by where they stand (for the queue's table)."""
    counts = {
        selectors.IN_SPEC: 0,
        selectors.PENDING: 0,
        selectors.OPEN: 0,
        selectors.OUT_OF_SPEC: 0,
    }
    for _test, status in readiness.tests:
        counts[status] += 1
    return {
        "total": len(readiness.tests),
        "in_spec": counts[selectors.IN_SPEC],
        "pending_allowed": counts[selectors.PENDING],
        "open": counts[selectors.OPEN],
        "out_of_spec": counts[selectors.OUT_OF_SPEC],
        "complete": bool(readiness.tests)
        and not counts[selectors.OPEN]
        and not counts[selectors.OUT_OF_SPEC],
    }


def _queue_page(request, *, status=200, conflict="", bound=None):
    """The queue; a refused action passes (batch id, form name, bound form) to show in place."""
    user = request.user
    batches = list(selectors.release_queue())
    refused = []
    rows = []
    for batch in batches:
        forms = {
            "formulate": FormulateForm(
                auto_id=f"formulate-{batch.pk}-%s",
                initial={"expires_at": _now_minute() + timedelta(days=180)},
            ),
            "review": RecordReviewForm(auto_id=f"review-{batch.pk}-%s"),
            "decide": ReleaseDecisionForm(auto_id=f"decide-{batch.pk}-%s"),
        }
        if bound is not None and bound[0] == batch.pk:
            forms[bound[1]] = bound[2]
        bags = list(batch.dose_units.all())
        readiness = selectors.release_readiness(
            batch, tests=batch.release_tests, bags=bags, deviations=list(batch.deviations.all())
        )
        rows.append(
            {
                "batch": batch,
                "readiness": readiness,
                "qc": _qc_summary(readiness),
                "open_deviations": readiness.open_deviations,
                "bags": bags,
                "forms": forms,
            }
        )
    if bound is not None and bound[0] not in {b.pk for b in batches}:
        refused = [m for errors in bound[2].errors.values() for m in errors]
    can_formulate = actor_may(user, "batches.formulate_doseunit")
    can_release = actor_may(user, "batches.release_batch")
    return render(
        request,
        "release/queue.html",
        {
            "rows": rows,
            "conditional_releases": list(selectors.open_conditional_releases()),
            "recalls": [
                {
                    "recall": recall,
                    "raised_by": printed_name(recall.raised_by),
                    "lookback": list(recall.lookback.all()),
                }
                for recall in selectors.recalls()
            ],
            "conflict": conflict,
            "refused": refused,
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
    return get_object_or_404(
        Batch.objects.select_related("source_unit", "intended_recipient"),
        lot_number=url_text(lot_number),
    )


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
    return _queue_page(request, bound=(batch.pk, name, form))


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
    content = documents.certificate_of_analysis_pdf(selectors.coa_for(batch))
    return pdf(content, f"CoA-{batch.lot_number}.pdf")


# --- bags ---


def _bag_or_404(pk: int) -> DoseUnit:
    return get_object_or_404(
        DoseUnit.objects.select_related("batch__source_unit", "recipient", "dose_level"), pk=pk
    )


@allowed_to("batches.view_doseunit")
def bag_label(request, pk):
    unit = _bag_or_404(pk)
    try:
        content = documents.bag_labels_pdf([selectors.bag_label_for(unit)])
    except ValueError as exc:  # LabelOverflowError: the content does not fit the label
        messages.error(request, f"The label cannot be printed: {exc}")
        return redirect("bag-detail", pk=unit.pk)
    return pdf(content, f"label-{unit.batch.coi_identifier}-{unit.division}.pdf")


def _bag_page(request, unit: DoseUnit, handoff_form=None):
    user = request.user
    return render(
        request,
        "release/bag_detail.html",
        {
            "bag": unit,
            "custody": CustodyEvent.objects.filter(dose_unit=unit).select_related(
                "released_by", "received_by", "recorded_by"
            ),
            "checks": unit.bedside_checks.select_related("checked_by", "recipient"),
            "can_handoff": actor_may(user, "batches.issue_dose"),
            "handoff_form": handoff_form
            or HandoffForm(
                auto_id="handoff-%s",
                initial={"released_by": user.get_username(), "occurred_at": _now_minute()},
            ),
        },
    )


@allowed_to("batches.view_doseunit")
def bag_detail(request, pk):
    return _bag_page(request, _bag_or_404(pk))


@allowed_to("batches.issue_dose")
@require_POST
def bag_handoff(request, pk):
    unit = _bag_or_404(pk)
    form = HandoffForm(request.POST, auto_id="handoff-%s")
    if form.is_valid():
        event = call_service(
            form,
            lambda: bedside.dose_custody(actor=request.user, dose_unit=unit, **form.cleaned_data),
        )
        if event is not None:
            messages.success(request, f"Hand-off recorded: {event.kind} of {unit}.")
            return redirect("bag-detail", pk=unit.pk)
    return _bag_page(request, unit, handoff_form=form)


# --- the dose calculator ---


@allowed_to("batches.view_doseunit")
@require_http_methods(["GET", "POST"])
def dose_calculator(request, subject_id):
    recipient = get_object_or_404(selectors.recipient_list(), subject_id=url_text(subject_id))
    can_assign = actor_may(request.user, "batches.assign_dose")
    calc = None
    if request.method == "POST":
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
                messages.success(
                    request,
                    f"{unit} assigned to {recipient.subject_id} at {unit.dose_level.code}: "
                    f"{unit.dose_volume_ml} mL.",
                )
                return redirect("bag-detail", pk=unit.pk)
    else:
        initial = {"dose_level": recipient.dose_level} if recipient.dose_level else None
        form = DoseChoiceForm(request.GET or None, initial=initial)
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


# --- the bedside ---


def _bedside_page(request, *, scan_form=None, check=None, infusion_form=None, status=200):
    may_infuse = actor_may(request.user, "batches.record_infusion")
    if check is not None and check.outcome == BedsideOutcome.MATCH and infusion_form is None:
        now = _now_minute()
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


def _check_or_404(check_id: int) -> BedsideCheck:
    return get_object_or_404(
        BedsideCheck.objects.select_related("dose_unit__batch", "recipient", "checked_by"),
        pk=check_id,
    )


@allowed_to("batches.record_infusion")
@require_http_methods(["GET", "POST"])
def infusion_record(request, check_id):
    check = _check_or_404(check_id)
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
