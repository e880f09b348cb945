"""Reads of the clinical follow-up after infusion."""

from __future__ import annotations

from django.db.models import Q


def visit_overdue_q(*, now):
    """A follow-up visit is overdue when it is not done and was due before `now`, whether or
    not the scan has flagged it yet (the worklist, the API filter and the scan ask this)."""
    return Q(done_at__isnull=True, due_at__lt=now)
