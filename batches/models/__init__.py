from batches.models.donor import CordBloodUnit, Eligibility, UnitStatus, UrgentMedicalNeed
from batches.models.materials import (
    FeederLot,
    LotStatus,
    MaterialLot,
    RcrResult,
    ReagentLot,
    VectorLot,
)
from batches.models.recipients import Diagnosis, DoseLevel, Recipient, WeightMeasurement

__all__ = [
    "CordBloodUnit",
    "Diagnosis",
    "DoseLevel",
    "Eligibility",
    "FeederLot",
    "LotStatus",
    "MaterialLot",
    "RcrResult",
    "ReagentLot",
    "Recipient",
    "UnitStatus",
    "UrgentMedicalNeed",
    "VectorLot",
    "WeightMeasurement",
]
