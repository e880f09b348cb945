"""Who is told, the outbox rows that tell them, and the sender that delivers each row once
(e-mail and in-app notice)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.utils import timezone

from carnk_mfg import due_work
from carnk_mfg.bulk_insert import array_literal
from carnk_mfg.due_work import quoted_column
from carnk_mfg.people import printed_name
from carnk_mfg.roles import Role
from qc.models import Channel, Notification

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import Model

    from batches.models import Capa, EquipmentCalibration, FollowUpVisit, Recall, TrainingRecord
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
    notices: Sequence[tuple[Model | int, str, str]],
    people: Sequence[User],
    now: datetime,
) -> int:
    """Write to the outbox one e-mail and one in-app notice per notice and person; `about`
    names what each notice is about ("alert", "visit", "recall", "trend_signal", "training",
    "em_sample", "calibration_due", "calibration_overdue" or "capa")
    and each notice is (that record or its id, subject, body). The outbox keeps at most one
    row per record, channel and person, so writing again adds nothing. Returns the number of
    rows offered.

    One INSERT whatever the number of rows (a scan may raise thousands of notices at once):
    the rows go to the database as one array text per column, not as model instances."""
    columns: tuple[list[int], list[str], list[int], list[str], list[str]] = ([], [], [], [], [])
    records, channels, recipients, subjects, bodies = columns
    for record, subject, body in notices:
        record_id = record if isinstance(record, int) else record.pk
        for user in people:
            for channel in (Channel.EMAIL, Channel.IN_APP):
                records.append(record_id)
                channels.append(channel.value)
                recipients.append(user.pk)
                subjects.append(subject)
                bodies.append(body)
    if not records:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            # Names from the model's meta; `about` is one of its fields (get_field checks).
            f"INSERT INTO {connection.ops.quote_name(Notification._meta.db_table)} "  # noqa: S608
            f"({quoted_column(Notification, about)}, channel, recipient_id, subject, body, "
            "created_at) SELECT *, %s FROM unnest(%s::bigint[], %s::varchar[], %s::integer[], "
            "%s::varchar[], %s::text[]) ON CONFLICT DO NOTHING",
            [now, *(array_literal(column) for column in columns)],
        )
    return len(records)


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


def notify_calibration_due(
    *, calibrations: list[EquipmentCalibration], overdue: bool, now: datetime
) -> int:
    """Tell the technicians and QA that these equipment calibrations (just flagged) fall due
    soon, or are overdue (`batches.ports.notify_calibration_due`)."""
    notices = []
    for calibration in calibrations:
        equipment = calibration.equipment
        due = f"{calibration.next_due_on:%Y-%m-%d}"
        if overdue:
            subject = f"Calibration OVERDUE: {equipment.identifier} (due {due})"
            body = (
                f"The calibration of {equipment} lapsed on {due}. Steps refuse it until it "
                "is calibrated again."
            )
        else:
            subject = f"Calibration due {due}: {equipment.identifier}"
            body = f"{equipment} falls due for calibration on {due}; book it in time."
        notices.append((calibration, subject[:200], body))
    people = {u.pk: u for role in (Role.TECHNICIAN, Role.QA) for u in role_members(role)}
    written = post_notices(
        about="calibration_overdue" if overdue else "calibration_due",
        notices=notices,
        people=list(people.values()),
        now=now,
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
    """Claim unsent notifications (oldest first), then deliver each once, after the claim has
    committed. In-app notices are delivered by being visible; e-mail goes through Django's
    mail backend, one connection for the lot."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = due_work.claim(
            Notification.objects.filter(claimed_at__isnull=True).order_by("created_at"),
            flag_field="claimed_at",
            now=now,
            limit=limit,
        )
    if not ids:
        return 0
    notes = Notification.objects.filter(id__in=ids).values_list(
        "id", "channel", "subject", "body", "recipient__email", "recipient__username"
    )
    delivered, failed = [], []
    mailer = get_connection()
    # One connection for every e-mail of the lot; if it cannot be opened here, each e-mail
    # tries again on its own below and is unclaimed when it fails.
    with contextlib.suppress(Exception):
        mailer.open()
    try:
        for pk, channel, subject, body, email, username in notes:
            if channel == Channel.EMAIL:
                address = email or f"{username}@localhost"
                try:
                    EmailMessage(subject, body, None, [address], connection=mailer).send()
                except Exception:  # noqa: BLE001 - unclaim so the next scan retries it
                    log.exception("QC notification %s failed; will retry", pk)
                    failed.append(pk)
                    continue
            delivered.append(pk)
    finally:
        mailer.close()
    if failed:
        Notification.objects.filter(pk__in=failed).update(claimed_at=None)
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
