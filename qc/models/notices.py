"""The outbox of notifications (e-mail and in-app notice): QC flags, overdue follow-up
visits, recalls and trend signals."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from carnk_mfg.fields import FreeCharField, FreeTextField
from qc.models.overdue import QcAlert


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    IN_APP = "in_app", "In-app notice"


class Notification(models.Model):
    """Outbox: each row is sent (or shown) exactly once; the sender claims it first."""

    # What it is about: a QC alert, an overdue follow-up visit, a recall or a training about
    # to expire (one outbox, one sender). Each is indexed only by its unique constraint below,
    # which leads with it and holds only the rows about that kind of record: a scan writes
    # thousands of rows at once, each into four indexes rather than fifteen.
    alert = models.ForeignKey(
        QcAlert,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    visit = models.ForeignKey(
        "batches.FollowUpVisit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    recall = models.ForeignKey(
        "batches.Recall",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    trend_signal = models.ForeignKey(
        "qc.TrendSignal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    training = models.ForeignKey(
        "batches.TrainingRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    em_sample = models.ForeignKey(
        "qc.EmSample",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    # An equipment calibration due soon, and the same calibration overdue: two notices.
    calibration_due = models.ForeignKey(
        "batches.EquipmentCalibration",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="due_notifications",
        db_index=False,
    )
    calibration_overdue = models.ForeignKey(
        "batches.EquipmentCalibration",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="overdue_notifications",
        db_index=False,
    )
    capa = models.ForeignKey(
        "batches.Capa",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qc_notifications"
    )
    subject = FreeCharField(max_length=200)
    body = FreeTextField()
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "channel", "recipient"],
                condition=Q(alert__isnull=False),
                name="one_notification_per_recipient",
            ),
            models.UniqueConstraint(
                fields=["visit", "channel", "recipient"],
                condition=Q(visit__isnull=False),
                name="one_visit_notice_per_recipient",
            ),
            models.UniqueConstraint(
                fields=["recall", "channel", "recipient"],
                condition=Q(recall__isnull=False),
                name="one_recall_notice_per_recipient",
            ),
            models.UniqueConstraint(
                fields=["trend_signal", "channel", "recipient"],
                condition=Q(trend_signal__isnull=False),
                name="one_trend_notice_per_recipient",
            ),
            models.UniqueConstraint(
                fields=["training", "channel", "recipient"],
                condition=Q(training__isnull=False),
                name="one_training_notice_per_recipient",
            ),
            models.UniqueConstraint(
                fields=["em_sample", "channel", "recipient"],
                condition=Q(em_sample__isnull=False),
                name="one_em_notice_per_recipient",
            ),
            models.UniqueConstraint(
                fields=["calibration_due", "channel", "recipient"],
                condition=Q(calibration_due__isnull=False),
                name="one_calibration_due_notice",
            ),
            models.UniqueConstraint(
                fields=["calibration_overdue", "channel", "recipient"],
                condition=Q(calibration_overdue__isnull=False),
                name="one_calibration_overdue_notice",
            ),
            models.UniqueConstraint(
                fields=["capa", "channel", "recipient"],
                condition=Q(capa__isnull=False),
                name="one_capa_notice_per_recipient",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"], name="outbox_unsent", condition=Q(claimed_at__isnull=True)
            )
        ]

    def __str__(self):
        return f"{self.channel} to {self.recipient}: {self.subject}"
