"""At the bedside: the check of a bag against the recipient's wristband, and the infusion."""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models

from carnk_mfg.fields import ABOVE_ZERO, FreeCharField, FreeTextField


class BedsideOutcome(models.TextChoices):
    MATCH = "match", "Match: infusion may proceed"
    BLOCKED = "blocked", "Blocked"


@pghistory.track()
class BedsideCheck(models.Model):
    """A scan of a bag and a wristband at the bedside; every attempt is kept, and a mismatch
    blocks the infusion."""

    scanned_bag = FreeCharField(max_length=60)
    scanned_product_code = FreeCharField(max_length=20, blank=True)
    scanned_wristband = FreeCharField(max_length=60)
    scanned_coi = FreeCharField("Scanned Chain of Identity", max_length=60, blank=True)
    # The second patient identifier given with the wristband (one or both).
    scanned_date_of_birth = models.DateField(null=True, blank=True)
    scanned_medical_record_number = FreeCharField(max_length=40, blank=True)
    dose_unit = models.ForeignKey(
        "batches.DoseUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bedside_checks",
    )
    recipient = models.ForeignKey(
        "batches.Recipient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bedside_checks",
    )
    outcome = models.CharField(max_length=10, choices=BedsideOutcome.choices)
    reasons = models.JSONField(default=list, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["-checked_at"]
        permissions = [("verify_at_bedside", "Verify a bag against a recipient at the bedside")]

    def __str__(self):
        return f"Bedside check {self.scanned_bag} / {self.scanned_wristband}: {self.outcome}"


@pghistory.track()
class Infusion(models.Model):
    """An infusion, recorded in two signed parts as it happens at the bedside: its start
    (from a matching bedside check, with the vitals before) and its completion (the end, the
    volume infused, the vitals after and any reaction). Until completed it is in progress."""

    dose_unit = models.OneToOneField(
        "batches.DoseUnit", on_delete=models.PROTECT, related_name="infusion"
    )
    recipient = models.ForeignKey(
        "batches.Recipient", on_delete=models.PROTECT, related_name="infusions"
    )
    bedside_check = models.OneToOneField(
        BedsideCheck, on_delete=models.PROTECT, related_name="infusion"
    )
    started_at = models.DateTimeField()
    # The completion: null while the infusion is in progress, all set together.
    ended_at = models.DateTimeField(null=True, blank=True)
    volume_ml = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, validators=ABOVE_ZERO.validators()
    )
    # e.g. {"pre": {"temp_c": 36.8, "hr": 78, "bp": "124/78", "spo2": 98}, "post": {...}}
    vitals = models.JSONField(default=dict)
    reactions = FreeTextField("Infusion reactions", blank=True)
    administered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    notes = FreeTextField(blank=True)
    recorded_at = models.DateTimeField()
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="infusion_ends_after_start",
            ),
            models.CheckConstraint(
                condition=ABOVE_ZERO.q("volume_ml", nullable=True),
                name="infusion_volume_positive",
            ),
            # A completion is whole or absent: end, volume, who and when together.
            models.CheckConstraint(
                condition=models.Q(
                    ended_at__isnull=True,
                    volume_ml__isnull=True,
                    completed_by__isnull=True,
                    completed_recorded_at__isnull=True,
                )
                | models.Q(
                    ended_at__isnull=False,
                    volume_ml__isnull=False,
                    completed_by__isnull=False,
                    completed_recorded_at__isnull=False,
                ),
                name="infusion_completion_whole",
            ),
            # What is observed after the infusion comes with its end.
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=False)
                | (~models.Q(vitals__has_key="post") & models.Q(reactions="")),
                name="infusion_after_with_end",
            ),
        ]
        # The database's own guards on the two signed parts, whatever path writes.
        triggers = [
            pgtrigger.Trigger(
                name="start_stays_as_signed",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.Condition(
                    "OLD.started_at IS DISTINCT FROM NEW.started_at"
                    " OR OLD.dose_unit_id IS DISTINCT FROM NEW.dose_unit_id"
                    " OR OLD.recipient_id IS DISTINCT FROM NEW.recipient_id"
                    " OR OLD.bedside_check_id IS DISTINCT FROM NEW.bedside_check_id"
                    " OR OLD.administered_by_id IS DISTINCT FROM NEW.administered_by_id"
                    " OR OLD.recorded_at IS DISTINCT FROM NEW.recorded_at"
                    " OR OLD.vitals -> 'pre' IS DISTINCT FROM NEW.vitals -> 'pre'"
                ),
                func="RAISE EXCEPTION 'infusion %: its start is signed and stays as signed',"
                " OLD.id; RETURN NULL;",
            ),
            pgtrigger.Trigger(
                name="completed_once",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.Q(old__ended_at__isnull=False),
                func="RAISE EXCEPTION 'infusion % was completed at %: its record is final',"
                " OLD.id, OLD.ended_at; RETURN NULL;",
            ),
            pgtrigger.Trigger(
                name="kept",
                operation=pgtrigger.Delete,
                when=pgtrigger.Before,
                func="RAISE EXCEPTION 'infusion % is kept: an infusion is never deleted',"
                " OLD.id; RETURN NULL;",
            ),
        ]

    def __str__(self):
        return f"Infusion of {self.dose_unit} into {self.recipient.subject_id}"

    @property
    def in_progress(self) -> bool:
        return self.ended_at is None
