"""Reading phase I OOS investigations."""

from __future__ import annotations

from django.db.models import QuerySet

from qc.models import OosInvestigation


def oos_investigations() -> QuerySet[OosInvestigation]:
    """Every phase I investigation with its result and people, newest first."""
    return OosInvestigation.objects.select_related(
        "test__definition", "test__batch", "completed_by", "approved_by"
    ).order_by("-opened_at", "-id")
