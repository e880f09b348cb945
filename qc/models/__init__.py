"""QC models by subdomain; `from qc.models import X` reaches every public name."""

from qc.models.environment import (
    EmExcursionDeviation,
    EmLevel,
    EmLimit,
    EmSample,
    EmSampleType,
    SamplingPoint,
)
from qc.models.imports import ImportStatus, InstrumentImport
from qc.models.instruments import Instrument, InstrumentKey, InstrumentKind
from qc.models.investigations import InvestigationState, OosInvestigation
from qc.models.notices import Channel, Notification
from qc.models.overdue import AlertKind, QcAlert
from qc.models.readings import InstrumentReading
from qc.models.results import OPEN_TEST, OPEN_TEST_STATES, QcTest, TestState
from qc.models.specs import QcSpecSet, QcTestDefinition, ResultType, SpecStatus
from qc.models.trends import (
    SignalAssessment,
    TrendAttribute,
    TrendBaseline,
    TrendPoint,
    TrendScan,
    TrendSignal,
    TrendSource,
)

__all__ = [
    "OPEN_TEST",
    "OPEN_TEST_STATES",
    "AlertKind",
    "EmExcursionDeviation",
    "EmLevel",
    "EmLimit",
    "EmSample",
    "EmSampleType",
    "SamplingPoint",
    "Channel",
    "ImportStatus",
    "Instrument",
    "InstrumentImport",
    "InstrumentKey",
    "InstrumentKind",
    "InstrumentReading",
    "InvestigationState",
    "Notification",
    "OosInvestigation",
    "QcAlert",
    "QcSpecSet",
    "QcTest",
    "QcTestDefinition",
    "ResultType",
    "SignalAssessment",
    "SpecStatus",
    "TestState",
    "TrendAttribute",
    "TrendBaseline",
    "TrendPoint",
    "TrendScan",
    "TrendSignal",
    "TrendSource",
]
