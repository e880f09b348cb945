"""Who is told, and the outbox rows that tell them (e-mail and in-app notice, each sent once
by `qc.services.overdue.send_outbox`)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from carnk_mfg.roles import Role
from qc.models import Channel, Notification


def role_members(role: str) -> list:
    """The active people in a role; those with an e-mail address first choice, everyone in
    the role when nobody has one (the in-app notice still reaches them)."""
    people = get_user_model().objects.filter(groups__name=role, is_active=True)
    return list(people.exclude(email="")) or list(people)


def notify_recall(recall) -> int:
    """Tell QA and clinical staff of a recall by e-mail and in-app notice, sent as soon as the
    recall commits (the minute scan retries anything that fails to send)."""
    from qc.services.overdue import send_outbox

    batch = recall.batch
    infused = [f"{e.dose_unit} into {e.recipient.subject_id}" for e in recall.lookback.all()]
    subject = f"RECALL: batch {batch.lot_number} (CoI {batch.coi_identifier})"
    body = (
        f"Batch {batch.lot_number} has been recalled: {recall.reason}\n"
        "Every bag not yet infused is blocked; do not issue or infuse it.\n"
        + (
            "Already infused (lookback): " + "; ".join(infused) + "."
            if infused
            else "No bag of this batch has been infused."
        )
    )
    people = {u.pk: u for role in (Role.QA, Role.CLINICAL) for u in role_members(role)}
    now = timezone.now()
    rows = [
        Notification(
            recall=recall,
            channel=channel,
            recipient=user,
            subject=subject[:200],
            body=body,
            created_at=now,
        )
        for user in people.values()
        for channel in (Channel.EMAIL, Channel.IN_APP)
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(send_outbox)
    return len(rows)
