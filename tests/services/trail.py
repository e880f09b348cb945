"""What the service tests check after each write and each refusal: the trail row with its
actor and reason, and that a refused call left the database as it found it."""

from __future__ import annotations

import contextlib

import pghistory.models
from django.forms.models import model_to_dict

from carnk_mfg.audit import actor_label, audit_history
from carnk_mfg.models import ElectronicSignature, SignatureFailure


def last_event(record):
    """The newest trail event of one record."""
    event = audit_history(record).last()
    assert event is not None, f"{record!r} has no trail event"
    return event


def assert_trailed(record, *, actor, reason: str, label: str | None = None) -> None:
    """The record's newest trail event names `actor` (a user, an instrument through its key,
    or None for the system) and `reason` (exactly), and is of kind `label` when given."""
    event = last_event(record)
    context = event.pgh_context or {}
    assert context.get("actor_name") == actor_label(actor)["actor_name"], context
    assert context.get("reason") == reason, context
    if label is not None:
        assert event.pgh_label == label, event.pgh_label


def _row(record) -> dict:
    return model_to_dict(type(record)._base_manager.get(pk=record.pk))


@contextlib.contextmanager
def unchanged(*records, signing_failures: int = 0):
    """The block writes nothing: no trail event anywhere, no signature, the given records as
    they were; and exactly `signing_failures` refused signing attempts recorded."""
    events = pghistory.models.Events.objects.count()
    signatures = ElectronicSignature.objects.count()
    failures = SignatureFailure.objects.count()
    rows = [_row(r) for r in records]
    yield
    assert pghistory.models.Events.objects.count() == events, "a refusal wrote to the trail"
    assert ElectronicSignature.objects.count() == signatures, "a refusal signed something"
    assert SignatureFailure.objects.count() == failures + signing_failures
    assert [_row(r) for r in records] == rows
