"""Native instrument export files: kept as received with their SHA-256, parsed in the
background into a preview, then accepted."""

import pghistory
from django.conf import settings
from django.db import models

from carnk_mfg.fields import FreeCharField, FreeTextField
from qc.models.instruments import Instrument


class ImportStatus(models.TextChoices):
    PARSING = "parsing", "Parsing"
    READY = "ready", "Ready (preview)"
    FAILED = "failed", "Failed"
    ACCEPTED = "accepted", "Accepted"


@pghistory.track(exclude=["raw_file"])
class InstrumentImport(models.Model):
    """A native export file: kept as received with its SHA-256, parsed by a worker into a
    preview (`parsing`, then `ready` or `failed` with the reason), then accepted."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="imports")
    filename = FreeCharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    raw_file = models.BinaryField()
    file_format = FreeCharField(max_length=40)
    preview = models.JSONField(default=dict)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.PARSING
    )
    failure = FreeTextField(blank=True, default="", help_text="Why the file could not be parsed")
    # When the parse was last handed to the workers, and how often: an import left `parsing`
    # is handed over again, a few times at most.
    queued_at = models.DateTimeField(null=True, blank=True)
    parse_attempts = models.PositiveSmallIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "sha256"], name="import_file_once"),
            models.CheckConstraint(
                condition=~models.Q(status="failed") | ~models.Q(failure=""),
                name="import_failed_says_why",
            ),
        ]

    def __str__(self):
        return f"{self.filename} ({self.file_format}, {self.status})"
