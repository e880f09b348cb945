"""What each signature on the pipeline's records attests (carnk_mfg.signatures.attestation).

Each function returns the content a signature vouches for, built from the database as it
stands; applied again later it shows whether that content has changed. Status fields that
later steps move on (a unit allocated, a bag released) are left out of what was not about
them, so they raise no false alarm.
"""

from __future__ import annotations

from typing import Any

from batches.models import ProcessTemplate, StepParameter, TemplateStep, TrainingRecord
from carnk_mfg.signatures import attestation, fields_of

UNIT_REGISTRATION_FIELDS = [
    "din",
    "product_code",
    "source_bank",
    "collected_at",
    "cryopreserved_at",
    "volume_ml",
    "tnc_count",
    "cd34_count",
    "nrbc_count",
    "viability_pct",
    "hla_a",
    "hla_b",
    "hla_c",
    "hla_drb1",
    "kir_ligand_group",
    "registered_by",
    "registered_at",
]
ELIGIBILITY_FIELDS = [
    "din",
    "eligibility",
    "eligibility_notes",
    "eligibility_determined_by",
    "eligibility_determined_at",
]
DONOR_TEST_FIELDS = [
    "marker",
    "sample_date",
    "result",
    "test_kit",
    "kit_lot",
    "laboratory",
    "from_marker_list",
]
# What a bag was filled with; its status, recipient and dose move on after formulation.
BAG_FIELDS = [
    "division",
    "presentation",
    "volume_ml",
    "total_cells_per_ml",
    "car_positive_pct",
    "cd3_positive_pct",
    "expires_at",
    "created_by",
    "created_at",
]
STEP_FIELDS = ["template_step", "performed_by", "performed_at", "values", "notes"]
COUNT_FIELDS = [
    "day",
    "measured_at",
    "total_cells_per_ml",
    "viable_cells_per_ml",
    "viability_pct",
    "volume_ml",
    "total_viable_cells",
    "source",
    "recorded_by",
    "notes",
]
QC_RESULT_FIELDS = [
    "definition",
    "retest_of",
    "state",
    "sampled_at",
    "sampled_by",
    "result_numeric",
    "result_text",
    "result_unit",
    "in_spec",
    "evaluation",
    "resulted_at",
    "resulted_by",
    "reviewed_at",
    "reviewed_by",
]
DEVIATION_FIELDS = [
    "step",
    "kind",
    "what",
    "why",
    "impact",
    "state",
    "opened_by",
    "opened_at",
    "disposition",
    "disposition_notes",
    "dispositioned_by",
    "dispositioned_at",
]
BATCH_FIELDS = [
    "lot_number",
    "source_unit",
    "template",
    "din",
    "intended_recipient",
    "unit_fraction_used_pct",
    "day0_at",
]


@attestation("unit_registration")
def unit_registration(unit) -> dict:
    """The received unit as registered (not where it is stored or what became of it)."""
    return fields_of(unit, UNIT_REGISTRATION_FIELDS)


@attestation("eligibility")
def eligibility(unit) -> dict:
    """QA's donor eligibility determination and the donor test panel it rests on (a test
    recorded after it shows as a change)."""
    tests = unit.donor_tests.order_by("marker", "from_marker_list", "id")
    return {
        **fields_of(unit, ELIGIBILITY_FIELDS),
        "donor_tests": [fields_of(t, DONOR_TEST_FIELDS) for t in tests],
    }


def _steps(batch) -> list[dict]:
    steps = batch.steps.select_related("template_step").prefetch_related("materials")
    return [
        {
            "step": step.template_step.code,
            **fields_of(step, STEP_FIELDS),
            "materials": sorted(
                (use.lot.kind, use.lot.lot_number, use.quantity)
                for use in step.materials.select_related("vector_lot", "feeder_lot", "reagent_lot")
            ),
        }
        for step in steps.order_by("template_step__order")
    ]


@attestation("manufacturing_steps")
def manufacturing_steps(batch) -> dict:
    """The executed steps with their values and materials (what the harvest signature
    vouches was done)."""
    return {"batch": fields_of(batch, BATCH_FIELDS), "steps": _steps(batch)}


@attestation("bags")
def bags(batch) -> dict:
    """The bags the harvest was filled into."""
    return {
        "batch": batch.lot_number,
        "bags": [fields_of(b, BAG_FIELDS) for b in batch.dose_units.order_by("division")],
    }


@attestation("batch_record")
def batch_record(batch) -> dict:
    """The whole batch record as QA reviews and releases it: steps with values and materials,
    counts, QC results and their reviews, deviations and their dispositions, and the bags."""
    tests = batch.qc_tests.select_related("definition").order_by("id")
    return {
        "batch": fields_of(batch, BATCH_FIELDS),
        "steps": _steps(batch),
        "counts": [fields_of(c, COUNT_FIELDS) for c in batch.counts.order_by("measured_at", "id")],
        "qc_tests": [
            {"id": t.pk, "code": t.definition.code, **fields_of(t, QC_RESULT_FIELDS)} for t in tests
        ],
        "deviations": [
            {"id": d.pk, **fields_of(d, DEVIATION_FIELDS)} for d in batch.deviations.order_by("id")
        ],
        "bags": bags(batch)["bags"],
    }


def all_fields_but(model, *excluded) -> list[str]:
    """Every concrete field of `model` except its id and those named."""
    return [f.name for f in model._meta.concrete_fields if f.name not in ("id", *excluded)]


@attestation("template")
def template(record) -> dict:
    """A process template version with its steps and parameters (not its status, which moves
    from approved to retired when a newer version is approved)."""
    step_fields = all_fields_but(TemplateStep, "template")
    parameter_fields = all_fields_but(StepParameter, "step")
    return {
        "template": fields_of(record, all_fields_but(ProcessTemplate, "status")),
        "steps": [
            {
                **fields_of(step, step_fields),
                "parameters": [
                    fields_of(p, parameter_fields) for p in step.parameters.order_by("id")
                ],
            }
            for step in record.steps.prefetch_related("parameters").order_by("order")
        ],
    }


INFUSION_START_FIELDS = [
    "dose_unit",
    "recipient",
    "bedside_check",
    "started_at",
    "administered_by",
    "recorded_at",
]


@attestation("infusion_start")
def infusion_start(infusion) -> dict:
    """The start of an infusion and the vitals before it (not its completion, which is
    signed apart, later)."""
    return {
        **fields_of(infusion, INFUSION_START_FIELDS),
        "vitals_before": infusion.vitals.get("pre"),
    }


@attestation("training_record")
def training_record_content(record: TrainingRecord) -> dict[str, Any]:
    """Who was trained on which version, by whom, when, the assessment and the expiry; not
    the expiry scan's flag, which is set later without changing what was signed."""
    return fields_of(
        record,
        [
            "procedure_version",
            "trainee",
            "trained_by",
            "trained_on",
            "assessment",
            "expires_on",
            "notes",
            "recorded_by",
            "recorded_at",
        ],
    )
