"""Cell counts of a batch, typed or read by an instrument: one set of rules for both."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from batches.models import COUNT_STATES, Batch, CellCount, CountSource
from batches.selectors.counts import current_counts_of_days
from batches.services.lifecycle import lock_batch
from carnk_mfg.audit import gmp_write
from carnk_mfg.fields import field_errors
from carnk_mfg.notation import lab_number_text, lab_time
from carnk_mfg.roles import require_permission
from carnk_mfg.timeutil import check_happened

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def cell_count_build(
    *,
    actor: User,
    batch: Batch,
    day: int,
    measured_at: datetime,
    total_cells_per_ml: float,
    viable_cells_per_ml: float,
    volume_ml: Decimal | None,
    viability_pct: Decimal | float | None = None,
    notes: str = "",
    source: str = CountSource.MANUAL,
    recorded_at: datetime | None = None,
    current: CellCount | None = None,
    corrects: int | None = None,
    correction_reason: str = "",
) -> CellCount:
    """Every rule of a cell count, checked without a query, for typed counts and readings
    alike: the numbers, viability agreeing with viable/total, the time, a batch in a counting
    state, one count per culture day (`day_rule_errors`; `current`: the day's count read
    under the caller's lock of `batch`). Returns the count unsaved, or raises a
    ValidationError per field. Without a volume (an instrument may read concentration
    alone) the total viable cells stay unknown rather than guessed."""
    errors, counted = _count_errors(
        batch=batch,
        day=day,
        measured_at=measured_at,
        total_cells_per_ml=total_cells_per_ml,
        viable_cells_per_ml=viable_cells_per_ml,
        volume_ml=volume_ml,
    )
    viability = _viability_checked(
        errors,
        counted=counted,
        total_cells_per_ml=total_cells_per_ml,
        viable_cells_per_ml=viable_cells_per_ml,
        viability_pct=viability_pct,
    )
    reason = correction_reason.strip()
    _check_day(errors, batch, day, current, corrects, reason)
    if errors:
        raise ValidationError(errors)
    assert viability is not None  # no error: both concentrations valid, viability computed
    return CellCount(
        batch=batch,
        day=day,
        measured_at=measured_at,
        total_cells_per_ml=total_cells_per_ml,
        viable_cells_per_ml=viable_cells_per_ml,
        viability_pct=viability,
        volume_ml=volume_ml,
        total_viable_cells=None if volume_ml is None else viable_cells_per_ml * float(volume_ml),
        source=source,
        recorded_by=actor,
        recorded_at=recorded_at or timezone.now(),
        notes=notes,
        corrects=current if corrects is not None else None,
        correction_reason=reason,
    )


def _check_day(
    errors: dict[str, list[str]],
    batch: Batch,
    day: int,
    current: CellCount | None,
    corrects: int | None,
    reason: str,
) -> None:
    refused = day_rule_errors(
        batch=batch, day=day, current=current, corrects=corrects, correction_reason=reason
    )
    for name, message in refused.items():
        errors.setdefault(name, []).append(message)


def day_rule_errors(
    *,
    batch: Batch,
    day: int,
    current: CellCount | None,
    corrects: int | None,
    correction_reason: str,
) -> dict[str, str]:
    """One count per batch and culture day: a second count of a day is refused unless it is
    a correction that names the day's current count and says why (the database holds the
    same with its unique index, check and trigger)."""
    errors: dict[str, str] = {}
    if corrects is None:
        if current is not None:
            errors["day"] = (
                f"Batch {batch.lot_number} already has a day {day} count ({describe(current)})"
                " — record a correction with a reason to replace it."
            )
        if correction_reason:
            errors["correction_reason"] = (
                "A reason goes with a correction: name the count it corrects."
            )
        return errors
    if current is None:
        errors["corrects"] = f"Batch {batch.lot_number} has no day {day} count to correct."
    elif current.pk != corrects:
        errors["corrects"] = (
            f"Count {corrects} is not the current day {day} count of batch "
            f"{batch.lot_number}; that is count {current.pk} ({describe(current)}): a "
            "correction replaces the day's current count."
        )
    if not correction_reason:
        errors["correction_reason"] = "A correction needs a reason."
    return errors


def several_of_a_day(counts: Iterable[tuple[str, str, int]], *, what: str) -> dict[str, str]:
    """Among counts not yet saved, each given as (key, lot number, day): those that share a
    batch and day, each with its refusal (at most one of them could be the day's count).
    `what` names the keys in the message ("Items", "Rows")."""
    by_day: dict[tuple[str, int], list[str]] = {}
    for key, lot, day in counts:
        by_day.setdefault((lot, day), []).append(key)
    refused = {}
    for (lot, day), keys in by_day.items():
        if len(keys) > 1:
            message = (
                f"{what} {', '.join(keys)} are all day {day} counts of batch {lot}: a batch has "
                "one count per culture day; keep one (a correction can replace it later)."
            )
            refused.update(dict.fromkeys(keys, message))
    return refused


def count_blocker(batch: Batch) -> str:
    """Why no count can be recorded on this batch now, or "" when one can; the batch page
    shows it on the count it cannot offer."""
    if batch.state not in COUNT_STATES:
        return (
            "Counts are recorded during manufacturing; "
            f"the batch is {batch.get_state_display().lower()}."
        )
    return ""


def describe(count: CellCount) -> str:
    """A count as a refusal names it."""
    return (
        f"count {count.pk}: {lab_number_text(count.viable_cells_per_ml)} viable cells/mL, "
        f"measured {lab_time(count.measured_at)}"
    )


def _count_errors(
    *,
    batch: Batch,
    day: int,
    measured_at: datetime,
    total_cells_per_ml: float,
    viable_cells_per_ml: float,
    volume_ml: Decimal | None,
) -> tuple[dict[str, list[str]], bool]:
    """The errors of the numbers, the batch's state and the time, and whether both
    concentrations are valid (counted) so that a viability can be computed from them."""
    errors = field_errors(
        CellCount,
        {
            "day": day,
            "total_cells_per_ml": total_cells_per_ml,
            "viable_cells_per_ml": viable_cells_per_ml,
            "volume_ml": volume_ml,
        },
    )
    counted = not {"total_cells_per_ml", "viable_cells_per_ml"} & errors.keys()
    if counted and viable_cells_per_ml > total_cells_per_ml:
        errors["viable_cells_per_ml"] = ["Viable cells cannot exceed total cells."]
        counted = False
    blocker = count_blocker(batch)
    if blocker:
        errors["batch"] = [blocker]
    check_happened(
        errors,
        "measured_at",
        measured_at,
        what="A count",
        not_before=(batch.created_at, f"batch {batch.lot_number} was planned"),
    )
    return errors, counted


def _viability_checked(
    errors: dict[str, list[str]],
    *,
    counted: bool,
    total_cells_per_ml: float,
    viable_cells_per_ml: float,
    viability_pct: Decimal | float | None,
) -> Decimal | None:
    """The viability to record: as given (it must agree with viable/total within one point),
    or computed from viable/total when none is given; what is wrong with it goes into
    `errors`."""
    cents = Decimal("0.01")
    computed = None
    if counted:
        computed = Decimal(viable_cells_per_ml / total_cells_per_ml * 100).quantize(cents)
    given = None if viability_pct is None else Decimal(str(viability_pct))
    if given is not None and computed is not None and abs(given - computed) > 1:
        errors["viability_pct"] = [
            f"Viability {viability_pct}% does not match viable/total ({computed}%)."
        ]
    viability = given if given is not None else computed
    if viability is not None and "viability_pct" not in errors:
        errors.update(field_errors(CellCount, {"viability_pct": viability}))
    return viability


def cell_count_record(
    *,
    actor: User,
    batch: Batch,
    day: int,
    measured_at: datetime,
    total_cells_per_ml: float,
    viable_cells_per_ml: float,
    volume_ml: Decimal | None,
    viability_pct: Decimal | None = None,
    notes: str = "",
    source: str = CountSource.MANUAL,
    corrects: int | None = None,
    correction_reason: str = "",
) -> CellCount:
    """A typed count, or a correction of the day's current count (`corrects`, its id, with a
    `correction_reason`): checked by `cell_count_build` against the locked batch, then
    saved. A concurrent count of the same day that wins the race makes this one the same
    refusal as if it had come second."""
    require_permission(actor, "batches.record_count")
    if volume_ml is None:
        raise ValidationError({"volume_ml": "A typed count needs the culture volume."})
    what = f"Correction of cell count {corrects}" if corrects else "Cell count"
    reason = f"{what} day {day}" + (f": {correction_reason.strip()}" if corrects else "")
    with gmp_write(actor=actor, permission="batches.record_count", reason=reason):
        locked = lock_batch(batch)
        count = cell_count_build(
            actor=actor,
            batch=locked,
            current=current_counts_of_days([(locked.pk, day)]).get((locked.pk, day)),
            corrects=corrects,
            correction_reason=correction_reason,
            day=day,
            measured_at=measured_at,
            total_cells_per_ml=total_cells_per_ml,
            viable_cells_per_ml=viable_cells_per_ml,
            volume_ml=volume_ml,
            viability_pct=viability_pct,
            notes=notes,
            source=source,
        )
        save_counts([count])
    return count


def save_counts(counts: list[CellCount]) -> list[CellCount]:
    """Save counts built by `cell_count_build`. Should another count of one of their days
    have been saved since they were checked, the database's unique index refuses it, and
    the refusal is the rule's own message."""
    try:
        with transaction.atomic():
            return CellCount.objects.bulk_create(counts)
    except IntegrityError:
        days = current_counts_of_days((c.batch_id, c.day) for c in counts)
        for count in counts:
            current = days.get((count.batch_id, count.day))
            # Both the unique index of a day's first count and the one-to-one of a
            # correction refuse the loser; either way the day now has another count.
            if current is not None and current.pk != count.corrects_id:
                raise ValidationError(
                    day_rule_errors(
                        batch=count.batch,
                        day=count.day,
                        current=current,
                        corrects=count.corrects_id,
                        correction_reason=count.correction_reason,
                    )
                ) from None
        raise
