"""Who is told, the outbox rows that tell them, and the sender that delivers each row once
(e-mail and in-app notice)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from carnk_mfg.people import printed_name
from carnk_mfg.roles import Role
from qc.models import Channel, Notification

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import Model

    from batches.models import Capa, FollowUpVisit, Recall, TrainingRecord
    from qc.models import EmSample

log = logging.getLogger(__name__)


def role_members(role: str) -> list[User]:
    """The active people in a role; those with an e-mail address first choice, everyone in
    the role when nobody has one (the in-app notice still reaches them)."""
    people = get_user_model().objects.filter(groups__name=role, is_active=True)
    return list(people.exclude(email="")) or list(people)


def post_notices(
    *,
    about: str,
    notices: Sequence[tuple[Model, str, str]],
    people: Sequence[User],
    now: datetime,
) -> int:
    """Write to the outbox one e-mail and one in-app notice per notice and person; `about`
    names what each notice is about ("alert", "visit", "recall", "trend_signal", "training",
    "em_sample" or "capa")
    and each notice is (that record, subject, body). The outbox keeps at most one row per
    record, channel and person, so writing again adds nothing. Returns the number of rows
    offered."""
    rows = [
        Notification(
            **{about: record},
            channel=channel,
            recipient=user,
            subject=subject,
            body=body,
            created_at=now,
        )
        for record, subject, body in notices
        for user in people
        for channel in (Channel.EMAIL, Channel.IN_APP)
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def notify_recall(recall: Recall) -> int:
    """Tell QA and clinical staff of a recall by e-mail and in-app notice, sent as soon as the
    recall commits (the minute scan retries anything that fails to send)."""
    batch = recall.batch
    infused = [f"{e.dose_unit} into {e.recipient.subject_id}" for e in recall.lookback.all()]
    subject = f"RECALL: batch {batch.lot_number} (DIN {batch.din})"
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
    written = post_notices(
        about="recall",
        notices=[(recall, subject[:200], body)],
        people=list(people.values()),
        now=timezone.now(),
    )
    transaction.on_commit(send_outbox)
    return written


def notify_visits_overdue(*, visits: list[FollowUpVisit], now: datetime) -> int:
    """Tell each recipient's treating clinician that these follow-up visits (just flagged
    overdue) are overdue, or all clinical staff for a recipient whose clinician is no longer
    active; sent as soon as the flag commits (`batches.ports.notify_visits_overdue`)."""
    clinician_ids = {
        visit.recipient.treating_clinician_id
        for visit in visits
        if visit.recipient.treating_clinician_id is not None
    }
    active = {
        user.pk: user
        for user in get_user_model().objects.filter(
            pk__in=clinician_ids, is_active=True, groups__name=Role.CLINICAL
        )
    }
    # Keyed by the clinician's pk; 0 for the visits all clinical staff are told of.
    by_person: dict[int, list[FollowUpVisit]] = {}
    for visit in visits:
        clinician = active.get(visit.recipient.treating_clinician_id or 0)
        by_person.setdefault(clinician.pk if clinician else 0, []).append(visit)
    written = 0
    for key, theirs in by_person.items():
        people = [active[key]] if key else role_members(Role.CLINICAL)
        notices = [
            (
                visit,
                f"Follow-up overdue: {visit.visit}, {visit.recipient.subject_id}",
                f"The {visit.visit} visit of {visit.recipient.subject_id} "
                f"was due {visit.due_at:%Y-%m-%d}.",
            )
            for visit in theirs
        ]
        written += post_notices(about="visit", notices=notices, people=people, now=now)
    transaction.on_commit(send_outbox)
    return written


def notify_training_expiring(*, records: list[TrainingRecord], now: datetime) -> int:
    """Tell each trainee, and their supervisor when they have one, that a training (just
    flagged) expires soon (`batches.ports.notify_training_expiring`)."""
    written = 0
    for record in records:
        trainee = record.trainee
        supervision = getattr(trainee, "supervision", None)
        people = [trainee]
        if supervision is not None and supervision.supervisor.is_active:
            people.append(supervision.supervisor)
        version = record.procedure_version
        subject = (
            f"Training expires {record.expires_on:%Y-%m-%d}: {version}, {printed_name(trainee)}"
        )
        body = (
            f"{printed_name(trainee)}'s training on {version} ({version.procedure.title}) "
            f"expires on {record.expires_on:%Y-%m-%d}. Until retrained they may not perform or "
            "review the steps that ask for it."
        )
        written += post_notices(
            about="training", notices=[(record, subject[:200], body)], people=people, now=now
        )
    transaction.on_commit(send_outbox)
    return written


def notify_capas_overdue(*, capas: list[Capa], now: datetime) -> int:
    """Tell each CAPA's owner that it (just flagged) is overdue
    (`batches.ports.notify_capas_overdue`)."""
    written = 0
    for capa in capas:
        subject = f"CAPA {capa.pk} overdue (due {capa.due_on:%Y-%m-%d})"
        body = (
            f"CAPA {capa.pk}, owned by {printed_name(capa.owner)}, was due on "
            f"{capa.due_on:%Y-%m-%d} and is still open: {capa.action}"
        )
        written += post_notices(
            about="capa", notices=[(capa, subject[:200], body)], people=[capa.owner], now=now
        )
    transaction.on_commit(send_outbox)
    return written


def notice_mark_read(*, actor: User, notice: Notification) -> Notification:
    """The recipient marks one of their in-app notices read (reading it again changes
    nothing); nobody else may."""
    if notice.recipient_id != actor.pk or notice.channel != Channel.IN_APP:
        raise PermissionDenied("Only its recipient marks a notice read.")
    Notification.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
    notice.refresh_from_db(fields=["read_at"])
    return notice


def notices_mark_all_read(*, actor: User) -> int:
    """The recipient marks every unread in-app notice of theirs read; returns how many."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Sign in to read your notices.")
    return Notification.objects.filter(
        recipient=actor.pk, channel=Channel.IN_APP, read_at__isnull=True
    ).update(read_at=timezone.now())


def send_outbox(*, now: datetime | None = None, limit: int = 500) -> int:
    """Claim unsent notifications, then deliver each once. In-app notices are delivered by
    being visible; email goes through Django's mail backend."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(claimed_at__isnull=True)
            .order_by("created_at")
            .values_list("id", flat=True)[:limit]
        )
        Notification.objects.filter(id__in=ids, claimed_at__isnull=True).update(claimed_at=now)
    delivered = []
    for note in Notification.objects.filter(id__in=ids).select_related("recipient"):
        if note.channel == Channel.EMAIL:
            address = note.recipient.email or f"{note.recipient.username}@localhost"
            try:
                send_mail(note.subject, note.body, None, [address])
            except Exception:  # noqa: BLE001 - unclaim so the next scan retries it
                log.exception("QC notification %s failed; will retry", note.pk)
                Notification.objects.filter(pk=note.pk).update(claimed_at=None)
                continue
        delivered.append(note.pk)
    Notification.objects.filter(pk__in=delivered).update(sent_at=timezone.now())
    return len(delivered)


def notify_em_result(sample: EmSample) -> int:
    """Tell QA of an environmental monitoring result at alert or action level (sent when the
    reading commits)."""
    point = sample.sampling_point
    level = sample.get_level_display().lower()
    subject = f"EM {level}: {point} {sample.get_sample_type_display()}, {sample.cfu} CFU"
    touched = [link.deviation.batch.lot_number for link in sample.deviations.all()]
    if touched:
        consequence = "Deviations opened on batches: " + ", ".join(touched) + "."
    elif sample.level == "action":
        consequence = "No deviation: no batch was open in the room then."
    else:
        consequence = "Alert level: watch the trend of this point."
    body = (
        f"{sample.get_sample_type_display()} at {point} ({point.description}), sampled "
        f"{sample.sampling_period}: {sample.cfu} CFU; alert limit above {sample.alert_limit}, "
        f"action limit above {sample.action_limit} (grade {point.room.grade}).\n{consequence}"
    )
    written = post_notices(
        about="em_sample",
        notices=[(sample, subject[:200], body)],
        people=role_members(Role.QA),
        now=timezone.now(),
    )
    transaction.on_commit(send_outbox)
    return written
