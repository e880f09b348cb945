"""Native instrument export files: upload, a preview parsed by a worker, an atomic accept.

The raw file and its SHA-256 are kept. The same file from the same instrument is recognised
by its hash and changes nothing. The upload only checks what is cheap (size, format, the
instrument's kind, the row count) and queues the parse: allotropy needs seconds and hundreds
of MB per thousand rows, which a web worker must not spend. A Celery task parses the file in
a child process bounded in time and memory and stores the preview (`ready`) or the reason it
could not (`failed`). Rows become readings with a reading_id derived from the file hash and
row number, so accepting goes through the same idempotent path as the readings API.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone

from batches.models import Batch, CellCount
from batches.selectors.counts import current_counts_query
from batches.services.batch_record import day_rule_errors, several_of_a_day
from carnk_mfg.audit import audited, gmp_write
from carnk_mfg.background import enqueue
from carnk_mfg.roles import require_permission
from qc.instrument_files import (
    FORMAT_KINDS,
    FORMAT_LABELS,
    InstrumentFileError,
    ParsedFile,
    ParsedRow,
)
from qc.instrument_files.counting import count_rows
from qc.instrument_files.isolated import parse_in_child
from qc.models import ImportStatus, Instrument, InstrumentImport, QcTest
from qc.services.readings import COUNT_SAMPLE, QC_SAMPLE, ReadingsRejected, readings_submit

if TYPE_CHECKING:
    from django.contrib.auth.models import User


MAX_FILE_BYTES = 5 * 1024 * 1024
PARSE_TASK = "qc.parse_import"
# Which flow gate answers which QC test definition.
GATE_FOR_TEST = {"car_positive": "CAR+", "identity_nk": "CD56+CD3-"}


def _reading_id(sha256: str, row: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"carnk-import:{sha256}:{row}"))


def sample_of(row: ParsedRow) -> str:
    """The label's sample ID. Flow reports name the FCS file (`<sample>_<panel>.fcs`)."""
    if row.gate_name:
        return row.sample_id.rsplit(".", 1)[0].split("_", 1)[0]
    return row.sample_id


def _preview_row(
    row: ParsedRow,
    sha256: str,
    batches: dict[str, Batch],
    tests: dict[int, QcTest],
    counts: Mapping[tuple[int, int], tuple[CellCount, str]],
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "row": row.row,
        "sample_id": sample_of(row),
        "reading_id": _reading_id(sha256, row.row),
        "measured_at": row.measured_at.isoformat() if row.measured_at else None,
        "total_cells_per_ml": row.total_cells_per_ml,
        "viable_cells_per_ml": row.viable_cells_per_ml,
        "viability_pct": row.viability_pct,
        "gate": row.gate_path,
        "percent": row.percent,
        "status": "unmatched",
        "batch": None,
        "note": "",
        "conflict": "",
    }
    count = COUNT_SAMPLE.match(entry["sample_id"])
    qc = QC_SAMPLE.match(entry["sample_id"])
    match = count or qc
    lot = match["lot"] if match else None
    batch = batches.get(lot) if lot is not None else None
    if batch is None:
        entry["note"] = "No batch matches this sample ID." if lot else "Not a known sample ID."
        return entry
    entry["batch"] = batch.lot_number
    if count and row.viable_cells_per_ml is not None and row.total_cells_per_ml:
        day = int(count["day"])
        entry.update(status="matched", kind="count", day=day)
        earlier, earlier_reading = counts.get((batch.pk, day), (None, ""))
        # Only this very row, imported before, is no conflict: the same reading again.
        if earlier is not None and earlier_reading != entry["reading_id"]:
            entry["conflict"] = day_rule_errors(
                batch=batch, day=day, current=earlier, corrects=None, correction_reason=""
            )["day"]
        return entry
    if qc:
        test = tests.get(int(qc["test"]))
        if test is None or test.batch_id != batch.pk:
            entry["note"] = f"Batch {batch.lot_number} has no QC test {qc['test']}."
            return entry
        _answer_qc_test(entry, row, test)
    return entry


def _answer_qc_test(entry: dict[str, Any], row: ParsedRow, test: QcTest) -> None:
    """Whether the row answers the QC test its sample ID names: the flow gate that test
    measures, or a viability for the viability test."""
    wanted = GATE_FOR_TEST.get(test.definition.code)
    if row.gate_name and wanted and row.gate_name == wanted and row.percent is not None:
        entry.update(status="matched", kind="qc", qc_test=test.pk, result=row.percent, unit="%")
    elif row.gate_name:
        entry.update(
            status="ignored",
            note=f"Gate {row.gate_name} is not what {test.definition.code} measures.",
        )
    elif row.viability_pct is not None and test.definition.code == "viability":
        entry.update(
            status="matched", kind="qc", qc_test=test.pk, result=row.viability_pct, unit="%"
        )
    else:
        entry["note"] = f"Nothing in this row answers {test.definition.name}."


def _checked_file(data: bytes) -> None:
    if not data:
        raise ValidationError({"file": "The file is empty."})
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(
            {"file": f"The file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB."}
        )


def _counted(data: bytes, filename: str, instrument: Instrument) -> str:
    """The file's format, read cheaply: refused at once if unreadable, of another kind of
    instrument, or longer than IMPORT_MAX_ROWS, before anything parses it."""
    try:
        counted = count_rows(data, filename)
    except InstrumentFileError as exc:
        raise ValidationError({"file": str(exc)}) from None
    if FORMAT_KINDS[counted.format] != instrument.kind:
        raise ValidationError(
            {
                "file": f"This is a {FORMAT_LABELS[counted.format]} export; {instrument.name} "
                f"({instrument.serial_number}) is a {instrument.get_kind_display().lower()}. "
                "Import it as the instrument that wrote it."
            }
        )
    cap = settings.IMPORT_MAX_ROWS
    if counted.rows > cap:
        raise ValidationError(
            {
                "file": f"The file has {counted.rows:,} rows; at most {cap:,} can be imported "
                "at once: split the export."
            }
        )
    return counted.format


def _file_preview(parsed: ParsedFile, sha256: str) -> dict[str, Any]:
    """Each row matched to the batch and QC test its sample ID names, with the counts
    already recorded for a conflict check, and the totals the preview page shows."""
    lots = set()
    test_ids = set()
    for row in parsed.rows:
        sample = sample_of(row)
        match = COUNT_SAMPLE.match(sample) or QC_SAMPLE.match(sample)
        if match:
            lots.add(match["lot"])
        qc = QC_SAMPLE.match(sample)
        if qc:
            test_ids.add(int(qc["test"]))
    batches = {b.lot_number: b for b in Batch.objects.filter(lot_number__in=lots)}
    tests = {t.pk: t for t in QcTest.objects.select_related("definition").filter(pk__in=test_ids)}
    counts = {
        (c.batch_id, c.day): (c, c.import_reading_id or "")
        for c in current_counts_query()
        .filter(batch__in=batches.values())
        .annotate(import_reading_id=Cast("reading__reading_id", CharField()))
    }
    rows = [_preview_row(r, sha256, batches, tests, counts) for r in parsed.rows]
    _same_day_rows(rows)
    return {
        "format": parsed.format,
        "format_label": parsed.format_label,
        "instrument_serial_in_file": parsed.instrument_serial,
        "warnings": parsed.warnings,
        "rows": rows,
        "matched": sum(r["status"] == "matched" for r in rows),
        "unmatched": [r["sample_id"] for r in rows if r["status"] == "unmatched"],
        "conflicts": [r for r in rows if r["conflict"]],
    }


def _same_day_rows(rows: list[dict[str, Any]]) -> None:
    """Rows of the file that are counts of one batch and day conflict with each other."""
    counts = [r for r in rows if r.get("kind") == "count"]
    several = several_of_a_day(((str(r["row"]), r["batch"], r["day"]) for r in counts), what="Rows")
    for row in counts:
        row["conflict"] = row["conflict"] or several.get(str(row["row"]), "")


def import_stage(
    *, actor: User, instrument: Instrument, filename: str, data: bytes
) -> tuple[InstrumentImport, bool]:
    """Keep the file and queue its parse: (import, False) when new, `parsing`; (earlier
    import, True) when the same file was imported before."""
    require_permission(actor, "qc.submit_reading")
    _checked_file(data)
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = InstrumentImport.objects.filter(instrument=instrument, sha256=sha256).first()
    if earlier is not None:
        return earlier, True
    file_format = _counted(data, filename, instrument)
    with gmp_write(
        actor=actor, permission="qc.submit_reading", reason=f"Import uploaded: {filename}"
    ):
        now = timezone.now()
        try:
            with transaction.atomic():
                staged = InstrumentImport.objects.create(
                    instrument=instrument,
                    filename=filename[:255],
                    sha256=sha256,
                    raw_file=data,
                    file_format=file_format,
                    status=ImportStatus.PARSING,
                    uploaded_by=actor,
                    uploaded_at=now,
                    queued_at=now,
                    parse_attempts=1,
                )
        except IntegrityError:
            return InstrumentImport.objects.get(instrument=instrument, sha256=sha256), True
        transaction.on_commit(partial(_queue_parse, staged.pk))
    return staged, False


def _queue_parse(import_id: int) -> None:
    """Hand the parse to the workers once the upload has committed. A broker that cannot be
    reached must not fail an upload that is already kept: the import stays `parsing` and
    `imports_requeue_stuck` hands it over again when the broker is back."""
    enqueue(PARSE_TASK, import_id, queue=settings.IMPORT_PARSE_QUEUE)


def import_parse(import_id: int) -> str:
    """Parse an import that is `parsing` in a child process (IMPORT_PARSE_SECONDS,
    IMPORT_PARSE_MEMORY_MB) and store its preview (`ready`) or why not (`failed`); returns
    the status. An import no longer `parsing` is left as it is, so a redelivered or repeated
    task changes nothing."""
    staged = InstrumentImport.objects.filter(pk=import_id).first()
    if staged is None or staged.status != ImportStatus.PARSING:
        return staged.status if staged else "missing"
    preview: dict[str, Any] = {}
    failure = ""
    try:
        parsed = parse_in_child(
            bytes(staged.raw_file),
            staged.filename,
            seconds=settings.IMPORT_PARSE_SECONDS,
            memory_mb=settings.IMPORT_PARSE_MEMORY_MB,
        )
        preview = _file_preview(parsed, staged.sha256)
    except InstrumentFileError as exc:
        failure = str(exc)
    reason = f"Import parsed: {staged.filename}" if not failure else "Import could not be parsed"
    with transaction.atomic(), audited(actor=None, reason=reason):
        locked = InstrumentImport.objects.select_for_update().defer("raw_file").get(pk=import_id)
        if locked.status != ImportStatus.PARSING:
            return locked.status
        locked.status = ImportStatus.FAILED if failure else ImportStatus.READY
        locked.preview, locked.failure = preview, failure
        locked.save(update_fields=["status", "preview", "failure"])
    return locked.status


def imports_requeue_stuck(*, now: datetime | None = None) -> dict[str, int]:
    """Hand over again each import left `parsing` since it was last queued: its message was
    never sent (broker down at upload) or was lost with its worker. Waits twice the parse
    limit (at least 5 minutes), so a parse still running is not doubled; after
    IMPORT_PARSE_ATTEMPTS hand-overs the import fails, so a file no worker survives stops
    coming back."""
    now = now or timezone.now()
    wait = timedelta(seconds=max(300, 2 * settings.IMPORT_PARSE_SECONDS))
    counts = {"requeued": 0, "failed": 0}
    with transaction.atomic():
        stuck = (
            InstrumentImport.objects.select_for_update(skip_locked=True)
            .filter(status=ImportStatus.PARSING, queued_at__lt=now - wait)
            .defer("raw_file", "preview")
        )
        for item in stuck:
            if item.parse_attempts >= settings.IMPORT_PARSE_ATTEMPTS:
                item.status = ImportStatus.FAILED
                item.failure = (
                    f"No worker finished parsing the file after {item.parse_attempts} attempts. "
                    "Upload it again, or ask the administrator to check the workers."
                )
                reason, outcome = "Import could not be parsed", "failed"
            else:
                item.parse_attempts += 1
                transaction.on_commit(partial(_queue_parse, item.pk))
                reason, outcome = "Import parse queued again", "requeued"
            item.queued_at = now
            with audited(actor=None, reason=reason):
                item.save(update_fields=["status", "failure", "parse_attempts", "queued_at"])
            counts[outcome] += 1
    return counts


def _refuse_unless_ready(staged: InstrumentImport) -> None:
    refusals = {
        ImportStatus.PARSING: "This file is still being parsed: accept it once its preview "
        "is ready.",
        ImportStatus.FAILED: f"This file could not be parsed, so there is nothing to accept: "
        f"{staged.failure}",
        ImportStatus.ACCEPTED: "This import was already accepted.",
    }
    if staged.status in refusals:
        raise ValidationError({"status": refusals[ImportStatus(staged.status)]})


def import_accept(*, actor: User, staged: InstrumentImport) -> InstrumentImport:
    """Commit every matched row in one transaction; a second accept changes nothing."""
    require_permission(actor, "qc.submit_reading")
    _refuse_unless_ready(staged)
    items = []
    for row in staged.preview.get("rows", []):
        if row["status"] != "matched" or row.get("conflict"):
            continue
        item = {
            "reading_id": row["reading_id"],
            "sample_id": row["sample_id"],
            "measured_at": row["measured_at"] or staged.uploaded_at.isoformat(),
        }
        if row["kind"] == "count":
            item.update(
                total_cells_per_ml=row["total_cells_per_ml"],
                viable_cells_per_ml=row["viable_cells_per_ml"],
                viability_pct=row["viability_pct"],
            )
        else:
            item.update(result=row["result"], unit=row["unit"])
        items.append(item)
    if not items:
        raise ValidationError({"rows": "No row matched a batch: nothing to accept."})
    with gmp_write(
        actor=actor, permission="qc.submit_reading", reason=f"Import accepted: {staged.filename}"
    ):
        locked = InstrumentImport.objects.select_for_update().get(pk=staged.pk)
        _refuse_unless_ready(locked)
        try:
            readings_submit(
                actor=actor, payload=items, instrument=locked.instrument, source_import=locked
            )
        except ReadingsRejected as exc:
            raise ValidationError(
                {
                    f"row {items[int(i)]['sample_id']}": [
                        f"{f}: {'; '.join(m)}" for f, m in errs.items()
                    ]
                    for i, errs in exc.errors.items()
                }
            ) from None
        locked.status, locked.accepted_by, locked.accepted_at = (
            ImportStatus.ACCEPTED,
            actor,
            timezone.now(),
        )
        locked.save(update_fields=["status", "accepted_by", "accepted_at"])
    return locked
