"""Cell counts of a batch, typed or read by an instrument: one set of rules for both."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.models import COUNT_STATES, Batch, CellCount, CountSource
from batches.services.lifecycle import lock_batch
from carnk_mfg.audit import gmp_write
from carnk_mfg.fields import field_errors
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
) -> CellCount:
    """Every rule of a cell count, checked without a query, for typed counts and instrument
    readings alike: the numbers, the viability agreeing with viable/total, the time (not in
    the future, not before the batch was planned) and a batch in a counting state. `batch`
    is the row as the caller locked it. Returns the count unsaved, or raises a
    ValidationError per field. Volume may be missing: an instrument may read concentration
    alone, and then the total viable cells stay unknown rather than guessed."""
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
    if errors:
        raise ValidationError(errors)
    # No error means both concentrations were valid, so the viability was computed at least.
    assert viability is not None
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
    if batch.state not in COUNT_STATES:
        errors["batch"] = [
            "Counts are recorded during manufacturing; "
            f"the batch is {batch.get_state_display().lower()}."
        ]
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
) -> CellCount:
    """A typed count: checked by `cell_count_build` against the locked batch, then saved."""
    require_permission(actor, "batches.record_count")
    if volume_ml is None:
        raise ValidationError({"volume_ml": "A typed count needs the culture volume."})
    with gmp_write(actor=actor, permission="batches.record_count", reason=f"Cell count day {day}"):
        count = cell_count_build(
            actor=actor,
            batch=lock_batch(batch),
            day=day,
            measured_at=measured_at,
            total_cells_per_ml=total_cells_per_ml,
            viable_cells_per_ml=viable_cells_per_ml,
            volume_ml=volume_ml,
            viability_pct=viability_pct,
            notes=notes,
            source=source,
        )
        count.save()
    return count
