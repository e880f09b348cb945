"""`bulk_insert`: many rows in one INSERT of column arrays, each record given its key."""

import uuid
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.models import Recipient
from carnk_mfg.bulk_insert import bulk_insert
from tests.factories import RecipientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_each_record_gets_the_key_of_its_own_row():
    user = UserFactory.create()
    built = [
        RecipientFactory.build(
            subject_id=f"BULK-{n:02d}",
            registered_by=user,
            treating_clinician=user,
            diagnosis_detail=f"note {n}",
        )
        for n in range(30)
    ]
    bulk_insert(built)
    for record in built:
        stored = Recipient.objects.get(pk=record.pk)
        assert (stored.subject_id, stored.diagnosis_detail) == (
            record.subject_id,
            record.diagnosis_detail,
        )


def test_free_text_is_checked_as_in_a_save_and_nothing_is_written():
    user = UserFactory.create()
    built = [
        RecipientFactory.build(subject_id="BULK-OK", registered_by=user, treating_clinician=user),
        RecipientFactory.build(
            subject_id="BULK-BAD",
            registered_by=user,
            treating_clinician=user,
            diagnosis_detail="bell\x07",
        ),
    ]
    with pytest.raises(ValidationError) as refused:
        bulk_insert(built)
    assert "diagnosis_detail" in refused.value.message_dict
    assert not Recipient.objects.filter(subject_id__startswith="BULK-").exists()


# Each column travels as one array text: what that text must quote comes back as it was.
AWKWARD_TEXT = ['say "yes"', "back\\slash", "a, b", "{braces}", "NULL", "", " spaced ", "Zoë ✓"]


def test_text_that_array_syntax_uses_comes_back_as_it_was():
    user = UserFactory.create()
    built = [
        RecipientFactory.build(
            subject_id=f"BULK-T{n}",
            registered_by=user,
            treating_clinician=user,
            diagnosis_detail=text,
            date_of_birth=None if n % 2 else date(1980, 1, n + 1),
        )
        for n, text in enumerate(AWKWARD_TEXT)
    ]
    bulk_insert(built)
    stored = Recipient.objects.in_bulk([r.pk for r in built])
    for record in built:
        again = stored[record.pk]
        assert (again.diagnosis_detail, again.date_of_birth, again.registered_at) == (
            record.diagnosis_detail,
            record.date_of_birth,
            record.registered_at,
        )


def test_json_with_quotes_and_backslashes_comes_back_as_it_was(running_batch, instrument):
    from qc.models import InstrumentReading

    values = {"note": 'a "quoted" \\ path, {x}', "n": [1.5, None, "NULL"]}
    (reading,) = bulk_insert(
        [
            InstrumentReading(
                reading_id=uuid.uuid4(),
                instrument=instrument,
                sample_id=f"{running_batch.lot_number}-D03",
                batch=running_batch,
                measured_at=timezone.now(),
                values=values,
                received_at=timezone.now(),
            )
        ]
    )
    assert InstrumentReading.objects.get(pk=reading.pk).values == values
