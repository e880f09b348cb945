"""The QC worklists, one query each, in one order: the analysts' worklist page and the home
page both read these, so a count on one is the count on the other; what waits for one person
(the results they may review as the second person, the next test they can act on). Overdue and
due soon are the one rule of `qc.selectors.overdue`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from carnk_mfg.roles import actor_may
from qc.models import QcSpecSet, QcTest, SpecStatus, TestState
from qc.selectors.overdue import due_soon_q, overdue_q, with_overdue

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from batches.models import Batch

# Soonest due first; overdue tests have the earliest `due_at`, so they lead.
WORKLIST_ORDER = ("due_at", "id")


def in_worklist_order(tests: QuerySet[QcTest]) -> QuerySet[QcTest]:
    return tests.order_by(*WORKLIST_ORDER)


def awaiting_review_by_q(user: User | AnonymousUser) -> Q:
    """Resulted by someone other than `user` (or by an instrument): what `user` may review as
    the second person. The review service (`_reviewable`) decides each review; this is its
    question for lists."""
    return Q(state=TestState.RESULTED) & ~Q(resulted_by_id=user.pk)


def qc_results_awaiting_review(*, batch: Batch, user: User | AnonymousUser) -> QuerySet[QcTest]:
    """The batch's results awaiting review that `user` may review, in worklist order, with
    what a review row names."""
    return in_worklist_order(
        QcTest.objects.filter(awaiting_review_by_q(user), batch=batch).select_related(
            "batch", "definition", "resulted_by"
        )
    )


def actionable_q(user: User | AnonymousUser, *, now: datetime) -> Q:
    """The open tests `user` can act on now: a due sample to record, a due result to enter, a
    result of someone else's to review; by the user's permissions (none: nothing)."""
    due = Q(sample_due_at__lte=now)
    found = Q(pk__in=[])
    if actor_may(user, "qc.record_qc_sample"):
        found |= due & Q(state=TestState.PLANNED)
    if actor_may(user, "qc.enter_qc_result"):
        found |= due & Q(state__in=[TestState.PLANNED, TestState.SAMPLED])
    if actor_may(user, "qc.review_qc_result"):
        found |= awaiting_review_by_q(user)
    return found


def qc_next_test(
    *, user: User | AnonymousUser, now: datetime, after: QcTest | None = None
) -> QcTest | None:
    """The first test of the worklist, in its order, that `user` can act on now, other than
    `after` (the one just done)."""
    tests = QcTest.objects.filter(actionable_q(user, now=now)).select_related("batch", "definition")
    if after is not None:
        tests = tests.exclude(pk=after.pk)
    return in_worklist_order(tests).first()


def listed_tests(*, now: datetime) -> QuerySet[QcTest]:
    """QC tests with what a list row names, each marked `overdue` as of `now`."""
    return with_overdue(
        QcTest.objects.select_related("batch", "definition", "resulted_by"), now=now
    )


def tests_due_now(*, now: datetime) -> QuerySet[QcTest]:
    """The sample is due and no result is entered yet (and the test is not yet overdue)."""
    return in_worklist_order(
        listed_tests(now=now)
        .filter(state__in=[TestState.PLANNED, TestState.SAMPLED], sample_due_at__lte=now)
        .exclude(overdue_q(now=now))
    )


def tests_due_soon(*, now: datetime, lead: timedelta) -> QuerySet[QcTest]:
    """Open tests whose result must be reviewed within `lead`."""
    return in_worklist_order(listed_tests(now=now).filter(due_soon_q(now=now, lead=lead)))


def tests_overdue(*, now: datetime) -> QuerySet[QcTest]:
    """Open tests past the time their result had to be reviewed."""
    return in_worklist_order(listed_tests(now=now).filter(overdue_q(now=now)))


def tests_awaiting_review_by(actor: User | AnonymousUser, *, now: datetime) -> QuerySet[QcTest]:
    """Resulted tests `actor` may second-person review."""
    return in_worklist_order(listed_tests(now=now).filter(awaiting_review_by_q(actor)))


def tests_resulted_by(actor: User | AnonymousUser, *, now: datetime) -> QuerySet[QcTest]:
    """`actor`'s own results awaiting someone else's review."""
    return in_worklist_order(
        listed_tests(now=now).filter(state=TestState.RESULTED, resulted_by=actor.pk)
    )


def spec_sets_awaiting_approval() -> QuerySet[QcSpecSet]:
    """Draft spec sets, oldest first: QA approves each."""
    return (
        QcSpecSet.objects.filter(status=SpecStatus.DRAFT).select_related("template").order_by("id")
    )
