"""The lists of a batch's record (trail, signatures, steps, counts, custody, deviations): the
latest few of each on the batch page with a link to the rest, and each one's own page, a
page at a time. However many rows a list has, a page reads a fixed number of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.urls import reverse

from batches.models import Batch, CellCount, CustodyEvent, Deviation, ExecutedStep
from batches.selectors import batch_counts, sublists
from carnk_mfg.web import history_rows

# Rows per page of a list's own page.
LIST_PAGE_SIZE = 50


def _history(events: list[Any]) -> list[dict[str, Any]]:
    qc_test = Batch._meta.get_field("qc_tests").related_model
    return history_rows(events, Batch, ExecutedStep, CellCount, Deviation, CustodyEvent, qc_test)


def _as_is(records: list[Any]) -> list[Any]:
    return records


def _steps_read(batch: Batch) -> list[Any] | None:
    """The batch's steps newest first, when the batch came with all of them (the batch
    page's `selectors.batch_detail` reads them, a step per template step, with the same
    people and lots); None when they are still to be read."""
    read = getattr(batch, "_prefetched_objects_cache", {}).get("steps")
    if read is None:
        return None
    return sorted(read, key=lambda step: (step.template_step.order, step.pk), reverse=True)


@dataclass(frozen=True)
class RecordList:
    """One list of the batch record: its heading, what one row is called, its query (newest
    first) and how a slice of it becomes the rows its template shows."""

    title: str
    noun: str
    plural: str
    query: Callable[[Batch], QuerySet[Any] | sublists.Trail]
    rows: Callable[[list[Any]], list[Any]] = _as_is
    # The whole list, newest first, when the batch came with it already; else None.
    read: Callable[[Batch], list[Any] | None] = lambda batch: None


RECORD_LISTS: dict[str, RecordList] = {
    "history": RecordList(
        "Audit history", "trail event", "trail events", sublists.trail_newest_first, _history
    ),
    "signatures": RecordList(
        "Electronic signatures",
        "signature",
        "signatures",
        sublists.signatures_newest_first,
        sublists.signature_rows,
    ),
    "steps": RecordList(
        "Executed steps", "step", "steps", sublists.steps_newest_first, read=_steps_read
    ),
    "counts": RecordList("Cell counts", "count", "counts", batch_counts),
    "custody": RecordList(
        "Chain of custody", "hand-off", "hand-offs", sublists.custody_newest_first
    ),
    "deviations": RecordList(
        "Deviations", "deviation", "deviations", sublists.deviations_newest_first
    ),
}


def latest_of_lists(batch: Batch, n: int | None = None) -> dict[str, dict[str, Any]]:
    """For the batch page: the latest `n` rows of each list, how many there are in all, and
    the link to the list's own page."""
    n = sublists.latest_n() if n is None else n
    shown = {}
    for key, record_list in RECORD_LISTS.items():
        read = record_list.read(batch)
        if read is not None:
            latest, total = read[:n], len(read)
        else:
            query = record_list.query(batch)
            latest = list(query[:n])
            # Fewer than asked for: that is all of them, and nothing is left to count.
            total = len(latest) if len(latest) < n else query.count()
        shown[key] = {
            "rows": record_list.rows(latest),
            "total": total,
            "more": total > len(latest),
            "link": f"All {total:,} {record_list.noun if total == 1 else record_list.plural}",
            "url": reverse("batch-list-page", args=[batch.lot_number, key]),
        }
    return shown


def list_page(batch: Batch, key: str, page_number: str | None) -> dict[str, Any]:
    """One page of one list, newest first; KeyError for a list there is none of."""
    record_list = RECORD_LISTS[key]
    rows: Any = record_list.query(batch)  # a query, or the trail, which pages like one
    page: Page = Paginator(rows, LIST_PAGE_SIZE).get_page(page_number)
    return {
        "batch": batch,
        "key": key,
        "title": record_list.title,
        "plural": record_list.plural,
        "page": page,
        "rows": record_list.rows(list(page.object_list)),
    }
