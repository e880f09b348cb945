"""`bulk_insert`: many rows in one INSERT of column arrays, each record given its key."""

import pytest
from django.core.exceptions import ValidationError

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
