"""Instrument readings: one object or a list, idempotent by the client's `reading_id`.

Sample-ID scheme (printed on sample labels, documented in the README):
  `<lot number>-D<culture day>`  a cell count of that batch on that day, e.g. CNK-26000001-D07
  `<lot number>-QC<test id>`     the sample of one QC test, e.g. CNK-26000001-QC42
A whole request is validated before anything is written; one bad item rejects it all, and the
errors name each item's index and field.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from batches.models import Batch, CellCount, CountSource
from batches.selectors.counts import current_counts_of_days
from batches.services.batch_record import cell_count_build, several_of_a_day
from batches.services.equipment import equipment_usability
from carnk_mfg.audit import audited
from carnk_mfg.bulk_insert import bulk_insert
from carnk_mfg.fields import field_errors
from carnk_mfg.roles import require_permission
from carnk_mfg.timeutil import check_happened, to_utc
from qc.models import Instrument, InstrumentImport, InstrumentReading, QcTest
from qc.services.results import qc_result_enter

if TYPE_CHECKING:
    from django.contrib.auth.models import User

COUNT_SAMPLE = re.compile(r"^(?P<lot>[A-Za-z0-9][A-Za-z0-9-]*?)-D(?P<day>\d{1,2})$")
QC_SAMPLE = re.compile(r"^(?P<lot>[A-Za-z0-9][A-Za-z0-9-]*?)-QC(?P<test>\d{1,12})$")


def count_sample_id(lot_number: str, day: int) -> str:
    return f"{lot_number}-D{day:02d}"


def qc_sample_id(lot_number: str, test_id: int) -> str:
    return f"{lot_number}-QC{test_id}"


class ReadingsRejected(Exception):
    """One or more items are wrong: `errors` maps each item's index to {field: [messages]}."""

    def __init__(self, errors: dict[str, dict[str, list[str]]]):
        super().__init__(f"{len(errors)} reading(s) rejected")
        self.errors = errors


@dataclass
class Count:
    """A cell count's day and numbers, read to the hundredths the record keeps."""

    day: int
    total_cells_per_ml: float
    viable_cells_per_ml: float
    viability_pct: Decimal | None
    volume_ml: Decimal | None
    # A correction names the day's current count (its id) and says why.
    corrects: int | None = None
    correction_reason: str = ""


@dataclass
class Item:
    index: int
    reading_id: uuid.UUID
    sample_id: str
    measured_at: datetime
    raw: dict[str, Any]
    lot: str = ""
    count: Count | None = None
    test_id: int | None = None
    result: object = None
    unit: str = ""


@dataclass
class SubmitResult:
    created: list[str]
    existing: list[str]


def _number(value: object, name: str, errors: dict[str, list[str]]) -> float | None:
    """The number an instrument sent, or None; its bounds are the count's rules, checked by
    `cell_count_build`."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors[name] = ["Must be a number."]
        return None
    try:
        number = float(str(value).replace(" ", ""))
    except ValueError:
        errors[name] = [f"{str(value)[:40]!r} is not a number."]
        return None
    if not math.isfinite(number):
        errors[name] = ["Must be a finite number."]
        return None
    return number


def _reading_id_of(raw: dict[str, Any], errors: dict[str, list[str]]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw.get("reading_id", "")))
    except ValueError:
        errors["reading_id"] = ["Required: a UUID the client generates once per reading."]
        return None


def _sample_id_of(raw: dict[str, Any], errors: dict[str, list[str]]) -> str:
    sample_id = raw.get("sample_id")
    if not isinstance(sample_id, str) or not sample_id.strip():
        errors["sample_id"] = ["Required."]
        return ""
    refused = field_errors(InstrumentReading, {"sample_id": sample_id.strip()})
    if refused:
        errors.update(refused)
        return ""
    return sample_id.strip()


def _measured_at_of(raw: dict[str, Any], errors: dict[str, list[str]]) -> datetime | None:
    measured_at = raw.get("measured_at")
    try:
        parsed_at = parse_datetime(measured_at) if isinstance(measured_at, str) else None
    except ValueError:
        parsed_at = None
    parsed_at = to_utc(parsed_at) if parsed_at is not None and parsed_at.tzinfo else None
    if parsed_at is None:
        errors["measured_at"] = ["Required: an ISO 8601 date-time with its time zone."]
    return parsed_at


def _count_of(raw: dict[str, Any], day: int, errors: dict[str, list[str]]) -> Count | None:
    """A cell count's numbers, or None when a required one is missing or wrong."""
    total = _number(raw.get("total_cells_per_ml"), "total_cells_per_ml", errors)
    viable = _number(raw.get("viable_cells_per_ml"), "viable_cells_per_ml", errors)
    viability = _number(raw.get("viability_pct"), "viability_pct", errors)
    volume = _number(raw.get("volume_ml"), "volume_ml", errors)
    for name, value in (("total_cells_per_ml", total), ("viable_cells_per_ml", viable)):
        if value is None and name not in errors:
            errors[name] = ["Required for a cell count."]
    corrects, reason = _correction_of(raw, errors)
    if total is None or viable is None or errors:
        return None
    # Read to the hundredths the record keeps (instruments print more digits).
    return Count(
        day=day,
        total_cells_per_ml=total,
        viable_cells_per_ml=viable,
        viability_pct=None if viability is None else Decimal(str(round(viability, 2))),
        volume_ml=None if volume is None else Decimal(str(round(volume, 2))),
        corrects=corrects,
        correction_reason=reason,
    )


def _correction_of(raw: dict[str, Any], errors: dict[str, list[str]]) -> tuple[int | None, str]:
    """The count a reading corrects (its id) and why, when it is a correction."""
    corrects = raw.get("corrects")
    reason = raw.get("correction_reason")
    if reason is not None and not isinstance(reason, str):
        errors["correction_reason"] = ["Must be text."]
        reason = ""
    if corrects is None or corrects == "":
        return None, reason or ""
    if isinstance(corrects, bool) or not isinstance(corrects, int) or corrects < 1:
        errors["corrects"] = ["The id of the count this reading corrects: a positive integer."]
        return None, reason or ""
    return corrects, reason or ""


def _check_qc_result(
    raw: dict[str, Any], measured_at: datetime | None, errors: dict[str, list[str]]
) -> None:
    happened: dict[str, str] = {}
    check_happened(happened, "measured_at", measured_at, what="A result")
    errors.update({name: [message] for name, message in happened.items()})
    if raw.get("result") in (None, ""):
        errors["result"] = ["Required for a QC sample: the measured value."]


def _parse_item(index: int, raw: object) -> Item | dict[str, list[str]]:
    """One reading as an item, or its errors by field when anything in it is wrong."""
    if not isinstance(raw, dict):
        return {"non_field_errors": ["Each reading is a JSON object."]}
    errors: dict[str, list[str]] = {}
    reading_id = _reading_id_of(raw, errors)
    sample_id = _sample_id_of(raw, errors)
    measured_at = _measured_at_of(raw, errors)
    lot, count, test_id = "", None, None
    count_match = COUNT_SAMPLE.match(sample_id)
    qc_match = QC_SAMPLE.match(sample_id)
    if count_match:
        lot = count_match["lot"]
        count = _count_of(raw, int(count_match["day"]), errors)
    elif qc_match:
        lot, test_id = qc_match["lot"], int(qc_match["test"])
        _check_qc_result(raw, measured_at, errors)
    elif "sample_id" not in errors:
        errors["sample_id"] = [
            f"{sample_id[:60]!r} is not a known sample ID: use <lot>-D<day> for counts or "
            "<lot>-QC<test id> for QC samples."
        ]
    if errors:
        return errors
    # Without an error, the reading ID and the time were both read.
    assert reading_id is not None and measured_at is not None
    return Item(
        index=index,
        reading_id=reading_id,
        sample_id=sample_id,
        measured_at=measured_at,
        raw=raw,
        lot=lot,
        count=count,
        test_id=test_id,
        result=raw.get("result") if test_id is not None else None,
        unit=str(raw.get("unit") or "")[:40] if test_id is not None else "",
    )


def _payload_items(payload: object) -> list[Any]:
    """The readings of a request: one object, or a non-empty list of at most the limit."""
    items_raw = payload if isinstance(payload, list) else [payload]
    limit = settings.READINGS_PER_REQUEST_MAX
    if not items_raw:
        raise ValidationError({"non_field_errors": "Send one reading or a non-empty list."})
    if len(items_raw) > limit:
        raise ValidationError({"non_field_errors": f"At most {limit} readings per request."})
    return items_raw


def _parse_items(items_raw: list[Any], errors: dict[str, dict[str, list[str]]]) -> list[Item]:
    """The well-formed items; each other item's errors land under its index."""
    items: list[Item] = []
    for index, raw in enumerate(items_raw):
        parsed = _parse_item(index, raw)
        if isinstance(parsed, Item):
            items.append(parsed)
        else:
            errors[str(index)] = parsed
    return items


def _unique_by_reading_id(items: list[Item], errors: dict[str, dict[str, list[str]]]) -> list[Item]:
    """One item per reading_id: a repeat is the same reading sent twice unless its values
    differ, which is an error."""
    seen: dict[uuid.UUID, Item] = {}
    for item in items:
        other = seen.get(item.reading_id)
        if other is not None and other.raw != item.raw:
            errors[str(item.index)] = {
                "reading_id": [f"Also used by item {other.index} with other values."]
            }
        seen.setdefault(item.reading_id, item)
    return list(seen.values())


def _samples_found(
    items: list[Item], errors: dict[str, dict[str, list[str]]]
) -> tuple[dict[str, Batch], dict[int, QcTest]]:
    """The batches and QC tests the sample IDs name; a sample naming none is an error."""
    batches = {b.lot_number: b for b in Batch.objects.filter(lot_number__in={i.lot for i in items})}
    tests = {
        t.pk: t
        for t in QcTest.objects.select_related("definition", "batch").filter(
            pk__in={i.test_id for i in items if i.test_id}
        )
    }
    for item in items:
        batch = batches.get(item.lot)
        if batch is None:
            errors.setdefault(str(item.index), {})["sample_id"] = [
                f"No batch with lot number {item.lot!r}."
            ]
        elif item.test_id is not None:
            test = tests.get(item.test_id)
            if test is None or test.batch_id != batch.pk:
                errors.setdefault(str(item.index), {})["sample_id"] = [
                    f"Batch {item.lot} has no QC test {item.test_id}."
                ]
    return batches, tests


def instrument_refusal(instrument: Instrument, *, on: date) -> str:
    """Why `instrument`'s data must be refused on day `on`, or "" when it may send: its own
    record (retired, calibration due), and for a counter that is also bench equipment, the
    same usability a step's scan of it obeys (status, calibration, maintenance)."""
    refusal = instrument.refusal(on=on)
    equipment = instrument.equipment
    if refusal or equipment is None:
        return refusal
    usability = equipment_usability(equipment, on=on)
    if usability:
        return ""
    return f"{usability.reason} Instrument {instrument.serial_number}'s data cannot be accepted."


def readings_submit(
    *,
    actor: User,
    payload: object,
    instrument: Instrument,
    source_import: InstrumentImport | None = None,
) -> SubmitResult:
    """Validate every item, then write the new ones in one transaction (retried once if a
    concurrent identical request won the race for a reading_id)."""
    require_permission(actor, "qc.submit_reading")
    refusal = instrument_refusal(instrument, on=timezone.localdate())
    if refusal:
        raise ValidationError({"instrument": refusal})
    items_raw = _payload_items(payload)
    errors: dict[str, dict[str, list[str]]] = {}
    items = _parse_items(items_raw, errors)
    unique = _unique_by_reading_id(items, errors)
    batches, tests = _samples_found(items, errors)
    if errors:
        raise ReadingsRejected(errors)
    for attempt in (1, 2):
        try:
            return _write(
                actor=actor,
                instrument=instrument,
                items=unique,
                batches=batches,
                tests=tests,
                source_import=source_import,
            )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _write(
    *,
    actor: User,
    instrument: Instrument,
    items: list[Item],
    batches: dict[str, Batch],
    tests: dict[int, QcTest],
    source_import: InstrumentImport | None = None,
) -> SubmitResult:
    with (
        transaction.atomic(),
        audited(actor=actor, reason=f"Readings from {instrument.serial_number}"),
    ):
        # Batches locked first: a concurrent resend then finds these readings, not new ones.
        locked = {
            b.lot_number: b
            for b in Batch.objects.select_for_update(no_key=True).filter(
                lot_number__in={i.lot for i in items}
            )
        }
        existing = set(
            InstrumentReading.objects.filter(
                reading_id__in=[i.reading_id for i in items]
            ).values_list("reading_id", flat=True)
        )
        new = [i for i in items if i.reading_id not in existing]
        now = timezone.now()
        counts = [(i, i.count) for i in new if i.count is not None]
        cell_counts = bulk_insert(_build_counts(counts, batches=locked, actor=actor, now=now))
        by_item = {item.index: c for (item, _), c in zip(counts, cell_counts, strict=True)}
        bulk_insert(
            [
                _reading_row(
                    item,
                    instrument=instrument,
                    batch=locked[item.lot],
                    cell_count=by_item.get(item.index),
                    qc_test=tests.get(item.test_id) if item.test_id else None,
                    source_import=source_import,
                    now=now,
                )
                for item in new
            ]
        )
        for item in new:
            if item.test_id is not None:
                qc_result_enter(
                    actor=actor,
                    test=tests[item.test_id],
                    value=item.result,
                    unit=item.unit,
                    source="instrument",
                    resulted_at=item.measured_at,
                )
    return SubmitResult(
        created=[str(i.reading_id) for i in new],
        existing=[str(i.reading_id) for i in items if i.reading_id in existing],
    )


def _reading_row(
    item: Item,
    *,
    instrument: Instrument,
    batch: Batch,
    cell_count: CellCount | None,
    qc_test: QcTest | None,
    source_import: InstrumentImport | None,
    now: datetime,
) -> InstrumentReading:
    """The reading as the instrument sent it, with the record it became (by key: hundreds
    are built per request, and none is read back through its relations)."""
    return InstrumentReading(
        reading_id=item.reading_id,
        instrument_id=instrument.pk,
        sample_id=item.sample_id,
        batch_id=batch.pk,
        measured_at=item.measured_at,
        values={
            k: v for k, v in item.raw.items() if k not in ("reading_id", "sample_id", "measured_at")
        },
        cell_count_id=None if cell_count is None else cell_count.pk,
        qc_test_id=None if qc_test is None else qc_test.pk,
        source_import_id=None if source_import is None else source_import.pk,
        received_at=now,
    )


# Which reading field a count rule's field is about: day and batch come from the sample ID.
COUNT_FIELD_OF_READING = {"day": "sample_id", "batch": "sample_id", NON_FIELD_ERRORS: "sample_id"}


def _build_counts(
    items: list[tuple[Item, Count]], *, batches: dict[str, Batch], actor: User, now: datetime
) -> list[CellCount]:
    """Each count built by the one count rule (`cell_count_build`) against its locked batch;
    every refusal lands on its item's own fields, all items at once."""
    built: list[CellCount] = []
    errors: dict[str, dict[str, list[str]]] = {}
    current = current_counts_of_days((batches[item.lot].pk, count.day) for item, count in items)
    several = several_of_a_day(
        ((str(item.index), item.lot, count.day) for item, count in items), what="Items"
    )
    for index, message in several.items():
        errors[index] = {"sample_id": [message]}
    for item, count in items:
        if str(item.index) in errors:
            continue
        try:
            built.append(
                cell_count_build(
                    actor=actor,
                    batch=batches[item.lot],
                    current=current.get((batches[item.lot].pk, count.day)),
                    corrects=count.corrects,
                    correction_reason=count.correction_reason,
                    day=count.day,
                    measured_at=item.measured_at,
                    total_cells_per_ml=count.total_cells_per_ml,
                    viable_cells_per_ml=count.viable_cells_per_ml,
                    volume_ml=count.volume_ml,
                    viability_pct=count.viability_pct,
                    source=CountSource.INSTRUMENT,
                    recorded_at=now,
                )
            )
        except ValidationError as exc:
            fields = errors.setdefault(str(item.index), {})
            for name, messages in exc.message_dict.items():
                fields.setdefault(COUNT_FIELD_OF_READING.get(name, name), []).extend(messages)
    if errors:
        raise ReadingsRejected(errors)
    return built
