"""Reads of the process template pages (not offered by `batches.selectors` yet)."""

from __future__ import annotations

from django.db.models import Count, Prefetch

from batches.models import ProcessTemplate, TemplateStatus, TemplateStep


def template_versions():
    """Every template version with who approved it and its number of steps."""
    return ProcessTemplate.objects.select_related("approved_by").annotate(step_count=Count("steps"))


def templates_for_page():
    """Template versions with their steps in order and each step's parameters."""
    return ProcessTemplate.objects.select_related("approved_by").prefetch_related(
        Prefetch(
            "steps",
            queryset=TemplateStep.objects.order_by("order").prefetch_related("parameters"),
        )
    )


def approved_template_exists() -> bool:
    """Whether a batch can be planned at all (only on an approved template version)."""
    return ProcessTemplate.objects.filter(status=TemplateStatus.APPROVED).exists()
