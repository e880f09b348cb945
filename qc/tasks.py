"""Celery tasks of the QC app."""

from celery import shared_task
from django.conf import settings

from qc.services.imports import PARSE_TASK, import_parse, imports_requeue_stuck
from qc.services.overdue import scan_overdue
from qc.services.trends import scan_trends


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


# The parse itself runs in a child process bounded by IMPORT_PARSE_SECONDS and
# IMPORT_PARSE_MEMORY_MB (qc.instrument_files.isolated); the task's own limit only backs that
# up. Late acknowledgement is safe: a redelivered task finds the import no longer `parsing`
# and does nothing. A worker lost mid-task is not retried from the message (which could loop
# on a file that kills workers); the re-queue scan hands the import over again, a few times.
@shared_task(
    name=PARSE_TASK,
    acks_late=True,
    reject_on_worker_lost=False,
    time_limit=settings.IMPORT_PARSE_SECONDS + 60,
    soft_time_limit=settings.IMPORT_PARSE_SECONDS + 30,
)
def parse_import(import_id: int) -> str:
    return import_parse(import_id)


@shared_task(name="qc.requeue_stuck_imports", acks_late=True, reject_on_worker_lost=True)
def requeue_stuck_imports() -> dict:
    return imports_requeue_stuck()


# One scan at a time (the scan row is locked), and a rerun finds nothing new: safe to redeliver.
@shared_task(name="qc.scan_trends", acks_late=True, reject_on_worker_lost=True)
def scan_trends_task() -> dict:
    result = scan_trends()
    return {"batches": result.batches, "points": result.points, "signals": result.signals}
