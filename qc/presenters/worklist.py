"""The analysts' worklist: open QC tests in four sections (due now, due soon, overdue,
awaiting review), each with the one rule of `qc.selectors`."""

from __future__ import annotations

from datetime import timedelta

from qc.models import QcTest, TestState
from qc.selectors import due_soon_q, in_worklist_order, overdue_q, with_overdue

# A worklist section longer than this is cut, with a note; open tests are few in practice.
SECTION_LIMIT = 200


def listed_tests(*, now):
    """QC tests with what a list row names, each marked `overdue` as of `now`."""
    return with_overdue(
        QcTest.objects.select_related("batch", "definition", "resulted_by"), now=now
    )


def section(key: str, title: str, help_text: str, queryset) -> dict:
    """One section of at most SECTION_LIMIT rows; `cut` says when more were left off."""
    rows = list(queryset[: SECTION_LIMIT + 1])
    return {
        "key": key,
        "title": title,
        "help": help_text,
        "rows": rows[:SECTION_LIMIT],
        "cut": len(rows) > SECTION_LIMIT,
    }


def worklist_sections(*, now, lead_hours: float, may_review: bool = False) -> list[dict]:
    """The four sections; with `may_review`, the awaiting-review section names its batches,
    each reviewed together on one page."""
    overdue = overdue_q(now=now)
    tests = listed_tests(now=now)
    sections = [
        section(
            "due-now",
            "Due now",
            "The sample is due and no result is entered yet.",
            in_worklist_order(
                tests.filter(
                    state__in=[TestState.PLANNED, TestState.SAMPLED], sample_due_at__lte=now
                ).exclude(overdue)
            ),
        ),
        section(
            "due-soon",
            "Due soon",
            f"Open tests whose result must be reviewed within {lead_hours:g} h.",
            in_worklist_order(tests.filter(due_soon_q(now=now, lead=timedelta(hours=lead_hours)))),
        ),
        section(
            "overdue",
            "Overdue",
            "Open and past the time their result had to be reviewed.",
            in_worklist_order(tests.filter(overdue)),
        ),
        section(
            "awaiting-review",
            "Awaiting review",
            "Resulted; a second person reviews and signs.",
            in_worklist_order(tests.filter(state=TestState.RESULTED)),
        ),
    ]
    if may_review:
        awaiting = sections[-1]
        awaiting["review_batches"] = list(
            dict.fromkeys(t.batch.lot_number for t in awaiting["rows"])
        )
    return sections
