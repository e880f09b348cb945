"""Pages of the batch record: the batch list with the work that is due, planning a batch,
and the batch page with its actions: the next step, counts, deviations and their QA
disposition, custody hand-offs and lifecycle moves.

What the batch page shows is built by `batches.presenters.batch_page`; this module puts the
action forms on it, a refused action's bound form in place of the empty one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from batches.models import Batch, BatchState
from batches.presenters.batch_list import batch_rows, batches_for_list
from batches.presenters.batch_page import batch_for_page, batch_page
from batches.presenters.due_work import culture_day, next_step_of
from batches.presenters.templates import approved_template_exists
from batches.services import batch_record, lifecycle
from batches.services.lifecycle import TRANSITIONS
from batches.web.forms.batch_record import (
    BatchCreateForm,
    BatchSearch,
    CellCountForm,
    CustodyForm,
    DeviationDispositionForm,
    DeviationForm,
    StepForm,
    TransitionForm,
)
from carnk_mfg.errors import Conflict
from carnk_mfg.roles import actor_may
from carnk_mfg.web import (
    allowed_to,
    call_service,
    deny,
    form_messages,
    now_minute,
    url_text,
)

BATCHES_PER_PAGE = 25
S = BatchState


# --- batch list and planning ---


@allowed_to("batches.view_batch")
def batch_list(request):
    search = BatchSearch(request.GET or None, queryset=batches_for_list())
    page = Paginator(search.qs, BATCHES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "batches/list.html",
        {
            "search": search,
            "page": page,
            "rows": batch_rows(page, timezone.now()),
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
                f"Batch {batch.lot_number} planned (DIN {batch.din}).",
            )
            return redirect(batch)
    return render(
        request,
        "batches/new.html",
        {
            "form": form,
            "may_urgent": may_urgent,
            "no_template": not approved_template_exists(),
        },
    )


# --- the batch page ---


@dataclass
class Refused:
    """The bound form of a refused POST: shown in place of its empty form, with its errors,
    or (when the page no longer offers that form) its messages at the top."""

    action: str  # "step", "count", "deviation", "custody", "transition" or "disposition"
    form: forms.Form
    deviation_id: int | None = None  # which deviation a refused disposition was for


def _batch_or_404(lot_number: str) -> Batch:
    try:
        return batch_for_page(url_text(lot_number), now=timezone.now())
    except Batch.DoesNotExist:
        raise Http404("No such batch.") from None


def _batch_page(request, batch: Batch, refused: Refused | None = None, *, status=200, conflict=""):
    """The batch page with its action forms; a refused action's form shows its errors."""
    user = request.user
    now = timezone.now()
    context = batch_page(batch, user=user, now=now)
    bound = {refused.action: refused.form} if refused else {}
    context["refused"] = []
    step_form = bound.get("step") or _next_step_form(context["next_step"])
    context.update(
        conflict=conflict,
        step_form=step_form,
        show_step_form=context["step_offered"] and step_form is not None,
        transitions=_transitions(batch, context["transition_offers"], bound.get("transition")),
        open_deviations=_open_deviations(context, refused),
        count_form=bound.get("count")
        or CellCountForm(
            auto_id="count-%s",
            initial={"measured_at": now_minute(), "day": culture_day(batch, now)},
        ),
        deviation_form=bound.get("deviation") or DeviationForm(auto_id="deviation-%s"),
        custody_form=bound.get("custody")
        or CustodyForm(
            auto_id="custody-%s",
            initial={"released_by": user.get_username(), "occurred_at": now_minute()},
        ),
    )
    _put_next_move(context)
    _say_why_refused(context, refused)
    context["needs_esign"] = (
        context["show_step_form"]
        or any(t["meaning"] and not t["blocked"] for t in context["transitions"])
        or (context["can_disposition"] and bool(context["open_deviations"]))
    )
    return render(request, "batches/detail.html", context, status=status)


def _put_next_move(context: dict) -> None:
    """When the next action is a lifecycle move, it carries that move's form at the top of
    the page; the other moves stay with the lifecycle actions."""
    action = context["next_action"]
    offer = action.get("offer") if action else None
    move = next(
        (t for t in context["transitions"] if offer and t["to_state"] == offer["to_state"]), None
    )
    if action is not None:
        action["move"] = move
    context["other_moves"] = [t for t in context["transitions"] if t is not move]


def _next_step_form(next_step) -> StepForm | None:
    if next_step is None:
        return None
    return StepForm(
        template_step=next_step, auto_id="step-%s", initial={"performed_at": now_minute()}
    )


def _transitions(batch: Batch, offers: list[dict], bound: forms.Form | None) -> list[dict]:
    """Each offered move with its form: the refused one bound (its errors say why, so the
    offer's own `blocked` note is not repeated), the others empty."""
    moves = []
    for offer in offers:
        to_state = offer["to_state"]
        if bound is not None and bound.data.get("to_state") == to_state:
            form, blocked = bound, ""
        else:
            form = TransitionForm(
                auto_id=f"{offer['form_id']}-%s",
                initial={"to_state": to_state, "expected_state": batch.state},
                signed=offer["signed"],
            )
            blocked = offer["blocked"]
        moves.append(
            {**offer, "blocked": blocked, "form": form, "form_id": f"{offer['form_id']}-form"}
        )
    return moves


def _open_deviations(context: dict, refused: Refused | None) -> list[dict]:
    """Each open deviation with its QA disposition form."""
    rows = []
    for deviation in context["open_deviations"]:
        if refused and refused.action == "disposition" and refused.deviation_id == deviation.pk:
            form = refused.form
        else:
            # What QA classified before (through the API) is offered again, not asked anew.
            form = DeviationDispositionForm(
                auto_id=f"disposition-{deviation.pk}-%s",
                initial={
                    "classification": deviation.classification,
                    "root_cause": deviation.root_cause,
                },
            )
        rows.append(
            {"deviation": deviation, "form": form, "form_id": f"disposition-{deviation.pk}-form"}
        )
    return rows


# Which context flag shows each action's form on the page.
FORM_SHOWN = {
    "step": "show_step_form",
    "count": "show_count_form",
    "deviation": "show_deviation_form",
    "custody": "show_custody_form",
}


def _say_why_refused(context: dict, refused: Refused | None) -> None:
    """A refused POST whose form the page no longer offers (the batch moved meanwhile) still
    says why, at the top."""
    if refused is None or not refused.form.is_bound:
        return
    if refused.action == "transition":
        shown = any(t["form"] is refused.form for t in context["transitions"])
    elif refused.action == "disposition":
        shown = any(row["form"] is refused.form for row in context["open_deviations"])
    else:
        shown = context[FORM_SHOWN[refused.action]]
    if not shown:
        context["refused"] += form_messages(refused.form)


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
        return _unknown_step(request, batch, code)
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
            done = f"Step {template_step.order} ({template_step.name}) recorded and signed"
            if arguments["deviation"] is not None:
                messages.warning(
                    request,
                    f"{done} with a deviation: the batch is on hold until QA dispositions it.",
                )
            else:
                messages.success(request, f"{done}.")
            return redirect(batch)
    return _batch_page(request, batch, Refused("step", form))


def _unknown_step(request, batch: Batch, code: str):
    """A step code the template does not have: refused on the next step's form."""
    fallback = next_step_of(batch)
    if fallback is None:
        messages.error(request, "Every step of this batch is already recorded.")
        return redirect(batch)
    form = StepForm(request.POST, template_step=fallback, auto_id="step-%s")
    form.is_valid()
    form.add_error(None, f"The template {batch.template} has no step {code[:40]!r}.")
    return _batch_page(request, batch, Refused("step", form))


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
    return _batch_page(request, batch, Refused("count", form))


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
    return _batch_page(request, batch, Refused("deviation", form))


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
    return _batch_page(request, batch, Refused("disposition", form, deviation_id=pk))


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
    return _batch_page(request, batch, Refused("custody", form))


def _may_ask_for(request, expected: str, to_state: str):
    """The move's own permission when it is a move there is; otherwise (the service explains
    why not) anyone who may move batches at all. 403 without it."""
    rule = TRANSITIONS.get((expected, to_state))
    if rule is not None:
        if not actor_may(request.user, rule.permission):
            deny(rule.permission)
    elif not (
        actor_may(request.user, "batches.transition_batch")
        or actor_may(request.user, "batches.release_batch")
    ):
        deny("batches.transition_batch")
    return rule


@login_required
@require_POST
def batch_transition(request, lot_number):
    batch = _batch_or_404(lot_number)
    to_state = request.POST.get("to_state", "")
    rule = _may_ask_for(request, request.POST.get("expected_state") or batch.state, to_state)
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
    return _batch_page(request, batch, Refused("transition", form))
