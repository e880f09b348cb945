"""Printing a bag label on the thermal label printer: ZPL II sent over raw TCP (the printer's
port 9100), each print a job in the audit trail with who, why and the outcome."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches import documents, selectors
from batches.models import DoseUnit, DoseUnitStatus, LabelPrintJob, LabelPrintOutcome
from carnk_mfg.audit import gmp_write
from carnk_mfg.errors import Unavailable
from carnk_mfg.roles import require_permission

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

PRINT_LABEL = "batches.print_label"
# A bag that must not be used, or is already in a patient, gets no new label.
NOT_LABELLED: dict[str, str] = {
    DoseUnitStatus.REJECTED: "it was rejected",
    DoseUnitStatus.RECALLED: "it was recalled",
    DoseUnitStatus.INFUSED: "it was infused",
}


class LabelPrinterUnavailable(Unavailable):
    """The label printer is not configured, or did not take the label (the job is failed)."""

    def __init__(self, message: str, job: LabelPrintJob | None = None) -> None:
        super().__init__(message)
        self.job = job


def label_printer() -> tuple[str, int, float]:
    """The configured printer's host, port and timeout; refused when none is configured."""
    host = settings.LABEL_PRINTER_HOST.strip()
    if not host:
        raise LabelPrinterUnavailable(
            "No label printer is configured (LABEL_PRINTER_HOST); download the ZPL instead."
        )
    return host, settings.LABEL_PRINTER_PORT, settings.LABEL_PRINTER_TIMEOUT


def _send(host: str, port: int, data: bytes, timeout: float) -> None:
    """Raw TCP: connect, send every byte, close (the printer sends nothing back)."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)


def _failure(printer: str, timeout: float, exc: OSError) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"The label printer {printer} did not answer within {timeout:g} s."
    why = exc.strerror or type(exc).__name__
    return f"The label printer {printer} could not be reached: {why}."


def dose_label_print(
    *,
    actor: User,
    dose_unit: DoseUnit,
    reason: str = "Bag label printed",
    request: HttpRequest | None = None,
) -> LabelPrintJob:
    """Send the bag's label to the label printer. The job is recorded before the label is
    sent (so a label that may exist has its row) and its outcome after; the connection is
    made outside any transaction. A printer that is not configured or does not take the
    label raises LabelPrinterUnavailable, the job recorded as failed."""
    require_permission(actor, PRINT_LABEL)
    host, port, timeout = label_printer()
    printer = f"{host}:{port}"
    try:
        zpl = documents.bag_label_zpl(selectors.bag_label_for(dose_unit)).encode("utf-8")
    except ValueError as exc:  # content that does not fit, or a bag not ready for a label
        raise ValidationError({"label": f"The label cannot be printed: {exc}"}) from exc
    extra = {"workstation": request.META.get("REMOTE_ADDR")} if request is not None else {}
    with gmp_write(actor=actor, permission=PRINT_LABEL, reason=reason, **extra):
        unit = DoseUnit.objects.select_for_update(of=("self",)).get(pk=dose_unit.pk)
        if unit.status in NOT_LABELLED:
            why = NOT_LABELLED[unit.status]
            raise ValidationError({"dose_unit": f"Bag {unit.division} gets no new label: {why}."})
        job = LabelPrintJob.objects.create(
            dose_unit=unit,
            printer=printer,
            printed_by=actor,
            printed_at=timezone.now(),
            reason=reason.strip(),
        )
    try:
        _send(host, port, zpl, timeout)
    except OSError as exc:
        job.outcome, job.error = LabelPrintOutcome.FAILED, _failure(printer, timeout, exc)
    else:
        job.outcome, job.bytes_sent = LabelPrintOutcome.PRINTED, len(zpl)
    with gmp_write(actor=actor, permission=PRINT_LABEL, reason=reason, **extra):
        job.save(update_fields=["outcome", "error", "bytes_sent"])
    if job.outcome == LabelPrintOutcome.FAILED:
        raise LabelPrinterUnavailable(f"{job.error} Nothing was printed; try again.", job)
    return job
