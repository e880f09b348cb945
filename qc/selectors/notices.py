"""Reads of a person's in-app notices. A notice stands while its cause is open and goes by
itself once the cause is resolved, decided here, at read time, from the cause's current
state: a QC alert once it is cleared or its test is closed (reviewed or cancelled), an
overdue follow-up visit once the visit is recorded, a trend signal once QA assessed it. A
recall notice stands until read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from qc.models import OPEN_TEST_STATES, Channel, Notification

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def cause_open_q() -> Q:
    """The notice's cause still wants attention."""
    alert_open = Q(alert__isnull=True) | Q(
        alert__cleared_at__isnull=True, alert__test__state__in=OPEN_TEST_STATES
    )
    visit_open = Q(visit__isnull=True) | Q(
        visit__done_at__isnull=True, visit__closed_at__isnull=True
    )
    signal_open = Q(trend_signal__isnull=True) | Q(trend_signal__assessed_at__isnull=True)
    return alert_open & visit_open & signal_open


def in_app_notices(user: User | AnonymousUser) -> QuerySet[Notification]:
    """The user's in-app notices, each with `resolved` (its cause no longer open)."""
    return Notification.objects.filter(recipient=user.pk, channel=Channel.IN_APP).annotate(
        cause_open=ExpressionWrapper(cause_open_q(), output_field=BooleanField())
    )


def unread_notices(user: User | AnonymousUser) -> QuerySet[Notification]:
    """Notices the user has not read whose cause is still open: the nav badge's count."""
    return in_app_notices(user).filter(cause_open_q(), read_at__isnull=True)
