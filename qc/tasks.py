"""Celery tasks of the QC app."""

from celery import shared_task

from qc.services.overdue import scan_overdue


# The scan is idempotent (claims are compare-and-set), so late acknowledgement is safe: a
# worker lost mid-scan leaves the message to be redelivered, and the rerun flags nothing twice.
@shared_task(name="qc.scan_overdue", acks_late=True, reject_on_worker_lost=True)
def scan_overdue_qc() -> dict:
    result = scan_overdue()
    return {
        "due_soon": result.due_soon,
        "overdue": result.overdue,
        "escalated": result.escalated,
        "sent": result.sent,
    }
