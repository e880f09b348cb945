"""Which cell counts count: one per batch and culture day, the one no correction replaced.

Every calculation from counts (growth curve, fold expansion, the expansion flag, documents)
reads them through here; lists of the record show every count, a corrected one marked so.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from batches.models import Batch, CellCount
from batches.selectors.batch_lists import batch_counts_in_order

# A count no correction names: the day's current count.
CURRENT = Q(corrected_by__isnull=True)
# The attribute `batch_detail` prefetches a batch's current counts into.
PREFETCHED = "current_counts_prefetched"


def current_counts_query() -> QuerySet[CellCount]:
    """Current counts, oldest measurement first."""
    # `corrected_by` joined (it is None for each) so reading it costs no query per count.
    return (
        CellCount.objects.filter(CURRENT)
        .select_related("corrected_by")
        .order_by("measured_at", "id")
    )


def current_counts(batch: Batch) -> list[CellCount]:
    """The batch's current counts (at most one per culture day), oldest measurement first;
    read from `batch_detail`'s prefetch when there is one."""
    prefetched = getattr(batch, PREFETCHED, None)
    if prefetched is not None:
        return list(prefetched)
    return list(current_counts_query().filter(batch=batch))


def current_counts_of_days(
    batch_days: Iterable[tuple[int, int]],
) -> dict[tuple[int, int], CellCount]:
    """The current count of each (batch id, culture day) asked for that has one, in one query."""
    wanted = set(batch_days)
    if not wanted:
        return {}
    # The batches' current counts of those days, pairs picked here: at most one count per
    # batch and culture day, and a filter of one OR per pair costs more to build than to run.
    counts = CellCount.objects.filter(CURRENT).filter(
        batch_id__in={batch_id for batch_id, _ in wanted}, day__in={day for _, day in wanted}
    )
    return {(c.batch_id, c.day): c for c in counts if (c.batch_id, c.day) in wanted}


def batch_counts(batch: Batch) -> QuerySet[CellCount]:
    """Every count of the batch, corrected ones too, newest first, each with the count that
    corrected it (if any): the record's full list of counts."""
    return batch_counts_in_order(batch).select_related("recorded_by").reverse()
