"""Reading CAPAs: the list, and which are overdue (the one rule: `overdue_q`)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from batches.models import Capa, CapaState


def overdue_q(*, on: date | None = None) -> Q:
    """An open CAPA whose due date has passed (the day after `due_on`, today by default)."""
    return Q(state=CapaState.OPEN, due_on__lt=on or timezone.localdate())


def capas() -> QuerySet[Capa]:
    """Every CAPA with its owner and deviations, soonest due first."""
    return Capa.objects.select_related(
        "owner", "raised_by", "completed_by", "verified_by"
    ).prefetch_related("deviations__batch")


def capas_overdue_unflagged(*, on: date) -> QuerySet[Capa]:
    """Overdue CAPAs whose owner has not been told yet (the scan's question), by due date."""
    return Capa.objects.filter(overdue_q(on=on), overdue_flagged_at__isnull=True).order_by(
        "due_on", "id"
    )
