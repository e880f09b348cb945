"""The home page: each role's work, units by status, lots expiring soon, links for the
user's roles."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count

from batches import selectors
from batches.models import UnitStatus
from batches.presenters.materials import expiring_lots, lot_kinds_allowed
from batches.presenters.work import work_sections
from carnk_mfg.roles import actor_may

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

EXPIRY_WARNING_DAYS = 30


def unit_counts() -> tuple[list[dict[str, Any]], int]:
    """(a row per unit status, in the statuses' order, with its count; the total)."""
    counted = dict(
        selectors.cord_blood_unit_list().order_by().values_list("status").annotate(n=Count("id"))
    )
    rows = [
        {"status": value, "label": label, "count": counted.get(value, 0)}
        for value, label in UnitStatus.choices
    ]
    return rows, sum(counted.values())


def quick_links(user: User | AnonymousUser) -> dict[str, Any]:
    return {
        "can_register_unit": actor_may(user, "batches.add_cordbloodunit"),
        "can_register_lot": lot_kinds_allowed(user, "add"),
        "can_register_recipient": actor_may(user, "batches.add_recipient"),
        "may_determine_eligibility": actor_may(user, "batches.determine_eligibility"),
    }


def home_page(
    user: User | AnonymousUser, *, today: date, now: datetime | None = None
) -> dict[str, Any]:
    """What the home page shows this user: each of their roles' work first, then unit
    counts and expiring lots, only what their roles may see."""
    context: dict[str, Any] = {"unit_counts": None, "expiring_lots": None, "work": []}
    if now is not None:
        context["work"] = work_sections(user, now=now)
    if actor_may(user, "batches.view_cordbloodunit"):
        context["unit_counts"], context["unit_total"] = unit_counts()
    kinds = lot_kinds_allowed(user, "view")
    if kinds:
        context["expiring_lots"] = expiring_lots(
            kinds, today=today, within_days=EXPIRY_WARNING_DAYS
        )
    context["expiry_warning_days"] = EXPIRY_WARNING_DAYS
    context.update(quick_links(user))
    return context
