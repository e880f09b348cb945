"""The analysts' worklist: open QC tests in sections (due now, due soon, overdue, awaiting
your review, your results awaiting review), each one query of `qc.selectors.worklist`; the
home page counts the same queries (`qc.presenters.home`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from qc.selectors import worklist as selected

# A worklist section longer than this is cut, with a note; open tests are few in practice.
SECTION_LIMIT = 200


@dataclass(frozen=True)
class Section:
    """One list of the worklist: its anchor, heading, help and query (actor, now)."""

    key: str
    title: str
    help: str
    query: Callable[[Any, datetime], QuerySet[Any]]


def due_soon_lead() -> timedelta:
    return timedelta(hours=settings.QC_DUE_SOON_LEAD_HOURS)


SECTIONS = (
    Section(
        "due-now",
        "Due now",
        "The sample is due and no result is entered yet.",
        lambda actor, now: selected.tests_due_now(now=now),
    ),
    Section(
        "due-soon",
        "Due soon",
        "Open tests whose result must be reviewed within {lead:g} h.",
        lambda actor, now: selected.tests_due_soon(now=now, lead=due_soon_lead()),
    ),
    Section(
        "overdue",
        "Overdue",
        "Open and past the time their result had to be reviewed.",
        lambda actor, now: selected.tests_overdue(now=now),
    ),
    Section(
        "awaiting-review",
        "Awaiting your review",
        "Resulted by someone else; you may review and sign as the second person.",
        lambda actor, now: selected.tests_awaiting_review_by(actor, now=now),
    ),
    Section(
        "my-results",
        "Your results awaiting review",
        "Resulted by you; a second person reviews and signs.",
        lambda actor, now: selected.tests_resulted_by(actor, now=now),
    ),
)


def section(
    key: str, title: str, help_text: str, queryset: QuerySet[Any], limit: int = SECTION_LIMIT
) -> dict:
    """One section of at most `limit` rows, with the count of all (counted only when cut);
    `cut` says when more were left off."""
    rows = list(queryset[: limit + 1])
    count = len(rows) if len(rows) <= limit else queryset.count()
    return {
        "key": key,
        "title": title,
        "help": help_text,
        "rows": rows[:limit],
        "count": count,
        "cut": len(rows) > limit,
    }


def worklist_sections(*, actor, now, may_review: bool = False) -> list[dict]:
    """The sections; with `may_review`, the awaiting-review section names its batches, each
    reviewed together on one page."""
    lead = settings.QC_DUE_SOON_LEAD_HOURS
    sections = [
        section(s.key, s.title, s.help.format(lead=lead), s.query(actor, now)) for s in SECTIONS
    ]
    if may_review:
        awaiting = next(s for s in sections if s["key"] == "awaiting-review")
        awaiting["review_batches"] = list(
            dict.fromkeys(t.batch.lot_number for t in awaiting["rows"])
        )
    return sections
