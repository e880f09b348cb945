"""Lab instruments (DESIGN section 7): the instrument with its service account, and its API
keys."""

import pghistory
from django.conf import settings
from django.db import models

from carnk_mfg.fields import FreeCharField, IdentifierField, identifier_check


class InstrumentKind(models.TextChoices):
    CELL_COUNTER = "cell_counter", "Cell counter"
    FLOW_CYTOMETER = "flow_cytometer", "Flow cytometer"
    PLATE_READER = "plate_reader", "Plate reader"
    QPCR = "qpcr", "qPCR"


@pghistory.track()
class Instrument(models.Model):
    """A lab instrument. It acts through its own service account (`user`, in the instrument
    role), so its readings carry it as the actor everywhere a person would appear."""

    name = FreeCharField(max_length=120)
    model = FreeCharField(max_length=120)
    serial_number = IdentifierField(max_length=60, unique=True)
    location = FreeCharField(max_length=120)
    kind = models.CharField(max_length=20, choices=InstrumentKind.choices)
    calibration_due = models.DateField()
    retired = models.BooleanField(default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="instrument"
    )
    # A cell counter is also equipment used at the bench: its record there (barcode, status,
    # calibrations). Kept on this side because QC depends on batches, never the reverse.
    equipment = models.OneToOneField(
        "batches.Equipment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="instrument",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            identifier_check("serial_number", name="instrument_serial_number_identifier")
        ]

    def __str__(self):
        return f"{self.name} ({self.model}, S/N {self.serial_number})"

    def refusal(self, *, on) -> str:
        """Why this instrument's data must be refused on day `on`, or "" when it may send."""
        if self.retired:
            return f"Instrument {self.serial_number} is retired."
        if self.calibration_due < on:
            return (
                f"Instrument {self.serial_number} calibration lapsed on "
                f"{self.calibration_due:%Y-%m-%d}; its data cannot be accepted."
            )
        return ""


@pghistory.track(exclude=["key_hash"])
class InstrumentKey(models.Model):
    """An API key of one instrument: shown once, stored as a keyed hash (HMAC-SHA256 with a
    server secret), found by its prefix and compared in constant time; revocable."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="keys")
    label = FreeCharField(max_length=120, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        state = "revoked" if self.revoked_at else "active"
        return f"{self.prefix}… ({state}) for {self.instrument.serial_number}"
