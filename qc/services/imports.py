"""Native instrument export files: staged preview, then an atomic accept.

The raw file and its SHA-256 are kept. The same file from the same instrument is recognised
by its hash and changes nothing. Rows become readings with a reading_id derived from the file
hash and row number, so accepting goes through the same idempotent path as the readings API.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from batches.models import Batch
from batches.selectors.counts import current_counts_query
from batches.services.batch_record import several_of_a_day
from carnk_mfg.audit import gmp_write
from carnk_mfg.roles import require_permission
from qc.instrument_files import (
    FORMAT_KINDS,
    InstrumentFileError,
    ParsedFile,
    ParsedRow,
    parse_instrument_file,
)
from qc.models import ImportStatus, Instrument, InstrumentImport, QcTest
from qc.services.readings import COUNT_SAMPLE, QC_SAMPLE, ReadingsRejected, readings_submit

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_FILE_BYTES = 5 * 1024 * 1024
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
    counts: dict[tuple[int, int], tuple[float, str]],
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
        earlier = counts.get((batch.pk, day))
        # One count per batch and day: only this very row, imported before, is no conflict.
        if earlier is not None and earlier[1] != entry["reading_id"]:
            entry["conflict"] = (
                f"Batch {batch.lot_number} already has a day {day} count of "
                f"{earlier[0]:.3g} viable cells/mL; to replace it, record a correction "
                "with a reason."
            )
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


def _parsed(data: bytes, filename: str, instrument: Instrument) -> ParsedFile:
    try:
        parsed = parse_instrument_file(data, filename)
    except InstrumentFileError as exc:
        raise ValidationError({"file": str(exc)}) from None
    if FORMAT_KINDS[parsed.format] != instrument.kind:
        raise ValidationError(
            {
                "file": f"This is a {parsed.format_label} export; {instrument.name} "
                f"({instrument.serial_number}) is a {instrument.get_kind_display().lower()}. "
                "Import it as the instrument that wrote it."
            }
        )
    return parsed


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
        (batch_id, day): (viable, str(reading_id or ""))
        for batch_id, day, viable, reading_id in current_counts_query()
        .filter(batch__in=batches.values())
        .values_list("batch_id", "day", "viable_cells_per_ml", "reading__reading_id")
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
    """Parse and preview a file; (import, False) when new, (earlier import, True) when the
    same file was imported before."""
    require_permission(actor, "qc.submit_reading")
    _checked_file(data)
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = InstrumentImport.objects.filter(instrument=instrument, sha256=sha256).first()
    if earlier is not None:
        return earlier, True
    parsed = _parsed(data, filename, instrument)
    preview = _file_preview(parsed, sha256)
    with gmp_write(
        actor=actor, permission="qc.submit_reading", reason=f"Import staged: {filename}"
    ):
        try:
            with transaction.atomic():
                staged = InstrumentImport.objects.create(
                    instrument=instrument,
                    filename=filename[:255],
                    sha256=sha256,
                    raw_file=data,
                    file_format=parsed.format,
                    preview=preview,
                    uploaded_by=actor,
                    uploaded_at=timezone.now(),
                )
        except IntegrityError:
            return InstrumentImport.objects.get(instrument=instrument, sha256=sha256), True
    return staged, False


def import_accept(*, actor: User, staged: InstrumentImport) -> InstrumentImport:
    """Commit every matched row in one transaction; a second accept changes nothing."""
    require_permission(actor, "qc.submit_reading")
    if staged.status == ImportStatus.ACCEPTED:
        raise ValidationError({"status": "This import was already accepted."})
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
        if locked.status == ImportStatus.ACCEPTED:
            raise ValidationError({"status": "This import was already accepted."})
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
