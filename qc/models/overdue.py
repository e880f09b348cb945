"""Flags on QC tests: due soon, overdue, escalated to QA (at most one open flag of each kind
per test)."""

from django.db import models
from django.db.models import Q

from carnk_mfg.trail_trackers import track_per_statement
from qc.models.results import QcTest


class AlertKind(models.TextChoices):
    DUE_SOON = "due_soon", "Due soon"
    OVERDUE = "overdue", "Overdue"
    ESCALATED = "escalated", "Escalated to QA"


@track_per_statement()
class QcAlert(models.Model):
    """One flag on one test; at most one open flag of each kind per test."""

    test = models.ForeignKey(QcTest, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["test", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_alert_per_kind",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.test}"
