"""Reads of cord blood units."""

from __future__ import annotations

from django.db.models import QuerySet

from batches.models import CordBloodUnit


def cord_blood_unit_list() -> QuerySet[CordBloodUnit]:
    return CordBloodUnit.objects.all()
