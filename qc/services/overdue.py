"""Overdue flagging, in the manner of healthchecks' `sendalerts`.

Each test stores its `due_at`. A scan asks three questions, each answered from a partial index
that holds only open tests not yet flagged that way, so closed tests cost nothing:
due soon, overdue, and overdue long enough to escalate to QA. A flag is claimed with
`SELECT ... FOR UPDATE SKIP LOCKED` and a conditional UPDATE, so scans running at once on
several workers never flag one test twice; the alert row's partial unique constraint is the
last guard. Each flag writes its notifications to an outbox;
`qc.services.notices.send_outbox` claims each row before sending, so each email and in-app
notice goes out once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from carnk_mfg.audit import audited
from carnk_mfg.roles import Role
from qc.models import (
    OPEN_TEST,
    AlertKind,
    Channel,
    Notification,
    QcAlert,
    QcTest,
)
from qc.selectors import due_soon_q, overdue_q
from qc.services.notices import role_members, send_outbox

CLAIM_LIMIT = 5000  # per question per scan; a backlog drains over the next minutes


@dataclass
class ScanResult:
    due_soon: int = 0
    overdue: int = 0
    escalated: int = 0
    sent: int = 0
    visits_overdue: int = 0


def unflagged(*, flag_field: str, selects: Q) -> QuerySet[QcTest]:
    """The tests a question selects (`selects` includes "open") whose flag is still unset,
    soonest due first: the shape each question's partial index is built for."""
    return QcTest.objects.filter(selects, **{f"{flag_field}__isnull": True}).order_by("due_at")


def _claim(*, flag_field: str, now: datetime, selects: Q) -> list[QcTest]:
    """Lock and mark the tests one question selects; another scan skips locked rows and
    the UPDATE re-checks the flag, so a test is claimed by exactly one scan."""
    candidates = (
        unflagged(flag_field=flag_field, selects=selects)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("id", flat=True)[:CLAIM_LIMIT]
    )
    ids = list(candidates)
    if not ids:
        return []
    QcTest.objects.filter(id__in=ids, **{f"{flag_field}__isnull": True}).update(**{flag_field: now})
    return list(QcTest.objects.filter(id__in=ids).select_related("definition", "batch"))


def _raise(tests: list[QcTest], kind: str, role: str, now: datetime) -> None:
    if not tests:
        return
    alerts = QcAlert.objects.bulk_create(
        [QcAlert(test=t, kind=kind, raised_at=now) for t in tests], ignore_conflicts=True
    )
    alerts = list(
        QcAlert.objects.filter(test__in=tests, kind=kind, cleared_at__isnull=True).select_related(
            "test__definition", "test__batch"
        )
    )
    users = role_members(role)
    label = AlertKind(kind).label
    rows = []
    for alert in alerts:
        test = alert.test
        subject = f"QC {label.lower()}: {test.definition.name}, batch {test.batch.lot_number}"
        body = (
            f"{test.definition.name} ({test.definition.code}) for batch {test.batch.lot_number} "
            f"is due {test.due_at:%Y-%m-%d %H:%M %Z} and is {test.get_state_display().lower()}."
        )
        for user in users:
            for channel in (Channel.EMAIL, Channel.IN_APP):
                rows.append(
                    Notification(
                        alert=alert,
                        channel=channel,
                        recipient=user,
                        subject=subject,
                        body=body,
                        created_at=now,
                    )
                )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)


def scan_overdue(*, now: datetime | None = None) -> ScanResult:
    """One scan: flag what became due soon, overdue, or escalation-worthy; then send."""
    now = now or timezone.now()
    lead = timedelta(hours=settings.QC_DUE_SOON_LEAD_HOURS)
    escalate_after = timedelta(hours=settings.QC_ESCALATION_DELAY_HOURS)
    result = ScanResult()
    with transaction.atomic(), audited(actor=None, reason="QC overdue scan"):
        overdue = _claim(flag_field="overdue_flagged_at", now=now, selects=overdue_q(now=now))
        _raise(overdue, AlertKind.OVERDUE, Role.QC_ANALYST, now)
        result.overdue = len(overdue)
    with transaction.atomic(), audited(actor=None, reason="QC due-soon scan"):
        soon = _claim(
            flag_field="due_soon_flagged_at", now=now, selects=due_soon_q(now=now, lead=lead)
        )
        _raise(soon, AlertKind.DUE_SOON, Role.QC_ANALYST, now)
        result.due_soon = len(soon)
    with transaction.atomic(), audited(actor=None, reason="QC escalation scan"):
        late = _claim(
            flag_field="escalated_at",
            now=now,
            selects=OPEN_TEST
            & Q(overdue_flagged_at__isnull=False, due_at__lte=now - escalate_after),
        )
        _raise(late, AlertKind.ESCALATED, Role.QA, now)
        result.escalated = len(late)
    with transaction.atomic(), audited(actor=None, reason="Follow-up overdue scan"):
        result.visits_overdue = _flag_overdue_visits(now)
    result.sent = send_outbox(now=now)
    return result


def _flag_overdue_visits(now: datetime) -> int:
    """Follow-up visits past due and not done: the same claim and outbox as QC tests; the
    visit's own `overdue_flagged_at` is its one flag."""
    from batches.models import FollowUpVisit
    from batches.selectors import visit_overdue_q

    ids = list(
        FollowUpVisit.objects.select_for_update(skip_locked=True)
        .filter(visit_overdue_q(now=now), overdue_flagged_at__isnull=True)
        .order_by("due_at")
        .values_list("id", flat=True)[:CLAIM_LIMIT]
    )
    if not ids:
        return 0
    FollowUpVisit.objects.filter(id__in=ids, overdue_flagged_at__isnull=True).update(
        overdue_flagged_at=now
    )
    users = role_members(Role.CLINICAL)
    rows = []
    for visit in FollowUpVisit.objects.filter(id__in=ids).select_related("recipient"):
        subject = f"Follow-up overdue: {visit.visit}, {visit.recipient.subject_id}"
        body = (
            f"The {visit.visit} visit of {visit.recipient.subject_id} "
            f"was due {visit.due_at:%Y-%m-%d}."
        )
        for user in users:
            for channel in (Channel.EMAIL, Channel.IN_APP):
                rows.append(
                    Notification(
                        visit=visit,
                        channel=channel,
                        recipient=user,
                        subject=subject,
                        body=body,
                        created_at=now,
                    )
                )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(ids)
