"""When a QC test is overdue or due soon, written here once: the API's filter and field, the
worklist, the test and batch pages and the overdue scan all ask these."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from qc.models import OPEN_TEST, QcTest


def overdue_q(*, now: datetime) -> Q:
    """A test is overdue when it is still open and its result was due for review before
    `now`, whether or not the scan has flagged it yet."""
    return OPEN_TEST & Q(due_at__lt=now)


def due_soon_q(*, now: datetime, lead: timedelta) -> Q:
    """Open and due for review within `lead` from `now` (not yet overdue)."""
    return OPEN_TEST & Q(due_at__gte=now, due_at__lte=now + lead)


def with_overdue(tests: QuerySet[QcTest], *, now: datetime) -> QuerySet[QcTest]:
    """Each test with `overdue` (a boolean) computed by the database from `overdue_q`, so a
    list marks its rows with the same rule it filters by, without a Python copy of it."""
    return tests.annotate(
        overdue=ExpressionWrapper(overdue_q(now=now), output_field=BooleanField())
    )


def qc_tests_marked_overdue(*, now: datetime) -> QuerySet[QcTest]:
    """QC tests with their definitions, each marked `overdue` as of `now` (a batch's page
    prefetches these through `batches.ports.qc_tests_marked_overdue`)."""
    return with_overdue(QcTest.objects.select_related("definition"), now=now)
