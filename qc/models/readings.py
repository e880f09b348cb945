"""Readings as instruments send them (DESIGN section 7): each kept as received, and linked to
the cell count or QC result it became."""

from django.db import models

from carnk_mfg.fields import IdentifierField, identifier_check
from carnk_mfg.trail_trackers import track_per_statement
from qc.models.instruments import Instrument
from qc.models.results import QcTest


@track_per_statement()
class InstrumentReading(models.Model):
    """One reading as the instrument sent it. `reading_id` (the client's UUID) makes
    submission idempotent: a retry finds it and creates nothing new."""

    reading_id = models.UUIDField(unique=True)
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="readings")
    sample_id = IdentifierField(max_length=60)
    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT, related_name="readings")
    measured_at = models.DateTimeField()
    values = models.JSONField()
    cell_count = models.OneToOneField(
        "batches.CellCount", null=True, blank=True, on_delete=models.PROTECT, related_name="reading"
    )
    qc_test = models.ForeignKey(
        QcTest, null=True, blank=True, on_delete=models.PROTECT, related_name="readings"
    )
    source_import = models.ForeignKey(
        "InstrumentImport", null=True, blank=True, on_delete=models.PROTECT, related_name="readings"
    )
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-id"]
        # The list's order: its first page is read from the index, not sorted from the table.
        indexes = [models.Index(fields=["received_at", "id"], name="reading_newest_first")]
        permissions = [("submit_reading", "Submit instrument readings and imports")]
        constraints = [identifier_check("sample_id", name="reading_sample_id_identifier")]

    def __str__(self):
        return f"Reading {self.reading_id} ({self.sample_id})"
