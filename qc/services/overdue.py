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
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from carnk_mfg import due_work
from carnk_mfg.bulk_insert import array_literal
from carnk_mfg.due_work import CLAIM_LIMIT
from carnk_mfg.roles import Role
from qc.models import OPEN_TEST, AlertKind, QcAlert, QcTest, TestState
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


def raise_alerts(test_ids: list[int], *, kind: str, role: str, now: datetime) -> None:
    """One open alert of `kind` per test (a test that has one open keeps it), and its notices
    to everyone in `role`: one INSERT of the alerts and one of their notices, built from the
    few values they name, whatever the number of tests."""
    alerts = QcAlert._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(alerts.db_table)} "  # noqa: S608 - the model's table
            "(test_id, kind, raised_at) SELECT unnest(%s::bigint[]), %s, %s "
            "ON CONFLICT DO NOTHING",
            [array_literal(test_ids), kind, now],
        )
    raised = QcAlert.objects.filter(
        test_id__in=test_ids, kind=kind, cleared_at__isnull=True
    ).values_list(
        "id",
        "test__definition__name",
        "test__definition__code",
        "test__batch__lot_number",
        "test__due_at",
        "test__state",
    )
    label = AlertKind(kind).label.lower()
    notices = [
        (
            alert_id,
            f"QC {label}: {name}, batch {lot}",
            f"{name} ({code}) for batch {lot} is due {due_at:%Y-%m-%d %H:%M %Z} "
            f"and is {TestState(state).label.lower()}.",
        )
        for alert_id, name, code, lot, due_at, state in raised
    ]
    post_notices(about="alert", notices=notices, people=role_members(role), now=now)


def flag(*, flag_field: str, selects: Q, kind: str, role: str, now: datetime, reason: str) -> int:
    """One question: claim the tests it selects, once each, and raise their alerts."""
    claimed = due_work.flag_ids_once(
        unflagged(flag_field=flag_field, selects=selects),
        flag_field=flag_field,
        now=now,
        announce=lambda ids: raise_alerts(ids, kind=kind, role=role, now=now),
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
    # Sent after every flag has committed, never inside a claim's transaction: a slow or
    # failing mail server holds no lock on the tests, and the outbox row is what makes each
    # notice go out once.
    result.sent = send_outbox(now=now)
    return result
