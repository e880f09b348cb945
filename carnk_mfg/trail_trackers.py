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

import copy
from collections.abc import Callable
from typing import Any

import pghistory
import pghistory.config
from django.db import models


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
    and their alerts): its events come from statement-level triggers, and its event table
    indexes only the links the trail is read by (`unindexed_links`)."""

    def track(model: type[models.Model]) -> type[models.Model]:
        tracked: type[models.Model] = pghistory.track(
            level=pghistory.Statement, attrs=unindexed_links(model), **options
        )(model)
        return tracked

    return track


# What the trail is read by, besides the tracked row itself (pgh_obj, always indexed): the
# batch, whose page shows every event that points at it.
TRAIL_READ_BY = ("batch",)


def unindexed_links(model: type[models.Model]) -> dict[str, models.ForeignKey[Any, Any]]:
    """The event table's copies of `model`'s links, but those the trail is read by, made as
    pghistory makes them (no constraint, no reverse name) without an index: each event row
    of a bulk write then enters fewer indexes, and nothing searches events by these links."""
    links = {}
    for field in model._meta.local_fields:
        if not isinstance(field, models.ForeignKey) or field.name in TRAIL_READ_BY:
            continue
        copied = copy.deepcopy(field)
        # As pghistory: a swappable link (to the user) would load models to deconstruct.
        copied.swappable = False  # type: ignore[attr-defined]  # set on links to the user
        _, _, args, kwargs = copied.deconstruct()
        kwargs.update(pghistory.config.foreign_key_field().kwargs)
        kwargs["db_index"] = False
        links[field.name] = models.ForeignKey(*args, **kwargs)
    return links
