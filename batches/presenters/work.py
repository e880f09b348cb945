"""Each role's work: the worklists of batches (technicians, QA, clinical staff) and of QC
(through `batches.ports.qc_worklists`), each one selector shown as a home page section and
in full. A row links to the page where the work is done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse

from batches import ports, selectors
from batches.presenters.clinical import DUE_WITHIN
from batches.selectors import due_steps, worklists
from carnk_mfg.roles import Role, actor_may, roles_of
from carnk_mfg.worklists import Worklist, WorkRow, first_rows

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.models import AnonymousUser, User

# Rows a home page section shows before its link to the full worklist.
HOME_ROWS = 5
# The order of the home page's sections: each role's, for each role the user holds.
ROLE_ORDER = (Role.TECHNICIAN, Role.QC_ANALYST, Role.QA, Role.CLINICAL, Role.COURIER)


def batch_url(key: str):
    return lambda: f"{reverse('batch-list')}?work={key}"


def url_to(name: str, anchor: str = ""):
    return lambda: reverse(name) + (f"#{anchor}" if anchor else "")


def step_row(item: tuple[Any, dict[str, Any]]) -> WorkRow:
    batch, work = item
    step = work["step"]
    day = work["culture_day"]
    return WorkRow(
        label=batch.lot_number,
        href=batch.get_absolute_url(),
        detail=(f"Culture day {day} · " if day is not None else "")
        + (f"{step.order}. {step.name}: " if step else "")
        + work["text"],
        when=work["due_at"],
        late=work["status"] == "late",
    )


def count_row(item: tuple[Any, int]) -> WorkRow:
    batch, day = item
    return WorkRow(batch.lot_number, batch.get_absolute_url(), f"No count yet for day {day}")


def batch_row(batch) -> WorkRow:
    detail = f"{batch.get_state_display()}"
    if getattr(batch, "open_deviations", 0):
        detail += f" · {batch.open_deviations} open deviation(s)"
    return WorkRow(batch.lot_number, batch.get_absolute_url(), detail, batch.created_at)


def queue_row(batch) -> WorkRow:
    """A batch in QC, linked to its place in the release queue (review, formulation,
    release)."""
    return WorkRow(
        batch.lot_number,
        reverse("release-queue") + f"#batch-{batch.pk}",
        batch.intended_recipient.subject_id if batch.intended_recipient else "Stock",
        batch.created_at,
    )


def deviation_row(deviation) -> WorkRow:
    return WorkRow(
        f"{deviation.batch.lot_number}: {deviation.get_kind_display()}",
        deviation.batch.get_absolute_url() + f"#deviation-{deviation.pk}",
        deviation.what,
        deviation.opened_at,
    )


def conditional_row(decision) -> WorkRow:
    return WorkRow(
        decision.batch.lot_number,
        reverse("release-queue") + "#conditional-releases",
        "Released pending QC results",
        decision.decided_at,
    )


def recall_row(recall) -> WorkRow:
    return WorkRow(
        recall.batch.lot_number,
        reverse("release-queue") + "#recalls",
        recall.reason,
        recall.raised_at,
        late=True,
    )


def unit_row(unit) -> WorkRow:
    return WorkRow(unit.din, unit.get_absolute_url(), f"{unit.source_bank} · eligibility")


def lot_row(item) -> WorkRow:
    kind, lot = item
    return WorkRow(
        lot.lot_number,
        reverse("lot-detail", args=[kind, lot.lot_number]),
        f"{kind.capitalize()} lot from {lot.manufacturer}",
        None,
    )


def template_row(template) -> WorkRow:
    return WorkRow(str(template), reverse("template-detail", args=[template.pk]), template.name)


def bag_row(bag) -> WorkRow:
    to = bag.recipient.subject_id if bag.recipient else "no recipient yet"
    return WorkRow(
        str(bag),
        reverse("bag-detail", args=[bag.pk]),
        f"{bag.get_status_display()} · {to} · expires",
        bag.expires_at,
    )


def stock_bag_row(bag) -> WorkRow:
    return WorkRow(
        str(bag),
        reverse("bag-detail", args=[bag.pk]),
        f"{bag.get_presentation_display()} · {bag.volume_ml} mL · expires",
        bag.expires_at,
    )


def carried_bag_row(bag) -> WorkRow:
    """A bag to carry, linked to its hand-offs."""
    to = f"for {bag.recipient.subject_id}" if bag.recipient else ""
    return WorkRow(
        str(bag),
        reverse("bag-detail", args=[bag.pk]) + "#custody",
        f"{bag.get_status_display()} {to} · expires",
        bag.expires_at,
    )


def infusion_row(infusion) -> WorkRow:
    return WorkRow(
        str(infusion.dose_unit),
        reverse("infusion-detail", args=[infusion.pk]),
        f"Recipient {infusion.recipient.subject_id}",
        infusion.started_at,
    )


def visit_row(visit, *, late: bool = False) -> WorkRow:
    return WorkRow(
        f"{visit.visit} follow-up",
        reverse("follow-up-worklist"),
        f"Recipient {visit.recipient.subject_id}",
        visit.due_at,
        late=late,
    )


def overdue_visit_row(visit) -> WorkRow:
    return visit_row(visit, late=True)


def event_row(event) -> WorkRow:
    return WorkRow(
        str(event),
        reverse("infusion-detail", args=[event.infusion_id]),
        "Not resolved",
        event.onset_at,
    )


T, Q, C, K = Role.TECHNICIAN, Role.QA, Role.CLINICAL, Role.COURIER

# Kept as data: one line per worklist, its selector and where it is listed in full.
BATCH_WORKLISTS = (
    Worklist("steps-due", "Steps due today or late", T, "batches.view_batch",
             lambda actor, now: due_steps.steps_due(now=now), step_row, batch_url("steps-due"),
             "The next step of each batch, by its planned culture day.", ("Step", "Due")),
    Worklist("counts-due", "Counts due today", T, "batches.view_batch",
             lambda actor, now: due_steps.counts_due(now=now), count_row, batch_url("counts-due"),
             "Batches in process with no cell count yet for today's culture day.", ("", "")),
    Worklist("on-hold", "Batches on hold", T, "batches.view_batch",
             lambda actor, now: due_steps.batches_on_hold(), batch_row, batch_url("on-hold"),
             "Held until QA dispositions their deviation.", ("State", "Planned")),
    Worklist("deviations", "Deviations to disposition", Q, "batches.view_deviation",
             lambda actor, now: worklists.deviations_to_disposition(), deviation_row, None,
             "Each holds its batch until QA dispositions it.", ("What", "Opened")),
    Worklist("records-to-review", "Batch records to review", Q, "batches.view_batch",
             lambda actor, now: worklists.records_to_review(), queue_row, None,
             "Batches in QC whose record QA has not yet reviewed.", ("Recipient", "Planned")),
    Worklist("release-queue", "Release queue", Q, "batches.view_batch",
             lambda actor, now: selectors.release_queue(), queue_row, url_to("release-queue"),
             "Batches in QC, waiting for release.", ("Recipient", "Planned")),
    Worklist("conditional-releases", "Open conditional releases", Q, "batches.view_batch",
             lambda actor, now: selectors.open_conditional_releases(), conditional_row,
             url_to("release-queue", "conditional-releases"),
             "Released pending QC results still to come.", ("", "Released")),
    Worklist("recalls", "Recalls", Q, "batches.view_batch",
             lambda actor, now: selectors.recalls(), recall_row,
             url_to("release-queue", "recalls"), "Recalled batches.", ("Reason", "Raised")),
    Worklist("units-eligibility", "Units awaiting eligibility", Q, "batches.view_cordbloodunit",
             lambda actor, now: worklists.units_awaiting_eligibility(), unit_row, None,
             "Cord blood units whose donor eligibility is not yet determined.", ("", "")),
    Worklist("lots-disposition", "Material lots awaiting disposition", Q,
             "batches.view_vectorlot", lambda actor, now: worklists.lots_awaiting_disposition(),
             lot_row, None, "Lots in quarantine.", ("Kind", "")),
    Worklist("templates-to-approve", "Templates awaiting approval", Q,
             "batches.view_processtemplate",
             lambda actor, now: worklists.templates_awaiting_approval(), template_row, None,
             "Draft process templates.", ("Name", "")),
    Worklist("bags-to-issue", "Bags released for my recipients", C, "batches.view_doseunit",
             lambda actor, now: worklists.bags_to_issue(clinician=actor), bag_row, None,
             "Assigned to a recipient you treat, not yet issued.",
             ("Status and recipient", "Expires"),
             everyone=lambda now: worklists.bags_to_issue(clinician=None)),
    Worklist("bags-in-stock", "Bags in stock, for no recipient yet", C, "batches.assign_dose",
             lambda actor, now: worklists.bags_in_stock(), stock_bag_row, None,
             "Released and assigned to no recipient: assign one from a recipient's dose "
             "calculator.", ("Bag", "Expires")),
    Worklist("bags-in-transit", "Bags issued for my recipients, in transit", C,
             "batches.view_doseunit",
             lambda actor, now: worklists.bags_in_transit(clinician=actor), bag_row, None,
             "Issued from the lab, not yet infused.", ("Status and recipient", "Expires"),
             everyone=lambda now: worklists.bags_in_transit(clinician=None)),
    Worklist("infusions-today", "Infusions today, my recipients", C, "batches.view_infusion",
             lambda actor, now: worklists.infusions_today(now=now, clinician=actor),
             infusion_row, None, "", ("Recipient", "Started"),
             everyone=lambda now: worklists.infusions_today(now=now, clinician=None)),
    Worklist("visits-overdue", "Follow-ups overdue, my recipients", C,
             "batches.view_followupvisit",
             lambda actor, now: worklists.visits_overdue(now=now, clinician=actor),
             overdue_visit_row, None, "Recorded on the follow-up worklist.", ("Recipient", "Due"),
             everyone=lambda now: worklists.visits_overdue(now=now)),
    Worklist("visits-due", "Follow-ups due within 7 days, my recipients", C,
             "batches.view_followupvisit",
             lambda actor, now: worklists.visits_due_soon(
                 now=now, within=DUE_WITHIN, clinician=actor),
             visit_row, None, "Recorded on the follow-up worklist.", ("Recipient", "Due"),
             everyone=lambda now: worklists.visits_due_soon(now=now, within=DUE_WITHIN)),
    Worklist("adverse-events", "Open adverse events, my recipients", C,
             "batches.view_adverseevent",
             lambda actor, now: worklists.open_adverse_events(clinician=actor), event_row, None,
             "Not yet resolved.", ("", "Onset"),
             everyone=lambda now: worklists.open_adverse_events(clinician=None)),
    Worklist("bags-held", "Bags I carry", K, "batches.hand_off_dose",
             lambda actor, now: worklists.bags_held_by(actor), carried_bag_row, None,
             "Issued, and handed to you last: hand each over on its page.",
             ("Status and recipient", "Expires")),
    Worklist("bags-to-pick-up", "Bags waiting to be picked up", K, "batches.hand_off_dose",
             lambda actor, now: worklists.bags_to_pick_up(), carried_bag_row, None,
             "Assigned to a recipient and not yet issued: the lab's issue hands one over.",
             ("Status and recipient", "Expires")),
)  # fmt: skip


def all_worklists() -> list[Worklist]:
    return [*BATCH_WORKLISTS, *ports.qc_worklists()]


def worklist_named(key: str) -> Worklist | None:
    return next((w for w in all_worklists() if w.key == key), None)


def full_url(worklist: Worklist) -> str:
    if worklist.full_url is not None:
        return worklist.full_url()
    return reverse("worklist", args=[worklist.key])


def work_sections(user: User | AnonymousUser, *, now: datetime) -> list[dict[str, Any]]:
    """For each role the user holds, in ROLE_ORDER: that role's worklists, each with its
    count, first HOME_ROWS rows and the link to the whole list."""
    held = set(roles_of(user))
    found = all_worklists()
    roles = []
    for role in ROLE_ORDER:
        if role not in held:
            continue
        sections = []
        for worklist in found:
            if worklist.role != role or not actor_may(user, worklist.permission):
                continue
            count, rows = first_rows(worklist, actor=user, now=now, n=HOME_ROWS)
            sections.append(
                {"worklist": worklist, "count": count, "rows": rows, "url": full_url(worklist)}
            )
        roles.append({"role": role, "label": Role.LABELS[role], "sections": sections})
    return roles
