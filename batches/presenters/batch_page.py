"""The batch page: header, what is due, the timeline, the growth curve, QC tests, deviations,
signatures and trail, and which actions the user is offered now. The forms of those actions
are the web layer's (`batches.web.batch_record`); this module says which to show.

The page reads in a fixed number of queries, and a bounded number of rows, however many
steps, counts, deviations, hand-offs, signatures or trail events the batch has: of each list
it shows the latest few (setting BATCH_PAGE_LATEST), with a link to the list's own page.
"""

from __future__ import annotations

from django.db.models import Prefetch, prefetch_related_objects

from batches import ports, selectors
from batches.models import (
    Batch,
    BatchState,
    DeviationState,
    TemplateStep,
)
from batches.presenters.batch_list import STATE_BADGES
from batches.presenters.batch_lists import latest_of_lists
from batches.presenters.due_work import culture_day, due_work, next_step_of
from batches.presenters.growth_chart import growth_chart
from batches.presenters.timeline import batch_timeline
from batches.selectors.sublists import closed_deviations_newest_first, latest_n
from batches.services import batch_record, lifecycle, training
from batches.services.lifecycle import TRANSITIONS
from carnk_mfg import isbt128
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import actor_may, roles_holding

S = BatchState

# How each lifecycle move is offered on the batch page: button text, what the signer
# confirms, and whether it is a destructive move.
TRANSITION_ACTIONS: dict[str, tuple[str, str, bool]] = {
    S.IN_PROCESS: ("Start manufacturing", "started manufacturing of", False),
    S.HARVESTED: ("Record harvest complete", "completed the harvest of", False),
    S.IN_QC: ("Send to QC", "sent to QC", False),
    S.TERMINATED: ("Terminate batch", "terminated", True),
}


def batch_for_page(lot_number: str, *, now) -> Batch:
    """The batch with everything its page shows; Batch.DoesNotExist when there is none."""
    batch = selectors.batch_detail(lot_number, whole_record=False)
    # What the page shows beyond the selector's prefetch, still one query each.
    prefetch_related_objects(
        [batch],
        Prefetch(
            "qc_tests",
            queryset=ports.qc_tests_marked_overdue(now=now).order_by("due_at", "id"),
        ),
    )
    return batch


def batch_page(batch: Batch, *, user, now) -> dict:
    """The batch page's context without the action forms: the record as it stands, and the
    offers (`show_*`, `step_offered`, `transition_offers`, `open_deviations`) the web layer
    puts a form on."""
    next_step = next_step_of(batch)
    return {
        **_record(batch, now, next_step),
        **_offers(batch, user, next_step),
        "may_enter_result": actor_may(user, "qc.enter_qc_result"),
        "may_review_result": actor_may(user, "qc.review_qc_result"),
    }


def _record(batch: Batch, now, next_step: TemplateStep | None) -> dict:
    template_steps = list(batch.template.steps.all())
    harvest_day = next((s.planned_day for s in template_steps if s.is_harvest), None)
    series = selectors.growth_series(batch)
    lists = latest_of_lists(batch)
    qc_tests = list(batch.qc_tests.all())  # each marked `overdue` by QC (through batches.ports)
    return {
        "batch": batch,
        "badge": STATE_BADGES.get(batch.state, ""),
        "release_decision": getattr(batch, "release_decision", None),
        "recall": getattr(batch, "recall", None),
        "din_check": isbt128.check_character(batch.din),
        "culture_day": culture_day(batch, now),
        "due": due_work(batch, now),
        "template_steps": template_step_rows(batch, template_steps, next_step),
        "timeline": batch_timeline(
            batch,
            params_by_step={s.pk: list(s.parameters.all()) for s in template_steps},
            series=series,
            latest=latest_n(),
            newest={key: lists[key]["rows"] for key in ("steps", "custody", "deviations")},
        ),
        "lists": lists,
        "latest_n": latest_n(),
        "series": series,
        "chart": growth_chart(series, harvest_day),
        "expansion_flag": selectors.expansion_flag(batch, series),
        "harvest_day": harvest_day,
        "qc_tests": qc_tests,
        # `overdue` is QC's mark (through batches.ports); batches may not import QC's types.
        "qc_overdue": len(
            [test for test in qc_tests if test.overdue]  # type: ignore[attr-defined]  # QC's mark
        ),
        "closed_deviations": _closed_deviations(batch, lists["deviations"]),
        "next_step": next_step,
        "signatures": lists["signatures"]["rows"],
        "history": lists["history"]["rows"],
    }


def _closed_deviations(batch: Batch, deviations: dict) -> list:
    """The latest closed deviations; from the deviations list when it holds them all."""
    if deviations["total"] == len(deviations["rows"]):
        closed = [d for d in deviations["rows"] if d.state != DeviationState.OPEN]
        return closed[: latest_n()]
    return list(closed_deviations_newest_first(batch)[: latest_n()])


def template_step_rows(batch: Batch, template_steps: list, next_step) -> list[dict]:
    """The template's steps, each marked done or next."""
    done = {s.template_step_id for s in batch.steps.all()}
    return [
        {"step": s, "done": s.pk in done, "next": next_step is not None and s == next_step}
        for s in template_steps
    ]


def _offers(batch: Batch, user, next_step: TemplateStep | None) -> dict:
    """Which actions the user may take now. An action the user's role allows but the batch
    record does not is still offered, disabled, with the service's own words for why
    (`*_blocked`): the rule that refuses it is asked, never restated here."""
    can_record_step = actor_may(user, "batches.record_step")
    step_blocked = ""
    if next_step is not None:
        step_blocked = batch_record.step_blocker(batch)
        if not step_blocked and can_record_step:
            step_blocked = training.step_training_blocker(next_step, user)
    may_count = actor_may(user, "batches.record_count")
    may_deviate = actor_may(user, "batches.open_deviation")
    transitions = transition_offers(batch, user=user, next_step=next_step)
    offers = {
        "can_record_step": can_record_step,
        "step_blocked": step_blocked,
        "step_offered": can_record_step and next_step is not None and not step_blocked,
        "may_count": may_count,
        "count_blocked": batch_record.count_blocker(batch) if may_count else "",
        "may_deviate": may_deviate,
        "deviation_blocked": batch_record.deviation_blocker(batch) if may_deviate else "",
        "show_custody_form": actor_may(user, "batches.record_custody"),
        "can_disposition": actor_may(user, "batches.disposition_deviation"),
        # The page's batch carries its open deviations alone (batch_for_page).
        "open_deviations": [d for d in batch.deviations.all() if d.state == DeviationState.OPEN],
        "transition_offers": transitions,
    }
    offers["show_count_form"] = may_count and not offers["count_blocked"]
    offers["show_deviation_form"] = may_deviate and not offers["deviation_blocked"]
    offers["next_action"] = next_action(batch, user, next_step, offers)
    return offers


def _done_by(permission: str) -> str:
    # "Lab technician" reads "a lab technician"; "QA reviewer" keeps its capitals.
    names = [n if n[:2].isupper() else n[0].lower() + n[1:] for n in roles_holding(permission)]
    roles = " or ".join(names)
    return f"Done by a {roles}: your roles do not include it." if roles else "Not yours to do."


def next_action(batch: Batch, user, next_step: TemplateStep | None, offers: dict) -> dict | None:
    """The one thing to do next on this batch, for the top of its page: `kind` says which
    form it carries ("step", "transition", "disposition", or "wait" for none), `blocked` why
    the user cannot do it now (the refusing rule's words, or whose work it is)."""
    state = batch.state
    if state == S.IN_PROCESS and next_step is not None:
        title = f"Record step {next_step.order}: Day {next_step.planned_day} – {next_step.name}"
        blocked = (
            offers["step_blocked"] if offers["can_record_step"] else _done_by("batches.record_step")
        )
        return {"kind": "step", "title": title, "blocked": blocked}
    to_state = lifecycle.routine_forward_move(state)
    if to_state is not None:
        offer = next((t for t in offers["transition_offers"] if t["to_state"] == to_state), None)
        label = TRANSITION_ACTIONS[to_state][0]
        if offer is None:
            rule = TRANSITIONS[(state, to_state)]
            return {"kind": "transition", "title": label, "blocked": _done_by(rule.permission)}
        return {"kind": "transition", "title": label, "blocked": offer["blocked"], "offer": offer}
    if state == S.ON_HOLD:
        blocked = "" if offers["can_disposition"] else _done_by("batches.disposition_deviation")
        return {
            "kind": "disposition",
            "title": "QA disposition of the open deviation",
            "blocked": blocked,
        }
    if state == S.IN_QC:
        return {
            "kind": "wait",
            "title": "QC testing, then QA's release decision",
            "blocked": "",
            "release": actor_may(user, "batches.release_batch"),
        }
    return None


def transition_offers(batch: Batch, *, user, next_step: TemplateStep | None) -> list[dict]:
    """The lifecycle moves this user may make now. Release and rejection are QA's release
    decision (the release queue), holds start and end with deviations: none is a button here.
    `blocked` is the service's own reason a move cannot succeed yet (`transition_blocker`);
    `reason_required` whether the move asks for a reason (routine forward moves do not)."""
    offers = []
    for to_state in lifecycle.allowed_next_states(batch):
        rule = TRANSITIONS[(batch.state, to_state)]
        if not actor_may(user, rule.permission):
            continue
        label, statement, danger = TRANSITION_ACTIONS[to_state]
        offers.append(
            {
                "to_state": to_state,
                "blocked": lifecycle.transition_blocker(batch, to_state),
                "reason_required": lifecycle.reason_required(batch.state, to_state),
                "label": label,
                "statement": statement,
                "danger": danger,
                "meaning": SignatureMeaning(rule.signature).label if rule.signature else "",
                "signed": bool(rule.signature),
                "form_id": f"transition-{to_state}",
            }
        )
    return offers
