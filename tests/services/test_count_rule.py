"""One count per batch and culture day: a second count of a day is refused unless it is a
correction naming the day's current count with a reason. Every calculation reads the current
count of each day; corrected counts stay in the record."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from batches import selectors
from batches.models import Batch, CellCount
from batches.services import batch_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def count(actor, batch, day=13, viable=1.8e6, **extra):
    return batch_record.cell_count_record(
        actor=actor,
        batch=batch,
        day=day,
        measured_at=timezone.now() - timedelta(hours=1),
        total_cells_per_ml=viable * 1.1,
        viable_cells_per_ml=viable,
        volume_ml=Decimal("50"),
        **extra,
    )


def test_a_second_count_of_a_day_is_refused_naming_the_day_and_the_count(running_batch, technician):
    first = count(technician, running_batch)
    with pytest.raises(ValidationError) as refused:
        count(technician, running_batch, viable=1.5e6)
    (message,) = refused.value.message_dict["day"]
    assert message.startswith(f"Batch {running_batch.lot_number} already has a day 13 count")
    assert f"count {first.pk}" in message and "record a correction with a reason" in message
    assert CellCount.objects.filter(batch=running_batch).count() == 1
    count(technician, running_batch, day=14)  # another day is another count


def test_a_correction_replaces_the_day_count_and_keeps_the_corrected_one(running_batch, technician):
    first = count(technician, running_batch, day=0, viable=1e6)
    wrong = count(technician, running_batch, viable=9e6)
    right = count(
        technician,
        running_batch,
        viable=1.5e6,
        corrects=wrong.pk,
        correction_reason="Typed 9e6 for 1.5e6",
    )
    assert right.corrects == wrong and right.correction_reason == "Typed 9e6 for 1.5e6"
    assert CellCount.objects.get(pk=wrong.pk).corrected_by == right
    assert [c.pk for c in selectors.current_counts(running_batch)] == [first.pk, right.pk]
    # The growth reads the correction: fold expansion 1.5e6/1e6, not 9e6/1e6.
    series = selectors.growth_series(Batch.objects.get(pk=running_batch.pk))
    assert [round(p["fold_expansion"], 2) for p in series] == [1.0, 1.5]
    # Every count stays in the record's list, the corrected one marked so.
    listed = list(selectors.batch_counts(running_batch))
    assert {c.pk for c in listed} == {first.pk, wrong.pk, right.pk}
    assert next(c for c in listed if c.pk == wrong.pk).corrected_by == right


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_correction_without_a_reason_is_refused(running_batch, technician, reason):
    first = count(technician, running_batch)
    with pytest.raises(ValidationError) as refused:
        count(technician, running_batch, corrects=first.pk, correction_reason=reason)
    assert list(refused.value.message_dict) == ["correction_reason"]
    assert CellCount.objects.count() == 1


def test_a_correction_of_another_day_or_batch_is_refused(
    running_batch, technician, approved_template
):
    day12 = count(technician, running_batch, day=12)
    count(technician, running_batch, day=13)
    with pytest.raises(ValidationError) as refused:
        count(technician, running_batch, day=13, corrects=day12.pk, correction_reason="typo")
    assert "is not the current day 13 count" in refused.value.message_dict["corrects"][0]
    with pytest.raises(ValidationError) as refused:
        count(technician, running_batch, day=20, corrects=day12.pk, correction_reason="typo")
    assert "has no day 20 count to correct" in refused.value.message_dict["corrects"][0]
    assert CellCount.objects.count() == 2


def test_a_reason_without_a_correction_is_refused(running_batch, technician):
    with pytest.raises(ValidationError) as refused:
        count(technician, running_batch, correction_reason="just because")
    assert list(refused.value.message_dict) == ["correction_reason"]


def test_corrections_form_a_chain_each_of_the_current_count(running_batch, technician):
    first = count(technician, running_batch, viable=1e6)
    second = count(
        technician, running_batch, viable=1.1e6, corrects=first.pk, correction_reason="a"
    )
    third = count(
        technician, running_batch, viable=1.2e6, corrects=second.pk, correction_reason="b"
    )
    # The first count was already corrected: correcting it again would fork the chain.
    with pytest.raises(ValidationError) as refused:
        count(technician, running_batch, corrects=first.pk, correction_reason="c")
    assert f"that is count {third.pk}" in refused.value.message_dict["corrects"][0]
    assert [c.pk for c in selectors.current_counts(running_batch)] == [third.pk]
    chain = CellCount.objects.filter(batch=running_batch).order_by("id")
    assert [c.corrects_id for c in chain] == [None, first.pk, second.pk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("as_correction", [False, True])
def test_two_simultaneous_counts_of_a_day_give_one_and_one_refusal(
    running_batch, technician, as_correction
):
    """Two people record the day's count (or correct it) at the same moment, each on their
    own connection: one is saved, the other gets the rule's refusal, never a server error."""
    first = count(technician, running_batch) if as_correction else None
    other = UserFactory.create(username="tech-b", role="technician")
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def record(actor, viable):
        barrier.wait()
        try:
            count(
                actor,
                Batch.objects.get(pk=running_batch.pk),
                viable=viable,
                corrects=first.pk if first else None,
                correction_reason="recounted" if first else "",
            )
            outcomes.append("saved")
        except ValidationError as exc:
            outcomes.append(sorted(exc.message_dict))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=record, args=(actor, viable))
        for actor, viable in ((technician, 1.6e6), (other, 1.7e6))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=str) == sorted(
        ["saved", ["corrects"] if first else ["day"]], key=str
    ), outcomes
    assert len(selectors.current_counts(running_batch)) == 1
    assert CellCount.objects.filter(batch=running_batch).count() == (2 if first else 1)


def test_a_count_checked_before_another_was_saved_gets_the_rules_refusal(running_batch, technician):
    """The index catches what a check read too early could not see (another connection's
    count saved in between): the same refusal, not a database error."""
    from batches.services.batch_record.counts import save_counts

    stale = batch_record.cell_count_build(
        actor=technician,
        batch=running_batch,
        day=13,
        measured_at=timezone.now() - timedelta(hours=1),
        total_cells_per_ml=2e6,
        viable_cells_per_ml=1.8e6,
        volume_ml=Decimal("50"),
        current=None,  # as read before the other count was saved
    )
    saved = count(technician, running_batch)
    with pytest.raises(ValidationError) as refused:
        save_counts([stale])
    assert f"count {saved.pk}" in refused.value.message_dict["day"][0]
    assert CellCount.objects.count() == 1
