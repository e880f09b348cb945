"""Celery tasks of the batches app."""

from celery import shared_task

from batches.services.capa import capa_overdue_scan
from batches.services.clinical import follow_up_overdue_scan
from batches.services.equipment import calibration_due_scan
from batches.services.training import training_expiry_scan


# Idempotent like the QC scan (claims are compare-and-set), so late acknowledgement is safe.
@shared_task(name="batches.scan_overdue_visits", acks_late=True, reject_on_worker_lost=True)
def scan_overdue_visits() -> dict:
    return {"visits_overdue": follow_up_overdue_scan()}


# Idempotent too: each record's flag is claimed compare-and-set before its notices.
@shared_task(name="batches.scan_training_expiring", acks_late=True, reject_on_worker_lost=True)
def scan_training_expiring() -> dict:
    return {"trainings_expiring": training_expiry_scan()}


# Idempotent too: each calibration's flag is claimed compare-and-set before its notices.
@shared_task(name="batches.scan_calibrations_due", acks_late=True, reject_on_worker_lost=True)
def scan_calibrations_due() -> dict:
    return calibration_due_scan()


# Idempotent too: each CAPA's flag is claimed compare-and-set before its owner is told.
@shared_task(name="batches.scan_capas_overdue", acks_late=True, reject_on_worker_lost=True)
def scan_capas_overdue() -> dict:
    return {"capas_overdue": capa_overdue_scan()}
