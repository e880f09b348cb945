"""Who and why reach every trail row written after a nested audited block has ended (a
signature written by the database's own function is checked with the services that sign)."""

import pytest

from batches.models import Recipient
from carnk_mfg.audit import audit_history, audited
from tests.factories import RecipientFactory

pytestmark = pytest.mark.django_db


def newest_context(record):
    event = audit_history(record).last()
    assert event is not None
    return event.pgh_context or {}


def test_outer_reason_returns_after_a_nested_block(qa, clinical):
    first, second = RecipientFactory.create(), RecipientFactory.create()
    with audited(actor=qa, reason="outer"):
        Recipient.objects.filter(pk=first.pk).update(diagnosis_detail="before")
        with audited(actor=clinical, reason="inner", step="nested"):
            Recipient.objects.filter(pk=first.pk).update(diagnosis_detail="inside")
        Recipient.objects.filter(pk=second.pk).update(diagnosis_detail="after")
    inside, after = newest_context(first), newest_context(second)
    assert (inside["reason"], inside["actor_name"], inside["step"]) == (
        "inner",
        clinical.username,
        "nested",
    )
    assert (after["reason"], after["actor_name"]) == ("outer", qa.username)
    assert "step" not in after
