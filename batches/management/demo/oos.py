"""The demo's out-of-specification result and its phase I laboratory investigation: a batch's
first endotoxin read high because its sample went into a tube that was not endotoxin-free.
The analyst finds that laboratory error, QA approves the investigation (signed), the retained
sample is retested in specification, and QA closes the deviation the result opened, so the
batch goes back to QC (a result out of specification is retested only after that approval)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from batches.management.demo import DEMO_PASSWORD, at
from batches.models import Batch, DeviationKind, DeviationState
from batches.services import batch_record

# QC's model and services: the demo's batches pass QC on their way to release.
from qc.models import OosInvestigation, QcTest
from qc.services import investigations, results

if TYPE_CHECKING:
    from batches.management.demo.lifecycle import Lab

HOUR, MINUTE = timedelta(hours=1), timedelta(minutes=1)
# EU/mL against a limit below 5.0: the first reading, and the retest of the retained sample.
FIRST_READING, RETEST_READING = "7.8", "0.5"
TUBE_FAULT = (
    "The sample was aliquoted into a polypropylene tube from lot PP-2291, which is not "
    "certified endotoxin-free (the depyrogenated tubes had run out on the bench); a tube "
    "blank from that lot read 6.9 EU/mL"
)


def endotoxin_retested(lab: Lab, batch: Batch, resulted: datetime) -> None:
    """The first endotoxin result, entered at `resulted` out of specification (which opens
    the investigation and a deviation, holding the batch), then the investigation, its
    approval, the retest and QA's disposition of the deviation, all within twelve hours."""
    qc, qc2, qa = lab.people.qc, lab.people.qc2, lab.people.qa
    lab.result(batch, ("endotoxin",), resulted, qc2, qc, value=FIRST_READING)
    original = QcTest.objects.get(batch=batch, definition__code="endotoxin")
    investigation = OosInvestigation.objects.get(test=original)
    with at(resulted + 3 * HOUR):
        investigations.oos_investigation_complete(
            actor=qc2,
            investigation=investigation,
            checks_done=(
                "Calculation and transcription checked against the reader's printout; "
                "standard curve r = 0.999, negative control below 0.005 EU/mL and spike "
                "recovery 94 %; LAL reagent and water in date; the sample tube's lot checked "
                "and a blank of it tested"
            ),
            assignable_cause_found=True,
            assignable_cause=TUBE_FAULT,
            conclusion=(
                "Laboratory error: the result reflects the tube, not the product, and is "
                "invalidated. Retest the retained sample in a certified endotoxin-free tube."
            ),
        )
    with at(resulted + 5 * HOUR):
        investigations.oos_investigation_approve(
            actor=qa,
            password=DEMO_PASSWORD,
            investigation=investigation,
            comment="Assignable cause confirmed by the tube blank; retest approved",
        )
    with at(resulted + 5 * HOUR + 30 * MINUTE):
        retest = results.qc_retest(
            actor=qc2,
            test=original,
            reason="Retained sample, after the approved phase I investigation",
        )
    with at(resulted + 8 * HOUR):
        results.qc_result_enter(
            actor=qc2, test=retest, value=RETEST_READING, unit=retest.definition.unit
        )
    with at(resulted + 10 * HOUR):
        results.qc_result_review(actor=qc, password=DEMO_PASSWORD, test=retest)
    deviation = batch.deviations.get(kind=DeviationKind.OUT_OF_SPEC, state=DeviationState.OPEN)
    with at(resulted + 12 * HOUR):
        batch_record.deviation_disposition(
            actor=qa,
            password=DEMO_PASSWORD,
            deviation=deviation,
            disposition="accept",
            classification="minor",
            root_cause=TUBE_FAULT,
            notes=(
                f"Phase I investigation {investigation.pk} approved: laboratory error. "
                f"Retest {RETEST_READING} EU/mL in specification; the product is unaffected"
            ),
        )
