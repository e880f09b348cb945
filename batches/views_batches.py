"""Server-rendered pages of the batch record (issue 3): the batch list with the work that is
due, planning a batch, and the batch page: header and lifecycle moves, a timeline of
everything that happened, the next step's form, counts, deviations and their QA disposition,
custody hand-offs, the growth curve, the batch's QC tests, its trail and its signatures.
Also the process templates and their signed QA approval.

Views stay thin, as in `batches.views`: selectors read, one service writes per POST, and a
service's refusal comes back as form errors. The batch page reads in a fixed number of
queries however many steps, counts or deviations the batch has.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from batches import ports, selectors
from batches.forms_batches import (
    BatchCreateForm,
    BatchSearch,
    CellCountForm,
    CustodyForm,
    DeviationDispositionForm,
    DeviationForm,
    StepForm,
    TemplateApproveForm,
    TransitionForm,
)
from batches.models import (
    COUNT_STATES,
    TERMINABLE_STATES,
    Batch,
    BatchState,
    CellCount,
    CustodyEvent,
    Deviation,
    DeviationState,
    ExecutedStep,
    ProcessTemplate,
    TemplateStatus,
    TemplateStep,
)
from batches.services import batch_record, lifecycle, templates
from batches.services.lifecycle import TRANSITIONS
from carnk_mfg import isbt128
from carnk_mfg.audit import audit_history
from carnk_mfg.errors import Conflict
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import actor_may
from carnk_mfg.signatures import signature_intact, signatures_for
from carnk_mfg.web import allowed_to, call_service, deny, history_rows, url_text

BATCHES_PER_PAGE = 25
S = BatchState

# How each lifecycle move is offered on the batch page: button text, what the signer
# confirms, and whether it is a destructive move.
TRANSITION_ACTIONS = {
    S.IN_PROCESS: ("Start manufacturing", "started manufacturing of", False),
    S.HARVESTED: ("Record harvest complete", "completed the harvest of", False),
    S.IN_QC: ("Send to QC", "sent to QC", False),
    S.TERMINATED: ("Terminate batch", "terminated", True),
}
# Badge colours of the shared stylesheet, by batch state.
STATE_BADGES = {
    S.PLANNED: "",
    S.IN_PROCESS: "allocated",
    S.HARVESTED: "allocated",
    S.IN_QC: "pending",
    S.RELEASED: "released",
    S.REJECTED: "rejected",
    S.RECALLED: "rejected",
    S.ON_HOLD: "quarantined",
    S.TERMINATED: "discarded",
}


def _now_minute():
    return timezone.now().replace(second=0, microsecond=0)


# --- what is due ---


def next_step_of(batch: Batch) -> TemplateStep | None:
    """The first template step not yet recorded, from the batch's prefetched steps (the
    same answer as `selectors.next_template_step`, without a query per batch)."""
    done = {step.template_step_id for step in batch.steps.all()}
    return next((s for s in batch.template.steps.all() if s.pk not in done), None)


def due_work(batch: Batch, now) -> dict:
    """The next step and whether it is due or late by its planned day after day 0."""
    step = next_step_of(batch)
    work = {"step": step, "status": "", "text": "", "due_at": None, "late_at": None}
    if batch.state not in (S.PLANNED, S.IN_PROCESS, S.ON_HOLD):
        work["text"] = "—"
        return work
    if step is None:
        work.update(status="done", text="All steps recorded")
        return work
    if batch.state == S.PLANNED:
        work.update(status="planned", text="Not started")
        return work
    if batch.day0_at is None:
        # Day 0 is the thaw itself: the first step is due as soon as manufacturing starts.
        work.update(status="due", text="Due now (day 0)")
    else:
        due_at = batch.day0_at + timedelta(days=step.planned_day)
        late_at = due_at + timedelta(days=step.late_after_days)
        work.update(due_at=due_at, late_at=late_at)
        if now > late_at:
            work.update(status="late", text=f"LATE: planned for day {step.planned_day}")
        elif now >= due_at:
            work.update(status="due", text=f"Due now (day {step.planned_day})")
        else:
            work.update(status="upcoming", text=f"Day {step.planned_day}")
    if batch.state == S.ON_HOLD:
        work["text"] += " · on hold until QA dispositions the deviation"
    return work


def culture_day(batch: Batch, now) -> int | None:
    if batch.day0_at is None:
        return None
    return max((now - batch.day0_at).days, 0)


# --- batch list and planning ---


@allowed_to("batches.view_batch")
def batch_list(request):
    batches = (
        selectors.batch_list()
        .prefetch_related(
            Prefetch("template__steps", queryset=TemplateStep.objects.order_by("order")),
            Prefetch(
                "steps",
                queryset=ExecutedStep.objects.only("id", "batch", "template_step").order_by(),
            ),
        )
        .order_by("-created_at", "-id")
    )
    search = BatchSearch(request.GET or None, queryset=batches)
    page = Paginator(search.qs, BATCHES_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        {
            "batch": batch,
            "badge": STATE_BADGES.get(batch.state, ""),
            "due": due_work(batch, now),
            "day": culture_day(batch, now),
        }
        for batch in page
    ]
    return render(
        request,
        "batches/list.html",
        {
            "search": search,
            "page": page,
            "rows": rows,
            "can_create": actor_may(request.user, "batches.add_batch"),
            "can_see_templates": actor_may(request.user, "batches.view_processtemplate"),
        },
    )


@allowed_to("batches.add_batch")
@require_http_methods(["GET", "POST"])
def batch_new(request):
    may_urgent = actor_may(request.user, "batches.allocate_cordbloodunit")
    if request.method == "POST":
        form = BatchCreateForm(request.POST, may_allocate_ineligible=may_urgent)
    else:
        unit = request.GET.get("unit", "")
        form = BatchCreateForm(
            initial={"source_unit": unit.strip().upper()[:13]} if unit else None,
            may_allocate_ineligible=may_urgent,
        )
    if request.method == "POST" and form.is_valid():
        batch = call_service(
            form,
            lambda: batch_record.batch_create(actor=request.user, **form.cleaned_data),
            # The allocation rule names the unit's fields; they concern the chosen unit.
            aliases={"eligibility": "source_unit", "status": "source_unit"},
        )
        if batch is not None:
            messages.success(
                request,
                f"Batch {batch.lot_number} planned (Chain of Identity {batch.coi_identifier}).",
            )
            return redirect(batch)
    return render(
        request,
        "batches/new.html",
        {
            "form": form,
            "may_urgent": may_urgent,
            "no_template": not ProcessTemplate.objects.filter(
                status=TemplateStatus.APPROVED
            ).exists(),
        },
    )


# --- the batch page ---


def _batch_or_404(lot_number: str) -> Batch:
    try:
        batch = selectors.batch_detail(url_text(lot_number))
    except Batch.DoesNotExist:
        raise Http404("No such batch.") from None
    # What the page shows beyond the selector's prefetch, still one query each.
    prefetch_related_objects(
        [batch],
        "counts__recorded_by",
        "deviations__dispositioned_by",
        "custody__recorded_by",
        Prefetch(
            "qc_tests",
            queryset=ports.qc_tests_marked_overdue(now=timezone.now()).order_by("due_at", "id"),
        ),
    )
    return batch


def _step_values(executed: ExecutedStep, params: list) -> list[dict]:
    values = executed.values or {}
    shown = []
    for param in params:
        value = values.get(param.code)
        outside = False
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = param.min_value, param.max_value
            outside = (low is not None and value < low) or (high is not None and value > high)
            value = f"{value:g}"
        shown.append(
            {
                "name": param.name,
                "value": "—" if value in (None, "") else value,
                "unit": param.unit,
                "range": param.range_text,
                "outside": outside,
            }
        )
    return shown


def _timeline(batch, *, params_by_step, step_signatures, series, unit_custody, trail) -> list:
    """Executed steps, counts, deviations (opened and dispositioned), custody hand-offs and
    state changes, merged in the order they happened."""
    entries = []
    for executed in batch.steps.all():
        entries.append(
            {
                "kind": "step",
                "at": executed.performed_at,
                "step": executed,
                "values": _step_values(executed, params_by_step.get(executed.template_step_id, [])),
                "materials": list(executed.materials.all()),
                "signatures": step_signatures.get(executed.pk, []),
            }
        )
    for point in series:
        entries.append({"kind": "count", "at": point["count"].measured_at, "point": point})
    for deviation in batch.deviations.all():
        entries.append({"kind": "deviation", "at": deviation.opened_at, "deviation": deviation})
        if deviation.dispositioned_at:
            entries.append(
                {"kind": "disposition", "at": deviation.dispositioned_at, "deviation": deviation}
            )
    for event in batch.custody.all():
        entries.append({"kind": "custody", "at": event.occurred_at, "event": event, "of": "batch"})
    for event in unit_custody:
        entries.append({"kind": "custody", "at": event.occurred_at, "event": event, "of": "unit"})
    for event in trail:
        if getattr(event, "pgh_obj_model", "") != "batches.Batch":
            continue
        diff = event.pgh_diff or {}
        context = event.pgh_context if isinstance(event.pgh_context, dict) else {}
        change = diff.get("state")
        if event.pgh_label == "insert":
            old, new = "", (event.pgh_data or {}).get("state", S.PLANNED)
        elif isinstance(change, list | tuple) and len(change) == 2:
            old, new = change
        else:
            continue
        entries.append(
            {
                "kind": "state",
                "at": event.pgh_created_at,
                "old": S(old).label if old in S.values else old,
                "new": S(new).label if new in S.values else new,
                "new_value": new,
                "who": context.get("actor_name") or "—",
                "why": context.get("reason") or "",
            }
        )
    entries.sort(key=lambda entry: entry["at"])
    return entries


# The growth curve: plot area inside the SVG, in SVG units.
CHART_WIDTH, CHART_HEIGHT = 720, 320
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 80, 64, 20, 56


def growth_chart(series: list[dict], harvest_day: int | None = None) -> dict | None:
    """Coordinates for an inline SVG: total viable cells on a log scale (left axis) and
    viability % (right axis) against culture day. Drawn on the server: no script, no CDN."""
    points = [
        p
        for p in series
        if isinstance(p["total_viable_cells"], int | float)
        and math.isfinite(p["total_viable_cells"])
        and p["total_viable_cells"] > 0
    ]
    if not points:
        return None
    plot_w = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    plot_h = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    last_day = max(max(p["day"] for p in points), harvest_day or 0, 1)
    logs = [math.log10(p["total_viable_cells"]) for p in points]
    low, high = math.floor(min(logs)), math.ceil(max(logs))
    if high == low:
        high += 1

    def x(day):
        return CHART_LEFT + day / last_day * plot_w

    def y_cells(log):
        return CHART_TOP + (high - log) / (high - low) * plot_h

    def y_viability(pct):
        return CHART_TOP + (100 - min(max(pct, 0), 100)) / 100 * plot_h

    day_step = 1 if last_day <= 20 else 5
    cells, viability = [], []
    for p, log in zip(points, logs, strict=True):
        pct = float(p["viability_pct"])
        fold = p["fold_expansion"]
        title = (
            f"Day {p['day']} ({p['count'].measured_at:%Y-%m-%d %H:%M}): "
            f"{p['total_viable_cells']:.3g} total viable cells, {pct:.1f} % viable"
            + (f", {fold:,.0f}-fold since day 0" if fold else "")
        )
        cells.append({"x": f"{x(p['day']):.1f}", "y": f"{y_cells(log):.1f}", "title": title})
        viability.append(
            {"x": f"{x(p['day']):.1f}", "y": f"{y_viability(pct):.1f}", "title": title}
        )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH - CHART_RIGHT,
        "top": CHART_TOP,
        "bottom": CHART_HEIGHT - CHART_BOTTOM,
        "mid_y": CHART_TOP + plot_h / 2,
        "mid_x": CHART_LEFT + plot_w / 2,
        "x_ticks": [
            {"x": f"{x(day):.1f}", "label": day} for day in range(0, last_day + 1, day_step)
        ],
        "cell_ticks": [{"y": f"{y_cells(e):.1f}", "exponent": e} for e in range(low, high + 1)],
        "viability_ticks": [
            {"y": f"{y_viability(pct):.1f}", "label": pct} for pct in (0, 25, 50, 75, 100)
        ],
        "harvest_x": f"{x(harvest_day):.1f}" if harvest_day is not None else "",
        "cells": cells,
        "viability": viability,
        "cells_line": " ".join(f"{p['x']},{p['y']}" for p in cells),
        "viability_line": " ".join(f"{p['x']},{p['y']}" for p in viability),
    }


def _transition_choices(
    request, batch: Batch, bound: TransitionForm | None, next_step: TemplateStep | None
) -> list[dict]:
    """The lifecycle moves this user may make now. Release and rejection are QA's release
    decision (the release queue), holds start and end with deviations: none is a button here."""
    choices = []
    for to_state in lifecycle.allowed_next_states(batch):
        rule = TRANSITIONS[(batch.state, to_state)]
        if not actor_may(request.user, rule.permission):
            continue
        label, statement, danger = TRANSITION_ACTIONS[to_state]
        form_id = f"transition-{to_state}"
        if bound is not None and bound.data.get("to_state") == to_state:
            form = bound
        else:
            form = TransitionForm(
                auto_id=f"{form_id}-%s",
                initial={"to_state": to_state, "expected_state": batch.state},
                signed=bool(rule.signature),
            )
        blocked = ""
        if to_state == S.HARVESTED and next_step is not None:
            # The service refuses it too; say why instead of offering a button that fails.
            blocked = (
                f"Record every step first: step {next_step.order} ({next_step.name}) "
                "is not recorded yet."
            )
        choices.append(
            {
                "to_state": to_state,
                "blocked": blocked if form is not bound else "",
                "label": label,
                "statement": statement,
                "danger": danger,
                "meaning": SignatureMeaning(rule.signature).label if rule.signature else "",
                "form": form,
                "form_id": f"{form_id}-form",
            }
        )
    return choices


def _form_messages(form) -> list[str]:
    return [message for errors in form.errors.values() for message in errors]


def _batch_page(
    request,
    batch: Batch,
    *,
    status: int = 200,
    conflict: str = "",
    step_form=None,
    count_form=None,
    deviation_form=None,
    custody_form=None,
    transition_form=None,
    disposition_forms=None,
):
    """The batch page; a refused action passes its bound form so its errors show in place."""
    user = request.user
    now = timezone.now()
    state = batch.state
    template_steps = list(batch.template.steps.all())
    params_by_step = {s.pk: list(s.parameters.all()) for s in template_steps}
    harvest_day = next((s.planned_day for s in template_steps if s.is_harvest), None)
    series = selectors.growth_series(batch)
    unit_custody = selectors.unit_custody(batch.source_unit_id)
    trail = selectors.batch_trail(batch)
    signatures, step_signatures = selectors.batch_signatures(batch)
    next_step = next_step_of(batch)
    refused = []  # errors of a refused action whose form is no longer on the page

    can_record_step = actor_may(user, "batches.record_step")
    if step_form is None and next_step is not None:
        step_form = StepForm(
            template_step=next_step,
            auto_id="step-%s",
            initial={"performed_at": _now_minute()},
        )
    show_step_form = can_record_step and state == S.IN_PROCESS and step_form is not None

    transitions = _transition_choices(request, batch, transition_form, next_step)
    if transition_form is not None and not any(t["form"] is transition_form for t in transitions):
        refused += _form_messages(transition_form)

    can_disposition = actor_may(user, "batches.disposition_deviation")
    disposition_forms = disposition_forms or {}
    open_deviations = []
    for deviation in batch.deviations.all():
        if deviation.state != DeviationState.OPEN:
            continue
        form = disposition_forms.pop(deviation.pk, None) or DeviationDispositionForm(
            auto_id=f"disposition-{deviation.pk}-%s"
        )
        open_deviations.append(
            {"deviation": deviation, "form": form, "form_id": f"disposition-{deviation.pk}-form"}
        )
    for form in disposition_forms.values():
        refused += _form_messages(form)

    steps_done = {s.template_step_id for s in batch.steps.all()}
    qc_tests = list(batch.qc_tests.all())  # each marked `overdue` by QC (through batches.ports)
    context = {
        "batch": batch,
        "badge": STATE_BADGES.get(state, ""),
        "release_decision": getattr(batch, "release_decision", None),
        "recall": getattr(batch, "recall", None),
        "coi_check": isbt128.check_character(batch.coi_identifier),
        "culture_day": culture_day(batch, now),
        "due": due_work(batch, now),
        "conflict": conflict,
        "refused": refused,
        "template_steps": [
            {
                "step": s,
                "done": s.pk in steps_done,
                "next": next_step is not None and s == next_step,
            }
            for s in template_steps
        ],
        "timeline": _timeline(
            batch,
            params_by_step=params_by_step,
            step_signatures=step_signatures,
            series=series,
            unit_custody=unit_custody,
            trail=trail,
        ),
        "series": series,
        "chart": growth_chart(series, harvest_day),
        "expansion_flag": selectors.expansion_flag(batch, series),
        "harvest_day": harvest_day,
        "qc_tests": qc_tests,
        "qc_overdue": sum(1 for test in qc_tests if test.overdue),
        "may_enter_result": actor_may(user, "qc.enter_qc_result"),
        "may_review_result": actor_may(user, "qc.review_qc_result"),
        "open_deviations": open_deviations,
        "closed_deviations": [d for d in batch.deviations.all() if d.state != DeviationState.OPEN],
        "transitions": transitions,
        "next_step": next_step,
        "can_record_step": can_record_step,
        "show_step_form": show_step_form,
        "step_form": step_form,
        "show_count_form": actor_may(user, "batches.record_count") and state in COUNT_STATES,
        "count_form": count_form
        or CellCountForm(
            auto_id="count-%s",
            initial={"measured_at": _now_minute(), "day": culture_day(batch, now)},
        ),
        "show_deviation_form": actor_may(user, "batches.open_deviation")
        and state in TERMINABLE_STATES,
        "deviation_form": deviation_form or DeviationForm(auto_id="deviation-%s"),
        "can_disposition": can_disposition,
        "show_custody_form": actor_may(user, "batches.record_custody"),
        "custody_form": custody_form
        or CustodyForm(
            auto_id="custody-%s",
            initial={"released_by": user.get_username(), "occurred_at": _now_minute()},
        ),
        "signatures": signatures,
        "history": history_rows(
            trail, Batch, ExecutedStep, CellCount, Deviation, CustodyEvent, batch.qc_tests.model
        ),
    }
    # A refused POST whose form the page no longer offers (the batch moved meanwhile) still
    # says why, at the top.
    for bound, shown in (
        (step_form, "show_step_form"),
        (count_form, "show_count_form"),
        (deviation_form, "show_deviation_form"),
        (custody_form, "show_custody_form"),
    ):
        if bound is not None and bound.is_bound and not context[shown]:
            refused += _form_messages(bound)
    context["needs_esign"] = (
        show_step_form
        or any(t["meaning"] and not t["blocked"] for t in transitions)
        or (can_disposition and bool(open_deviations))
    )
    return render(request, "batches/detail.html", context, status=status)


@allowed_to("batches.view_batch")
def batch_detail(request, lot_number):
    return _batch_page(request, _batch_or_404(lot_number))


@allowed_to("batches.record_step")
@require_POST
def batch_step(request, lot_number):
    batch = _batch_or_404(lot_number)
    code = request.POST.get("step", "")
    template_step = next((s for s in batch.template.steps.all() if s.code == code), None)
    if template_step is None:
        fallback = next_step_of(batch)
        if fallback is None:
            messages.error(request, "Every step of this batch is already recorded.")
            return redirect(batch)
        form = StepForm(request.POST, template_step=fallback, auto_id="step-%s")
        form.is_valid()
        form.add_error(None, f"The template {batch.template} has no step {code[:40]!r}.")
        return _batch_page(request, batch, step_form=form)
    form = StepForm(request.POST, template_step=template_step, auto_id="step-%s")
    if form.is_valid():
        arguments, aliases = form.service_arguments()
        executed = call_service(
            form,
            lambda: batch_record.step_record(
                actor=request.user,
                request=request,
                batch=batch,
                template_step=template_step,
                **arguments,
            ),
            aliases=aliases,
        )
        if executed is not None:
            if arguments["deviation"] is not None:
                messages.warning(
                    request,
                    f"Step {template_step.order} ({template_step.name}) recorded and signed "
                    "with a deviation: the batch is on hold until QA dispositions it.",
                )
            else:
                messages.success(
                    request,
                    f"Step {template_step.order} ({template_step.name}) recorded and signed.",
                )
            return redirect(batch)
    return _batch_page(request, batch, step_form=form)


@allowed_to("batches.record_count")
@require_POST
def batch_count(request, lot_number):
    batch = _batch_or_404(lot_number)
    form = CellCountForm(request.POST, auto_id="count-%s")
    if form.is_valid():
        count = call_service(
            form,
            lambda: batch_record.cell_count_record(
                actor=request.user, batch=batch, **form.cleaned_data
            ),
        )
        if count is not None:
            messages.success(request, f"Cell count recorded: {count}.")
            return redirect(batch)
    return _batch_page(request, batch, count_form=form)


@allowed_to("batches.open_deviation")
@require_POST
def batch_deviation(request, lot_number):
    batch = _batch_or_404(lot_number)
    form = DeviationForm(request.POST, auto_id="deviation-%s")
    if form.is_valid():
        deviation = call_service(
            form,
            lambda: batch_record.deviation_open(
                actor=request.user, batch=batch, **form.cleaned_data
            ),
        )
        if deviation is not None:
            messages.warning(
                request,
                f"Deviation recorded; batch {batch.lot_number} is on hold until QA "
                "dispositions it.",
            )
            return redirect(batch)
    return _batch_page(request, batch, deviation_form=form)


@allowed_to("batches.disposition_deviation")
@require_POST
def batch_deviation_disposition(request, lot_number, pk):
    batch = _batch_or_404(lot_number)
    deviation = next((d for d in batch.deviations.all() if d.pk == pk), None)
    if deviation is None:
        raise Http404("No such deviation on this batch.")
    form = DeviationDispositionForm(request.POST, auto_id=f"disposition-{pk}-%s")
    if form.is_valid():
        done = call_service(
            form,
            lambda: batch_record.deviation_disposition(
                actor=request.user, request=request, deviation=deviation, **form.cleaned_data
            ),
        )
        if done is not None:
            messages.success(
                request, f"Deviation {done.pk}: {done.get_disposition_display()} (signed)."
            )
            return redirect(batch)
    return _batch_page(request, batch, disposition_forms={pk: form})


@allowed_to("batches.record_custody")
@require_POST
def batch_custody(request, lot_number):
    batch = _batch_or_404(lot_number)
    form = CustodyForm(request.POST, auto_id="custody-%s")
    if form.is_valid():
        data = dict(form.cleaned_data)
        subject = {"unit": batch.source_unit} if data.pop("subject") == "unit" else {"batch": batch}
        event = call_service(
            form, lambda: batch_record.custody_record(actor=request.user, **subject, **data)
        )
        if event is not None:
            messages.success(request, f"Custody hand-off recorded: {event}.")
            return redirect(batch)
    return _batch_page(request, batch, custody_form=form)


@login_required
@require_POST
def batch_transition(request, lot_number):
    batch = _batch_or_404(lot_number)
    to_state = request.POST.get("to_state", "")
    expected = request.POST.get("expected_state") or batch.state
    rule = TRANSITIONS.get((expected, to_state))
    if rule is not None:
        if not actor_may(request.user, rule.permission):
            deny(rule.permission)
    elif not (
        actor_may(request.user, "batches.transition_batch")
        or actor_may(request.user, "batches.release_batch")
    ):
        deny("batches.transition_batch")
    form_id = to_state if to_state in S.values else "unknown"
    form = TransitionForm(
        request.POST,
        auto_id=f"transition-{form_id}-%s",
        signed=bool(rule and rule.signature),
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            moved = call_service(
                form,
                lambda: lifecycle.batch_transition(
                    actor=request.user,
                    request=request,
                    batch=batch,
                    to_state=data["to_state"],
                    expected_state=data["expected_state"],
                    reason=data["reason"],
                    password=data["password"],
                ),
                # "Step 1 is not recorded yet" and the like concern the move, not a field.
                aliases={"to_state": "__all__", "expected_state": "__all__"},
            )
        except Conflict as exc:
            # Someone else moved the batch first: show it as it is now, and say so.
            return _batch_page(
                request, _batch_or_404(batch.lot_number), status=409, conflict=str(exc)
            )
        if moved is not None:
            messages.success(
                request, f"Batch {moved.lot_number} is now {moved.get_state_display().lower()}."
            )
            return redirect(moved)
    return _batch_page(request, batch, transition_form=form)


# --- process templates ---


@allowed_to("batches.view_processtemplate")
def template_list(request):
    rows = ProcessTemplate.objects.select_related("approved_by").annotate(step_count=Count("steps"))
    return render(
        request,
        "batches/templates_list.html",
        {
            "templates": rows,
            "can_approve": actor_may(request.user, "batches.approve_processtemplate"),
        },
    )


@allowed_to("batches.view_processtemplate")
@require_http_methods(["GET", "POST"])
def template_detail(request, pk):
    """GET shows the template version; POST is QA's signed approval of a draft."""
    template = get_object_or_404(
        ProcessTemplate.objects.select_related("approved_by").prefetch_related(
            Prefetch(
                "steps",
                queryset=TemplateStep.objects.order_by("order").prefetch_related("parameters"),
            )
        ),
        pk=pk,
    )
    can_approve = actor_may(request.user, "batches.approve_processtemplate")
    form = TemplateApproveForm(auto_id="approve-%s", initial={"reason": "Approved for use"})
    if request.method == "POST":
        if not can_approve:
            deny("batches.approve_processtemplate")
        form = TemplateApproveForm(request.POST, auto_id="approve-%s")
        if form.is_valid():
            approved = call_service(
                form,
                lambda: templates.template_approve(
                    actor=request.user, request=request, template=template, **form.cleaned_data
                ),
            )
            if approved is not None:
                messages.success(request, f"{approved} approved and signed.")
                return redirect("template-detail", pk=approved.pk)
    return render(
        request,
        "batches/template_detail.html",
        {
            "template": template,
            "can_approve": can_approve and template.status == TemplateStatus.DRAFT,
            "form": form,
            "signatures": [
                {"signature": sig, "intact": signature_intact(sig, template)}
                for sig in signatures_for(template)
            ],
            "history": history_rows(audit_history(template), ProcessTemplate),
        },
    )
