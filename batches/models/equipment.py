"""Equipment used to make a batch: biosafety cabinets, incubators, centrifuges, the irradiator,
controlled-rate freezers, LN2 storage and cell counters; each with its status, calibrations,
maintenance and failures; the equipment each step used; and the irradiation of feeder lots.

Whether a piece of equipment may be used is decided in one place only:
`batches.services.equipment.equipment_usability`."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from carnk_mfg.fields import (
    ABOVE_ZERO,
    FreeCharField,
    FreeTextField,
    IdentifierField,
    identifier_check,
)


class EquipmentKind(models.TextChoices):
    BIOSAFETY_CABINET = "biosafety_cabinet", "Biosafety cabinet"
    INCUBATOR = "incubator", "Incubator"
    CENTRIFUGE = "centrifuge", "Centrifuge"
    IRRADIATOR = "irradiator", "Irradiator"
    CONTROLLED_RATE_FREEZER = "controlled_rate_freezer", "Controlled-rate freezer"
    LN2_STORAGE = "ln2_storage", "LN2 storage"
    CELL_COUNTER = "cell_counter", "Cell counter"


class EquipmentStatus(models.TextChoices):
    IN_SERVICE = "in_service", "In service"
    OUT_OF_SERVICE = "out_of_service", "Out of service"
    QUARANTINED = "quarantined", "Quarantined"


@pghistory.track()
class Equipment(models.Model):
    """One piece of equipment, known by the identifier on its barcode label. A cell counter's
    instrument record (QC's, with its API keys) points here from the instrument side."""

    identifier = IdentifierField(max_length=40, unique=True)
    name = FreeCharField(max_length=120)
    kind = models.CharField(max_length=30, choices=EquipmentKind.choices)
    location = FreeCharField(max_length=120, blank=True)
    status = models.CharField(
        max_length=20, choices=EquipmentStatus.choices, default=EquipmentStatus.IN_SERVICE
    )
    status_reason = FreeTextField(blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField()

    class Meta:
        ordering = ["identifier"]
        verbose_name_plural = "equipment"
        permissions = [
            ("manage_equipment", "Register equipment and change its status"),
            ("service_equipment", "Record a calibration or maintenance of equipment"),
            ("report_equipment_failure", "Record an equipment failure"),
        ]
        constraints = [
            identifier_check("identifier", name="equipment_identifier"),
            models.CheckConstraint(
                condition=Q(status=EquipmentStatus.IN_SERVICE) | ~Q(status_reason=""),
                name="equipment_out_of_service_says_why",
            ),
        ]

    def __str__(self):
        return f"{self.identifier} {self.name}"


class ServiceResult(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class EquipmentService(models.Model):
    """What a calibration and a maintenance share: when performed, when next due, the result,
    and the certificate kept as received with its SHA-256."""

    performed_on = models.DateField()
    next_due_on = models.DateField()
    result = models.CharField(
        max_length=10, choices=ServiceResult.choices, default=ServiceResult.PASSED
    )
    performed_by = FreeCharField(max_length=120, help_text="Who performed it (a person or firm)")
    notes = FreeTextField(blank=True)
    certificate_filename = FreeCharField(max_length=255, blank=True)
    certificate_sha256 = models.CharField(max_length=64, blank=True)
    certificate = models.BinaryField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        abstract = True
        ordering = ["-performed_on", "-id"]


@pghistory.track(exclude=["certificate"])
class EquipmentCalibration(EquipmentService):
    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="calibrations")
    # Set once each, by the scan that told the equipment's users the calibration is due soon,
    # and that it is overdue.
    due_soon_flagged_at = models.DateTimeField(null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta(EquipmentService.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(next_due_on__gt=F("performed_on")), name="calibration_due_after"
            ),
            models.CheckConstraint(
                condition=Q(certificate__isnull=True, certificate_sha256="")
                | Q(certificate__isnull=False, certificate_sha256__regex=r"^[0-9a-f]{64}$"),
                name="calibration_certificate_sha256",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_due_on"],
                name="calibration_due_unflagged",
                condition=Q(overdue_flagged_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"Calibration of {self.equipment.identifier} on {self.performed_on}"


@pghistory.track(exclude=["certificate"])
class EquipmentMaintenance(EquipmentService):
    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="maintenance")
    description = FreeTextField(blank=True)

    class Meta(EquipmentService.Meta):
        verbose_name_plural = "equipment maintenance"
        constraints = [
            models.CheckConstraint(
                condition=Q(next_due_on__gt=F("performed_on")), name="maintenance_due_after"
            ),
            models.CheckConstraint(
                condition=Q(certificate__isnull=True, certificate_sha256="")
                | Q(certificate__isnull=False, certificate_sha256__regex=r"^[0-9a-f]{64}$"),
                name="maintenance_certificate_sha256",
            ),
        ]

    def __str__(self):
        return f"Maintenance of {self.equipment.identifier} on {self.performed_on}"


@pghistory.track()
class EquipmentFailure(models.Model):
    """A failure found after the equipment was used. Every batch whose steps used it since its
    last good check may be affected (`batches.selectors.equipment.failure_impact`)."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="failures")
    found_on = models.DateField()
    description = FreeTextField()
    # The last day the equipment was known good: its last passed calibration or maintenance
    # unless the person recording says otherwise (an explicit check).
    last_good_check_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-found_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_good_check_on__lte=F("found_on")),
                name="failure_good_check_before_found",
            ),
        ]

    def __str__(self):
        return f"Failure of {self.equipment.identifier} found {self.found_on}"


@pghistory.track()
class EquipmentUse(models.Model):
    """A piece of equipment used by one executed step (scanned at the bench)."""

    step = models.ForeignKey(
        "batches.ExecutedStep", on_delete=models.PROTECT, related_name="equipment_uses"
    )
    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="uses")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step", "equipment"], name="equipment_once_per_step"),
        ]

    def __str__(self):
        return f"{self.equipment.identifier} used in {self.step}"


@pghistory.track()
class FeederIrradiation(models.Model):
    """The irradiation of a feeder cell lot: the dose, the day and the irradiator. A step that
    records the feeders' irradiation dose is checked against it."""

    feeder_lot = models.OneToOneField(
        "batches.FeederLot", on_delete=models.PROTECT, related_name="irradiation"
    )
    dose_gy = models.DecimalField(
        "Dose (Gy)", max_digits=6, decimal_places=1, validators=ABOVE_ZERO.validators()
    )
    irradiated_on = models.DateField()
    irradiator = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="irradiations")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-irradiated_on", "-id"]
        permissions = [("record_irradiation", "Record the irradiation of a feeder cell lot")]
        constraints = [
            models.CheckConstraint(
                condition=ABOVE_ZERO.q("dose_gy"), name="irradiation_dose_positive"
            ),
        ]

    def __str__(self):
        return f"{self.feeder_lot.lot_number}: {self.dose_gy} Gy on {self.irradiated_on}"
