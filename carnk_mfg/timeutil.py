"""Date-time input from outside (instruments, query strings) in a form the database accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

# A time something must not precede, and how a message names it ("batch CNK-1 was planned").
Earliest = tuple[datetime | None, str]

# PostgreSQL refuses offsets beyond ±15:59 (Python allows up to 24 h); real zones are
# within ±14 h, so anything larger is an input error, not a time.
MAX_OFFSET = timedelta(hours=14)


def to_utc(value: datetime) -> datetime | None:
    """The same instant in UTC, or None when the offset is not a real time zone's."""
    offset = value.utcoffset()
    if offset is None or abs(offset) > MAX_OFFSET:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# --- when something happened: the one rule for times people and instruments report ---


def latest_acceptable() -> datetime:
    """The latest time a record may say something happened: now, plus the allowance for
    clocks that run a little ahead (settings.CLOCK_SKEW_ALLOWANCE_SECONDS)."""
    return timezone.now() + timedelta(seconds=settings.CLOCK_SKEW_ALLOWANCE_SECONDS)


def require_happened(
    field: str, when: datetime | None, *, what: str, not_before: Earliest | None = None
) -> None:
    """`check_happened` for a single time: raise its error (ValidationError) at once."""
    errors: dict[str, str] = {}
    check_happened(errors, field, when, what=what, not_before=not_before)
    if errors:
        raise ValidationError(errors)


def check_happened(
    errors: dict[str, Any],
    field: str,
    when: datetime | None,
    *,
    what: str,
    not_before: Earliest | None = None,
) -> None:
    """Add an error for `field` when `when` is in the future, or (with `not_before`, a pair
    of the earliest time and what it is) earlier than something it must follow."""
    if when is None:
        return
    if when > latest_acceptable():
        errors[field] = f"{what} cannot be in the future ({when:%Y-%m-%d %H:%M %Z})."
        return
    if not_before is not None:
        earliest, earliest_what = not_before
        # Times are entered to the minute: a step at 10:05 may follow a batch planned 10:05:30.
        if earliest is not None and when < earliest.replace(second=0, microsecond=0):
            errors[field] = (
                f"{what} ({when:%Y-%m-%d %H:%M %Z}) cannot be before {earliest_what} "
                f"({earliest:%Y-%m-%d %H:%M %Z})."
            )
