"""Reads of the clinical follow-up after infusion."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from batches.models import Batch, FollowUpVisit, MaterialUse
from carnk_mfg import due_work


def made_with_integrating_vector(batch: Batch) -> bool:
    """Whether the batch was transduced with a vector lot: the lab's vectors are retroviral,
    which integrate into the cells' genome (long-term follow-up applies)."""
    return MaterialUse.objects.filter(step__batch=batch, vector_lot__isnull=False).exists()


def visit_open_q() -> Q:
    """A follow-up visit is open while it is neither done nor closed by the end of the
    recipient's follow-up (lost, died...)."""
    return Q(done_at__isnull=True, closed_at__isnull=True)


def visit_overdue_q(*, now: datetime) -> Q:
    """A follow-up visit is overdue when it is open and was due before `now`, whether or
    not the scan has flagged it yet (the worklist, the API filter and the scan ask this)."""
    return visit_open_q() & Q(due_at__lt=now)


def visits_to_flag_overdue(*, now: datetime) -> QuerySet[FollowUpVisit]:
    """Overdue visits the scan has not flagged yet, soonest due first: what the partial index
    `visit_overdue_scan` holds."""
    return due_work.unflagged(
        FollowUpVisit.objects.all(),
        flag_field="overdue_flagged_at",
        selects=visit_overdue_q(now=now),
    )
