"""The worklist's order, and what in it waits for one person: the results they may review as
the second person, and the next test they can act on after the one just done."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from carnk_mfg.roles import actor_may
from qc.models import QcTest, TestState

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from batches.models import Batch

# Soonest due first; overdue tests have the earliest `due_at`, so they lead.
WORKLIST_ORDER = ("due_at", "id")


def in_worklist_order(tests: QuerySet[QcTest]) -> QuerySet[QcTest]:
    return tests.order_by(*WORKLIST_ORDER)


def awaiting_review_by_q(user: User | AnonymousUser) -> Q:
    """Resulted by someone other than `user`: what `user` may review as the second person.
    The review service (`_reviewable`) decides each review; this is its question for lists."""
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
