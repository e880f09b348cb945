"""Example inputs for the release documents: a Certificate of Analysis and a bag label of the
same batch, each one changeable field by field (``coa_data(deviations=[])``)."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from batches.documents.coa import CoaData, DeviationLine, QcResultLine, QcStatus, SignatureLine
from batches.documents.inputs import DonorEligibility
from batches.documents.labels import BagLabel
from carnk_mfg.isbt128 import DIN

CHICAGO = ZoneInfo("America/Chicago")
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=CHICAGO)
BAG_DIN = "G123498654321"  # UK Red Book worked example: check character H, value 17
BAG_DIN_EYE = "G1234 98 654321"
UNIT_DIN = "W123426000123"


def qc_line(name, status, result="", unit="", **kw):
    defaults: dict[str, Any] = {"method": "Flow cytometry", "specification": "≥ 70 %"}
    if status != QcStatus.PENDING:
        defaults |= {"reviewed_by": "Quinn Analyst", "reviewed_at": T0 + timedelta(days=15)}
    return QcResultLine(test_name=name, status=status, result=result, unit=unit, **(defaults | kw))


RELEASE_PANEL = [
    qc_line(
        "Viability", QcStatus.IN_SPEC, "92.4", "%", method="7-AAD flow", specification="> 70 %"
    ),
    qc_line(
        "Sterility (14-day culture)",
        QcStatus.PENDING,
        method="BacT/ALERT",
        specification="No growth",
        may_release_pending=True,
    ),
    qc_line(
        "Gram stain",
        QcStatus.IN_SPEC,
        "No organisms seen",
        method="Gram stain",
        specification="No organisms seen",
    ),
    qc_line(
        "Endotoxin",
        QcStatus.OUT_OF_SPEC,
        "6.1",
        "EU/mL",
        method="LAL kinetic",
        specification="< 5.0 EU/mL",
    ),
    qc_line("Mycoplasma", QcStatus.IN_SPEC, "Negative", method="PCR", specification="Negative"),
    qc_line("Identity CD56+CD3-", QcStatus.IN_SPEC, "96.8", "%", specification="> 70 %"),
    qc_line(
        "CD3+ T cells",
        QcStatus.IN_SPEC,
        "1.2 × 10^4",
        "cells/kg",
        specification="< 2 × 10^5 cells/kg",
    ),
    qc_line(
        "CAR+ (transduction efficiency)", QcStatus.IN_SPEC, "48.5", "%", specification="≥ 20 %"
    ),
    qc_line("Residual feeder cells", QcStatus.IN_SPEC, "0.02", "%", specification="< 0.1 %"),
    qc_line(
        "Replication-competent retrovirus",
        QcStatus.IN_SPEC,
        "Not detected",
        method="S+L- assay",
        specification="Not detected",
    ),
    qc_line(
        "Vector copy number",
        QcStatus.IN_SPEC,
        "2.1",
        "copies/cell",
        method="ddPCR",
        specification="≤ 5 copies/cell",
    ),
]

DEVIATIONS = [
    DeviationLine(
        kind="Step performed late",
        what="Restimulation on day 8 instead of day 7",
        opened_by="Tess Technician",
        opened_at=T0 + timedelta(days=8),
        disposition="Accept: continue manufacturing",
        disposition_notes="Within validated window",
        dispositioned_by="Quincy Assurance",
        dispositioned_at=T0 + timedelta(days=9),
    ),
    DeviationLine(
        kind="Out-of-specification result",
        what="Endotoxin 6.1 EU/mL above the 5.0 EU/mL limit",
        opened_by="Quinn Analyst",
        opened_at=T0 + timedelta(days=15),
    ),
]

SIGNATURES = [
    SignatureLine("Tess Technician", "Performed", T0 + timedelta(days=14, hours=3)),
    SignatureLine("Quinn Analyst", "Reviewed", datetime(2026, 11, 18, 16, 5, 9, tzinfo=UTC)),
    SignatureLine(
        "Quincy Assurance",
        "Released",
        datetime(2026, 11, 18, 11, 7, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ),
]


def coa_data(**kw) -> CoaData:
    fields: dict[str, Any] = {
        "lot_number": "CNK-26-0042",
        "din": DIN.from_text(BAG_DIN),
        "source_unit_din": UNIT_DIN,
        "donor_eligibility": DonorEligibility.ELIGIBLE,
        "day0_at": T0,
        "harvested_at": T0 + timedelta(days=14),
        "expires_at": T0 + timedelta(days=365),
        "qc_results": RELEASE_PANEL,
        "deviations": DEVIATIONS,
        "signatures": SIGNATURES,
        "recipient_subject_id": "CNK-S-007",
        "template": "CB-CAR-NK v2",
        "facility": "Cell Therapy Laboratory",
        "generated_at": datetime(2026, 11, 18, 17, 0, tzinfo=UTC),
    }
    return CoaData(**(fields | kw))


def bag_label(**kw) -> BagLabel:
    fields: dict[str, Any] = {
        "din": BAG_DIN,
        "product_code_data": "=<S1145VA0",
        "lot_number": "CNK-26-0042",
        "expires_at": datetime(2026, 12, 1, 14, 30, tzinfo=CHICAGO),
        "volume_ml": Decimal("20.0"),
        "car_nk_cells": 2.0e8,
        "cells_per_ml": 1.0e7,
        "donor_eligibility": DonorEligibility.ELIGIBLE,
        "recipient_subject_id": "CNK-S-007",
        "dose_level": "DL2: 1 × 10^6 CAR-NK cells/kg",
    }
    return BagLabel(**(fields | kw))
