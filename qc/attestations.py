"""What signatures on QC records attest (carnk_mfg.signatures.attestation)."""

from __future__ import annotations

from batches.attestations import QC_RESULT_FIELDS, all_fields_but
from carnk_mfg.signatures import attestation, fields_of
from qc.models import QcSpecSet, QcTestDefinition


@attestation("qc_result")
def qc_result(test) -> dict:
    """A QC result and its review (not the overdue flags the scan sets on it)."""
    return {"batch": test.batch_id, **fields_of(test, QC_RESULT_FIELDS)}


@attestation("spec_set")
def spec_set(record) -> dict:
    """A QC specification set version with its test definitions (not its status)."""
    definition_fields = all_fields_but(QcTestDefinition, "spec_set")
    return {
        "spec_set": fields_of(record, all_fields_but(QcSpecSet, "status")),
        "definitions": [fields_of(d, definition_fields) for d in record.definitions.order_by("id")],
    }


@attestation("trend_baseline")
def trend_baseline(record) -> dict:
    """A control-limit baseline: its limits as computed and the points they rest on."""
    return {
        **fields_of(record, all_fields_but(type(record))),
        "points": sorted(record.points.values_list("id", flat=True)),
    }
