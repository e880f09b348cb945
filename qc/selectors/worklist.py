"""The QC worklists, one query each: the analysts' worklist page and the home page both read
these, so a count on one is the count on the other. Overdue and due soon are the one rule of
`qc.selectors.overdue`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from qc.models import QcSpecSet, QcTest, SpecStatus, TestState
from qc.selectors.overdue import due_soon_q, overdue_q, with_overdue

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def listed_tests(*, now: datetime) -> QuerySet[QcTest]:
    """QC tests with what a list row names, each marked `overdue` as of `now`."""
    return with_overdue(
        QcTest.objects.select_related("batch", "definition", "resulted_by"), now=now
    )


def tests_due_now(*, now: datetime) -> QuerySet[QcTest]:
    """The sample is due and no result is entered yet (and the test is not yet overdue)."""
    return (
        listed_tests(now=now)
        .filter(state__in=[TestState.PLANNED, TestState.SAMPLED], sample_due_at__lte=now)
        .exclude(overdue_q(now=now))
        .order_by("due_at", "id")
    )


def tests_due_soon(*, now: datetime, lead: timedelta) -> QuerySet[QcTest]:
    """Open tests whose result must be reviewed within `lead`."""
    return listed_tests(now=now).filter(due_soon_q(now=now, lead=lead)).order_by("due_at", "id")


def tests_overdue(*, now: datetime) -> QuerySet[QcTest]:
    """Open tests past the time their result had to be reviewed."""
    return listed_tests(now=now).filter(overdue_q(now=now)).order_by("due_at", "id")


def tests_awaiting_review_by(actor: User | AnonymousUser, *, now: datetime) -> QuerySet[QcTest]:
    """Resulted tests `actor` may second-person review: entered by someone else (or by an
    instrument)."""
    return (
        listed_tests(now=now)
        .filter(state=TestState.RESULTED)
        .exclude(resulted_by=actor.pk)
        .order_by("due_at", "id")
    )


def tests_resulted_by(actor: User | AnonymousUser, *, now: datetime) -> QuerySet[QcTest]:
    """`actor`'s own results awaiting someone else's review."""
    return (
        listed_tests(now=now)
        .filter(state=TestState.RESULTED, resulted_by=actor.pk)
        .order_by("due_at", "id")
    )


def spec_sets_awaiting_approval() -> QuerySet[QcSpecSet]:
    """Draft spec sets, oldest first: QA approves each."""
    return (
        QcSpecSet.objects.filter(status=SpecStatus.DRAFT).select_related("template").order_by("id")
    )
