"""QA's release queue: each batch waiting for release with where its release tests stand,
its open deviations and its bags; the open conditional releases; the recalls."""

from __future__ import annotations

from batches import selectors
from batches.models import Batch
from carnk_mfg.people import printed_name

STATUSES = (selectors.IN_SPEC, selectors.PENDING, selectors.OPEN, selectors.OUT_OF_SPEC)


def qc_summary(readiness) -> dict:
    """The release tests of a batch counted by where they stand (for the queue's table)."""
    counts = dict.fromkeys(STATUSES, 0)
    for _test, status in readiness.tests:
        counts[status] += 1
    return {
        "total": len(readiness.tests),
        "in_spec": counts[selectors.IN_SPEC],
        "pending_allowed": counts[selectors.PENDING],
        "open": counts[selectors.OPEN],
        "out_of_spec": counts[selectors.OUT_OF_SPEC],
        "complete": bool(readiness.tests)
        and not counts[selectors.OPEN]
        and not counts[selectors.OUT_OF_SPEC],
    }


def queue_rows(batches) -> list[dict]:
    """A row per batch of `selectors.release_queue()`, from what it prefetched."""
    rows = []
    batches = list(batches)
    reviews: dict[str, list] = {}  # QA's record reviews by batch id, read in one query
    for review in selectors.record_reviews(*batches):
        reviews.setdefault(review.object_id, []).append(review)
    for batch in batches:
        bags = list(batch.dose_units.all())
        readiness = selectors.release_readiness(
            batch,
            tests=batch.release_tests,
            bags=bags,
            deviations=list(batch.deviations.all()),
            reviews=reviews.get(str(batch.pk), []),
        )
        rows.append(
            {
                "batch": batch,
                "readiness": readiness,
                "qc": qc_summary(readiness),
                "open_deviations": readiness.open_deviations,
                "bags": bags,
            }
        )
    return rows


def recall_rows() -> list[dict]:
    return [
        {
            "recall": recall,
            "raised_by": printed_name(recall.raised_by),
            "lookback": list(recall.lookback.all()),
        }
        for recall in selectors.recalls()
    ]


def batches_for_release():
    """Batches with the source unit and recipient that release pages name."""
    return Batch.objects.select_related("source_unit", "intended_recipient")
