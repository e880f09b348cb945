"""The batch trail read a page at a time (batches.selectors.sublists.Trail) holds the same
events, in the same order and with the same changes, as pghistory's aggregate view of every
event that points at the batch, which reads the whole trail before it can sort it."""

from datetime import timedelta
from decimal import Decimal

import pghistory.models
import pytest
from django.utils import timezone

from batches.selectors.sublists import trail_newest_first
from batches.services import batch_record, lifecycle
from tests import batch_steps

pytestmark = pytest.mark.django_db


def shape(event):
    return (
        event.pgh_created_at,
        event.pgh_label,
        event.pgh_obj_model,
        sorted(event.pgh_diff or {}),
        (event.pgh_context or {}).get("reason"),
    )


def test_the_trail_matches_pghistorys_view_page_by_page(planned_batch, technician):
    batch = lifecycle.batch_transition(
        actor=technician, batch=planned_batch, to_state="in_process", reason="go"
    )
    day0 = timezone.now() - timedelta(days=20)
    batch_steps.record_steps(batch, technician, day0=day0, first=2)
    for day in range(3):
        first = batch_record.cell_count_record(
            actor=technician,
            batch=batch,
            day=day,
            measured_at=day0 + timedelta(days=day),
            total_cells_per_ml=2e6,
            viable_cells_per_ml=1.8e6,
            volume_ml=Decimal("50"),
        )
    batch_record.cell_count_record(
        actor=technician,
        batch=batch,
        day=2,
        measured_at=day0 + timedelta(days=2, hours=1),
        total_cells_per_ml=2e6,
        viable_cells_per_ml=1.5e6,
        volume_ml=Decimal("50"),
        corrects=first.pk,
        correction_reason="recounted",
    )
    expected = list(pghistory.models.Events.objects.references(batch).order_by("-pgh_created_at"))
    trail = trail_newest_first(batch)
    assert trail.count() == len(expected) >= 9
    assert [shape(e) for e in trail[0 : len(expected)]] == [shape(e) for e in expected]
    assert [shape(e) for e in trail[3:7]] == [shape(e) for e in expected[3:7]]
    # A state change shows as pghistory shows it: old and new.
    moves = [e.pgh_diff["state"] for e in trail[0:50] if "state" in (e.pgh_diff or {})]
    assert moves == [["planned", "in_process"]]
