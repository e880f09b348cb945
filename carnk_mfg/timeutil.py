"""Date-time input from outside (instruments, query strings) in a form the database accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
