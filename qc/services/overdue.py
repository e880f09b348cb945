"""Overdue flagging of QC tests, in the manner of healthchecks' `sendalerts`
(`carnk_mfg.due_work`).

Each test stores its `due_at`. A scan asks three questions, each answered from a partial index
that holds only open tests not yet flagged that way, so closed tests cost nothing: due soon,
overdue, and overdue long enough to escalate to QA. Each flag is claimed once however many
scans run at once (the alert row's partial unique constraint is the last guard) and writes its
notifications to the outbox; `qc.services.notices.send_outbox` then claims each row before
sending, so each e-mail and in-app notice goes out once. Follow-up visits are scanned the same
way by `batches.services.clinical.follow_up_overdue_scan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from carnk_mfg import due_work
from carnk_mfg.due_work import CLAIM_LIMIT
from carnk_mfg.roles import Role
from qc.models import OPEN_TEST, AlertKind, QcAlert, QcTest
from qc.selectors import due_soon_q, overdue_q
from qc.services.notices import post_notices, role_members, send_outbox

__all__ = ["CLAIM_LIMIT", "ScanResult", "scan_overdue", "unflagged"]


@dataclass
class ScanResult:
    due_soon: int = 0
    overdue: int = 0
    escalated: int = 0
    sent: int = 0


def unflagged(*, flag_field: str, selects: Q) -> QuerySet[QcTest]:
    """The tests a question selects (`selects` includes "open") whose flag is still unset,
    soonest due first: the shape each question's partial index is built for."""
    return due_work.unflagged(QcTest.objects.all(), flag_field=flag_field, selects=selects)


def raise_alerts(tests: list[QcTest], *, kind: str, role: str, now: datetime) -> None:
    """One open alert of `kind` per test, and its notices to everyone in `role`."""
    QcAlert.objects.bulk_create(
        [QcAlert(test=t, kind=kind, raised_at=now) for t in tests], ignore_conflicts=True
    )
    alerts = QcAlert.objects.filter(
        test__in=tests, kind=kind, cleared_at__isnull=True
    ).select_related("test__definition", "test__batch")
    label = AlertKind(kind).label
    notices = []
    for alert in alerts:
        test = alert.test
        subject = f"QC {label.lower()}: {test.definition.name}, batch {test.batch.lot_number}"
        body = (
            f"{test.definition.name} ({test.definition.code}) for batch {test.batch.lot_number} "
            f"is due {test.due_at:%Y-%m-%d %H:%M %Z} and is {test.get_state_display().lower()}."
        )
        notices.append((alert, subject, body))
    post_notices(about="alert", notices=notices, people=role_members(role), now=now)


def flag(*, flag_field: str, selects: Q, kind: str, role: str, now: datetime, reason: str) -> int:
    """One question: claim the tests it selects, once each, and raise their alerts."""
    claimed = due_work.flag_once(
        unflagged(flag_field=flag_field, selects=selects),
        flag_field=flag_field,
        now=now,
        related=("definition", "batch"),
        announce=lambda tests: raise_alerts(tests, kind=kind, role=role, now=now),
        reason=reason,
    )
    return len(claimed)


def scan_overdue(*, now: datetime | None = None) -> ScanResult:
    """One scan: flag what became overdue, due soon, or escalation-worthy; then send."""
    now = now or timezone.now()
    lead = timedelta(hours=settings.QC_DUE_SOON_LEAD_HOURS)
    escalate_after = timedelta(hours=settings.QC_ESCALATION_DELAY_HOURS)
    result = ScanResult()
    result.overdue = flag(
        flag_field="overdue_flagged_at",
        selects=overdue_q(now=now),
        kind=AlertKind.OVERDUE,
        role=Role.QC_ANALYST,
        now=now,
        reason="QC overdue scan",
    )
    result.due_soon = flag(
        flag_field="due_soon_flagged_at",
        selects=due_soon_q(now=now, lead=lead),
        kind=AlertKind.DUE_SOON,
        role=Role.QC_ANALYST,
        now=now,
        reason="QC due-soon scan",
    )
    result.escalated = flag(
        flag_field="escalated_at",
        selects=OPEN_TEST & Q(overdue_flagged_at__isnull=False, due_at__lte=now - escalate_after),
        kind=AlertKind.ESCALATED,
        role=Role.QA,
        now=now,
        reason="QC escalation scan",
    )
    result.sent = send_outbox(now=now)
    return result
