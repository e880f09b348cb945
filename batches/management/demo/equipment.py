"""The demo lab's equipment: nine pieces calibrated at set-up, one centrifuge whose
calibration has lapsed (steps refuse it), the biosafety cabinet every demo step is done in,
the QC lab's cell counter (the Vi-CELL that sends its counts is registered with it), and the
irradiation record of each feeder lot (on the irradiator, usable that day)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from batches.models import Equipment, FeederLot
from batches.services import equipment, irradiation

# The cabinet every demo step records; the centrifuge whose calibration lapsed.
STEP_CABINET = "BSC-01"
LAPSED = "CEN-02"
IRRADIATOR = "IRR-01"
# The cell counter's record at the bench; its readings are accepted only while it is usable.
CELL_COUNTER = "CC-01"
# identifier, name, kind, location
PIECES = [
    (STEP_CABINET, "Class II biosafety cabinet", "biosafety_cabinet", "Suite 1"),
    ("BSC-02", "Class II biosafety cabinet", "biosafety_cabinet", "Suite 2"),
    ("INC-01", "CO2 incubator", "incubator", "Suite 1"),
    ("CEN-01", "Refrigerated centrifuge", "centrifuge", "Suite 1"),
    (LAPSED, "Benchtop centrifuge", "centrifuge", "Suite 2"),
    (IRRADIATOR, "Cs-137 blood irradiator", "irradiator", "Cell core"),
    ("CRF-01", "Controlled-rate freezer", "controlled_rate_freezer", "Cryo room"),
    ("LN2-01", "LN2 vapour-phase storage", "ln2_storage", "Cryo room"),
    (CELL_COUNTER, "Vi-CELL BLU cell counter", "cell_counter", "QC lab 2"),
]


def set_up_equipment(*, tech: User, qa: User, today: date) -> None:
    """At set-up: QA registers the pieces, the floor records their calibrations (each due
    well after `today`, the real day, except the lapsed centrifuge, due three days ago)."""
    setup = timezone.localdate()
    for identifier, name, kind, location in PIECES:
        piece = equipment.equipment_register(
            actor=qa, identifier=identifier, name=name, kind=kind, location=location
        )
        lapsed = identifier == LAPSED
        equipment.equipment_calibration_record(
            actor=tech,
            equipment=piece,
            performed_on=setup - timedelta(days=300 if lapsed else 20),
            next_due_on=today - timedelta(days=3) if lapsed else today + timedelta(days=200),
            performed_by="Metrology Services Ltd",
            certificate=f"Calibration certificate {identifier}".encode(),
            certificate_filename=f"{identifier}-calibration.pdf",
        )


def irradiate(tech: User, lot_number: str) -> None:
    """The irradiation record of a feeder lot, at the dose and on the day it was registered."""
    lot = FeederLot.objects.get(lot_number=lot_number)
    irradiation.feeder_irradiation_record(
        actor=tech,
        feeder_lot=lot,
        dose_gy=Decimal(lot.irradiation_dose_gy),
        irradiated_on=lot.irradiated_on,
        irradiator=Equipment.objects.get(identifier=IRRADIATOR),
    )
