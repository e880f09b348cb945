"""The trail's trackers: an event for every insert, update and delete of a tracked table
(settings.PGHISTORY_DEFAULT_TRACKERS), written by a row-level trigger, or, for the tables
written in bulk (`track_per_statement`), by one statement-level trigger per statement from its
transition table: the same event per row, with the same who and why, at one trigger call
for 500 readings instead of 500.

pghistory deep-copies the default trackers for each tracked model, and pgtrigger tells an
INSERT trigger from the others by the identity of its operation object; a copied INSERT is not
`pgtrigger.Insert`, so its statement-level trigger would be built without its transition
table. Each copy is therefore made afresh from its class, with pgtrigger's own operations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pghistory


class _CopiedAfresh:
    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return type(self)()


class InsertEvent(_CopiedAfresh, pghistory.InsertEvent):
    pass


class UpdateEvent(_CopiedAfresh, pghistory.UpdateEvent):
    pass


class DeleteEvent(_CopiedAfresh, pghistory.DeleteEvent):
    pass


def track_per_statement(**options: Any) -> Callable[[Any], Any]:
    """`pghistory.track` for a table written many rows at a time (readings, counts, QC tests
    and their alerts, trend points): its events come from statement-level triggers."""
    track: Callable[[Any], Any] = pghistory.track(level=pghistory.Statement, **options)
    return track
