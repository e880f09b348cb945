"""The batch page as the presenter builds it: the record as it stands, and which actions each
role is offered now (the web layer puts the forms on those offers)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import Batch, BatchState
from batches.presenters.batch_list import STATE_BADGES, batch_rows, batches_for_list
from batches.presenters.batch_page import batch_for_page, batch_page, transition_offers
from batches.presenters.due_work import next_step_of
from batches.services import batch_record

pytestmark = pytest.mark.django_db


def test_an_unknown_lot_number_is_no_batch(db):
    with pytest.raises(Batch.DoesNotExist):
        batch_for_page("NO-SUCH-LOT", now=timezone.now())


def test_the_record_as_it_stands(started_batch, record_steps, read, technician, day0):
    batch = read(record_steps(started_batch, 2))
    page = batch_page(batch, user=technician, now=day0 + timedelta(days=1))
    assert page["batch"] == batch and page["badge"] == STATE_BADGES[BatchState.IN_PROCESS]
    assert page["culture_day"] == 1
    assert page["due"]["text"] == "Day 4"
    assert page["next_step"].order == 3
    steps = page["template_steps"]
    assert [(row["step"].order, row["done"], row["next"]) for row in steps] == [
        (1, True, False),
        (2, True, False),
        (3, False, True),
        (4, False, False),
        (5, False, False),
    ]
    assert page["harvest_day"] == 14
    assert [e["kind"] for e in page["timeline"]].count("step") == 2
    assert page["chart"] is None and page["series"] == []  # no counts yet
    assert page["open_deviations"] == [] and page["closed_deviations"] == []
    assert page["qc_tests"] == [] and page["qc_overdue"] == 0
    assert page["release_decision"] is None and page["recall"] is None
    assert page["history"]  # the trail of the batch and its steps


def test_what_the_technician_is_offered(started_batch, read, technician):
    page = batch_page(read(started_batch), user=technician, now=timezone.now())
    assert page["can_record_step"] and page["step_offered"]
    assert page["show_count_form"] and page["show_deviation_form"] and page["show_custody_form"]
    assert not page["can_disposition"]
    # Harvest is the technician's move, offered but blocked until every step is recorded.
    (harvest,) = page["transition_offers"]
    assert harvest["to_state"] == "harvested" and harvest["form_id"] == "transition-harvested"
    assert harvest["signed"] and harvest["meaning"]
    first = started_batch.template.steps.get(order=1)
    assert harvest["blocked"] == (
        f"Record every step first: step 1 ({first.name}) is not recorded yet."
    )


def test_what_qa_is_offered(started_batch, read, qa, technician):
    batch_record.deviation_open(
        actor=technician, batch=started_batch, kind="other", what="w", why="y", impact="i"
    )
    batch = read(started_batch)
    assert batch.state == "on_hold"
    page = batch_page(batch, user=qa, now=timezone.now())
    assert not page["step_offered"] and not page["show_custody_form"]
    assert page["can_disposition"] and len(page["open_deviations"]) == 1
    assert [t["to_state"] for t in page["transition_offers"]] == ["terminated"]
    (terminate,) = page["transition_offers"]
    assert terminate["danger"] and terminate["signed"] and not terminate["blocked"]


def test_nothing_is_offered_to_clinical_staff(started_batch, read, clinical):
    page = batch_page(read(started_batch), user=clinical, now=timezone.now())
    offered = ("step_offered", "show_count_form", "show_deviation_form", "show_custody_form")
    assert not any(page[name] for name in offered)
    assert page["transition_offers"] == []


def test_harvest_is_not_blocked_once_every_step_is_recorded(
    started_batch, record_steps, read, technician, day0
):
    batch = read(record_steps(started_batch, 5, start=day0 - timedelta(days=18)))
    (harvest,) = transition_offers(batch, user=technician, next_step=next_step_of(batch))
    assert harvest["to_state"] == "harvested" and harvest["blocked"] == ""


def test_batch_list_rows(planned_batch, started_batch, record_steps, day0):
    record_steps(started_batch, 1)
    rows = batch_rows(batches_for_list(), day0 + timedelta(days=3))
    (row,) = rows
    assert row["batch"] == started_batch
    assert row["badge"] == "allocated" and row["day"] == 3
    assert row["due"]["status"] == "late" and row["due"]["step"].order == 2
