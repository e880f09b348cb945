"""Reads of the QC specification set pages."""

from __future__ import annotations

from qc.models import QcSpecSet


def spec_sets_for_list():
    """Every spec set by template, newest version first."""
    return QcSpecSet.objects.select_related("template").order_by("template__code", "-version")


def spec_sets_for_page():
    return QcSpecSet.objects.select_related("template", "approved_by").prefetch_related(
        "definitions"
    )
