"""Reads of the clinical follow-up after infusion."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from batches.models import FollowUpVisit
from carnk_mfg import due_work


def visit_overdue_q(*, now: datetime) -> Q:
    """A follow-up visit is overdue when it is not done and was due before `now`, whether or
    not the scan has flagged it yet (the worklist, the API filter and the scan ask this)."""
    return Q(done_at__isnull=True, due_at__lt=now)


def visits_to_flag_overdue(*, now: datetime) -> QuerySet[FollowUpVisit]:
    """Overdue visits the scan has not flagged yet, soonest due first: what the partial index
    `visit_overdue_scan` holds."""
    return due_work.unflagged(
        FollowUpVisit.objects.all(),
        flag_field="overdue_flagged_at",
        selects=visit_overdue_q(now=now),
    )
