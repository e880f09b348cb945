"""Reads of QC tests: the worklist and API list, and the tests release waits for."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from qc.models import QcTest
from qc.selectors.overdue import with_overdue

if TYPE_CHECKING:
    from batches.models import Batch


def qc_test_list(*, now: datetime) -> QuerySet[QcTest]:
    """QC tests with their batch and definition, each marked `overdue` as of `now`."""
    return with_overdue(QcTest.objects.select_related("batch", "definition"), now=now)


def release_tests(*, batch: Batch | None = None) -> QuerySet[QcTest]:
    """The tests release waits for (required for release) with their definitions, ordered by
    definition, trigger time and id so the last of each definition is the newest; of `batch`,
    or of every batch for a prefetch (`batches.ports.release_tests`)."""
    tests = QcTest.objects.filter(definition__required_for_release=True)
    if batch is not None:
        tests = tests.filter(batch=batch)
    return tests.select_related("definition").order_by("definition_id", "triggered_at", "id")


def qc_test_of_sample(*, sample_id: str) -> QcTest | None:
    """The QC test a sample ID names (`<lot number>-QC<test id>`), with its definition and
    batch; None when it names none (`batches.ports.qc_test_of_sample`)."""
    # The scheme's one home is the readings service, which imports these selectors.
    from qc.services.readings import QC_SAMPLE

    named = QC_SAMPLE.fullmatch(sample_id)
    if named is None:
        return None
    return (
        QcTest.objects.select_related("batch", "definition")
        .filter(pk=int(named["test"]), batch__lot_number__iexact=named["lot"])
        .first()
    )
