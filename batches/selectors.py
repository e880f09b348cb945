"""Reads: querysets shaped for each page and endpoint, so views stay thin."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from batches.models import BatchState, CordBloodUnit, Recipient, WeightMeasurement
from carnk_mfg.audit import references_trail
from carnk_mfg.models import ElectronicSignature, SignatureMeaning
from carnk_mfg.people import printed_name
from carnk_mfg.signatures import signature_changes, signature_intact, signatures_for


def cord_blood_unit_list() -> QuerySet[CordBloodUnit]:
    return CordBloodUnit.objects.all()


def recipient_list() -> QuerySet[Recipient]:
    return Recipient.objects.prefetch_related(
        Prefetch(
            "weights", queryset=WeightMeasurement.objects.order_by("-measured_on", "-recorded_at")
        )
    )


def current_weight(recipient: Recipient) -> WeightMeasurement | None:
    weights = list(recipient.weights.all())  # prefetched newest first
    return weights[0] if weights else None


def batch_trail(batch) -> list:
    return list(references_trail(batch))


def unit_custody(unit_id) -> list:
    """Hand-offs of a cord blood unit, oldest first."""
    from batches.models import CustodyEvent

    return list(
        CustodyEvent.objects.filter(unit_id=unit_id).select_related(
            "released_by", "received_by", "recorded_by"
        )
    )


def batch_signatures(batch) -> tuple[list[dict], dict]:
    """Every signature of the batch record in one query: on the batch (lifecycle moves,
    formulation, review, release), its steps, its deviations and its QC reviews, each with
    whether what it attests still holds. Returns the rows, and per step the step's own rows."""
    from django.contrib.contenttypes.models import ContentType

    from batches.models import ExecutedStep

    signed = [batch, *batch.steps.all(), *batch.deviations.all(), *batch.qc_tests.all()]
    records = {
        (ContentType.objects.get_for_model(record).pk, str(record.pk)): record for record in signed
    }
    rows, by_step = [], {}
    step_type = ContentType.objects.get_for_model(ExecutedStep).pk
    for sig in signatures_for(*signed):
        record = records.get((sig.content_type_id, sig.object_id))
        row = {"signature": sig, "intact": record is not None and signature_intact(sig, record)}
        rows.append(row)
        if sig.content_type_id == step_type:
            by_step.setdefault(int(sig.object_id), []).append(row)
    return rows, by_step


# --- batches ---


def next_template_step(batch):
    """The first template step not yet recorded on the batch, or None when all are."""
    from batches.models import ExecutedStep, TemplateStep

    done = ExecutedStep.objects.filter(batch=batch).values("template_step_id")
    return (
        TemplateStep.objects.filter(template_id=batch.template_id)
        .exclude(pk__in=done)
        .order_by("order")
        .first()
    )


def batch_list():
    from django.db.models import Count, Q

    from batches.models import Batch

    return Batch.objects.select_related("source_unit", "template", "intended_recipient").annotate(
        steps_done=Count("steps", distinct=True),
        open_deviations=Count("deviations", filter=Q(deviations__state="open"), distinct=True),
    )


def batch_detail(lot_number: str):
    """One batch with everything its record page shows, in a fixed number of queries."""
    from django.db.models import Prefetch

    from batches.models import Batch, CellCount, ExecutedStep, MaterialUse, TemplateStep

    return (
        Batch.objects.select_related(
            "source_unit",
            "template",
            "intended_recipient",
            "created_by",
            "release_decision__decided_by",
            "recall__raised_by",
        )
        .prefetch_related(
            "release_decision__pending_tests__definition",
            "recall__lookback__recipient",
            "recall__lookback__dose_unit__batch",
            Prefetch(
                "template__steps",
                queryset=TemplateStep.objects.order_by("order").prefetch_related("parameters"),
            ),
            Prefetch(
                "steps",
                queryset=ExecutedStep.objects.select_related("template_step", "performed_by")
                .prefetch_related(
                    Prefetch(
                        "materials",
                        queryset=MaterialUse.objects.select_related(
                            "vector_lot", "feeder_lot", "reagent_lot"
                        ),
                    )
                )
                .order_by("template_step__order"),
            ),
            Prefetch("counts", queryset=CellCount.objects.order_by("measured_at", "id")),
            "deviations__opened_by",
            "custody__released_by",
            "custody__received_by",
        )
        .get(lot_number=lot_number)
    )


def growth_series(batch) -> list[dict]:
    """Counts with fold expansion from the first day-0 count and population doublings."""
    from batches.models.batch_record import fold_expansion, population_doublings

    counts = list(batch.counts.all())
    day0 = next((c.total_viable_cells for c in counts if c.day == 0 and c.total_viable_cells), None)
    series = []
    for c in counts:
        fold = fold_expansion(day0, c.total_viable_cells) if c.total_viable_cells else None
        series.append(
            {
                "count": c,
                "day": c.day,
                "total_viable_cells": c.total_viable_cells,
                "viability_pct": float(c.viability_pct),
                "fold_expansion": fold,
                "population_doublings": population_doublings(fold),
            }
        )
    return series


def expansion_flag(batch, series=None) -> str:
    """A warning when the expansion at or after the harvest day is outside the template's
    expected range (DESIGN section 2)."""
    series = series if series is not None else growth_series(batch)
    steps = list(batch.template.steps.all())
    harvest_day = next((s.planned_day for s in steps if s.is_harvest), None)
    if harvest_day is None:
        return ""
    late = [p for p in series if p["day"] >= harvest_day and p["fold_expansion"] is not None]
    if not late:
        return ""
    fold = late[-1]["fold_expansion"]
    low, high = batch.template.expected_fold_min, batch.template.expected_fold_max
    if fold < low or fold > high:
        day = late[-1]["day"]
        return f"Fold expansion {fold:.0f}x on day {day} is outside the expected {low:g}–{high:g}x."
    return ""


# --- documents (Certificate of Analysis, bag labels) ---


def coa_for(batch):
    """The Certificate of Analysis content of a batch, from its record."""
    from django.utils import timezone

    from batches import documents as d
    from qc.models import QcTest

    tests = newest_tests(
        QcTest.objects.filter(batch=batch)
        .select_related("definition", "reviewed_by")
        .order_by("definition_id", "triggered_at", "id")
    )
    shown = {IN_SPEC: d.QcStatus.IN_SPEC, OUT_OF_SPEC: d.QcStatus.OUT_OF_SPEC}
    lines = []
    for test in tests:
        definition = test.definition
        status = shown.get(release_test_status(test), d.QcStatus.PENDING)
        pending = status == d.QcStatus.PENDING
        result = test.result_text or (
            f"{test.result_numeric:g}" if test.result_numeric is not None else ""
        )
        reviewed = test.reviewed_by is not None and test.reviewed_at is not None
        lines.append(
            d.QcResultLine(
                test_name=definition.name,
                method=definition.method,
                specification=definition.spec_text,
                status=status,
                result="" if pending else result,
                unit="" if pending else test.result_unit,
                may_release_pending=definition.may_release_pending,
                reviewed_by=printed_name(test.reviewed_by) if reviewed else "",
                reviewed_at=timezone.localtime(test.reviewed_at) if reviewed else None,
            )
        )
    deviations = [
        d.DeviationLine(
            kind=dev.get_kind_display(),
            what=dev.what,
            opened_by=printed_name(dev.opened_by),
            opened_at=timezone.localtime(dev.opened_at),
            disposition=dev.get_disposition_display(),
            disposition_notes=dev.disposition_notes,
            dispositioned_by=printed_name(dev.dispositioned_by),
            dispositioned_at=timezone.localtime(dev.dispositioned_at)
            if dev.dispositioned_at
            else None,
        )
        for dev in batch.deviations.select_related("opened_by", "dispositioned_by")
    ]
    signatures = [
        d.SignatureLine(
            printed_name=s.printed_name,
            meaning=s.get_meaning_display(),
            signed_at=timezone.localtime(s.signed_at),
        )
        for s in signatures_for(batch)
    ]
    unit = batch.source_unit
    return d.CoaData(
        lot_number=batch.lot_number,
        coi_identifier=batch.coi_identifier,
        source_unit_din=unit.din,
        donor_eligibility=unit.eligibility,
        day0_at=timezone.localtime(batch.day0_at) if batch.day0_at else None,
        qc_results=lines,
        deviations=deviations,
        signatures=signatures,
        recipient_subject_id=batch.intended_recipient.subject_id
        if batch.intended_recipient
        else None,
        urgent_medical_need=unit.urgent_medical_need.justification
        if unit.urgent_medical_need
        else "",
        source_unit_product_code=unit.product_code,
        template=str(batch.template),
    )


def bag_label_for(dose_unit):
    """The ISBT 128 label content of one bag."""
    from django.utils import timezone

    from batches import documents as d

    batch, unit = dose_unit.batch, dose_unit.batch.source_unit
    level = dose_unit.dose_level
    return d.BagLabel(
        din=batch.coi_identifier,
        product_code_data=f"=<{unit.product_code[:5]}V{dose_unit.division}",
        lot_number=batch.lot_number,
        expires_at=timezone.localtime(dose_unit.expires_at),
        volume_ml=dose_unit.volume_ml,
        car_nk_cells=dose_unit.car_nk_cells,
        cells_per_ml=dose_unit.car_nk_cells_per_ml,
        donor_eligibility=unit.eligibility,
        recipient_subject_id=dose_unit.recipient.subject_id if dose_unit.recipient else None,
        dose_level=(
            f"{level.code}: {level.car_nk_cells_per_kg:.0e} CAR-NK cells/kg" if level else None
        ),
    )


# --- release readiness: the one answer to "may this batch be released?" ---

# Where a release test stands.
IN_SPEC = "in_spec"  # reviewed, in specification
PENDING = "pending"  # open, and the spec allows release pending it (conditional release)
OPEN = "open"  # not yet resulted and reviewed: blocks release
OUT_OF_SPEC = "out_of_spec"  # resulted out of specification: blocks release


def release_test_status(test) -> str:
    """Where one QC test stands for release. A resulted test awaiting review counts as still
    open (pending where the spec allows it); a result out of spec blocks at once."""
    from qc.models import OPEN_TEST_STATES, TestState

    if test.in_spec is False:
        return OUT_OF_SPEC
    if test.state == TestState.REVIEWED:
        return IN_SPEC
    if test.state in OPEN_TEST_STATES and test.definition.may_release_pending:
        return PENDING
    return OPEN


def newest_tests(tests) -> list:
    """The newest test of each definition (a retest replaces the test it repeats), from tests
    ordered by definition, trigger time and id."""
    newest = {}
    for test in tests:
        newest[test.definition_id] = test
    return list(newest.values())


def release_tests_query(batch=None):
    from qc.models import QcTest

    tests = QcTest.objects.filter(definition__required_for_release=True)
    if batch is not None:
        tests = tests.filter(batch=batch)
    return tests.select_related("definition").order_by("definition_id", "triggered_at", "id")


def record_reviews(batch) -> QuerySet[ElectronicSignature]:
    """QA's signed reviews of the whole batch record, newest last."""
    return signatures_for(batch).filter(meaning=SignatureMeaning.REVIEWED, attests="batch_record")


@dataclass
class ReleaseReadiness:
    batch: object
    tests: list = field(default_factory=list)  # [(test, status)]
    pending: list = field(default_factory=list)  # tests a conditional release would wait for
    problems: list[str] = field(default_factory=list)
    record_review: ElectronicSignature | None = None
    record_changed: list[str] = field(default_factory=list)
    bags: int = 0
    open_deviations: list = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def conditional(self) -> bool:
        return bool(self.pending)


def release_readiness(batch, *, tests=None, bags=None, deviations=None, reviews=None):
    """Everything release waits for, as QA reads it: the newest release test of each kind
    reviewed in spec (or pending where allowed), no open deviation, bags formulated, and QA's
    review of the batch record as it stands now. Pass prefetched rows to avoid queries."""
    from batches.models import DeviationState

    tests = newest_tests(tests if tests is not None else release_tests_query(batch))
    bags = bags if bags is not None else list(batch.dose_units.all())
    deviations = deviations if deviations is not None else list(batch.deviations.all())
    reviews = reviews if reviews is not None else list(record_reviews(batch))
    found = ReleaseReadiness(batch=batch, bags=len(bags))
    if batch.state != BatchState.IN_QC:
        found.problems.append(f"The batch is {batch.get_state_display().lower()}, not in QC.")
    if not tests:
        found.problems.append("The batch has no release QC tests yet.")
    for test in tests:
        status = release_test_status(test)
        found.tests.append((test, status))
        name = test.definition.name
        if status == PENDING:
            found.pending.append(test)
        elif status == OUT_OF_SPEC:
            found.problems.append(f"{name} is out of specification.")
        elif status == OPEN:
            found.problems.append(f"{name} is {test.get_state_display().lower()}.")
    found.open_deviations = [d for d in deviations if d.state == DeviationState.OPEN]
    if found.open_deviations:
        found.problems.append("The batch has an open deviation awaiting QA.")
    if not bags:
        found.problems.append("The batch has not been formulated into bags.")
    found.record_review = reviews[-1] if reviews else None
    if found.record_review is None:
        found.problems.append("The batch record has not been reviewed by QA.")
    else:
        found.record_changed = signature_changes(found.record_review, batch)
        if found.record_changed:
            found.problems.append(
                "The batch record changed after QA's review ("
                + ", ".join(found.record_changed)
                + "): review it again."
            )
    return found


def performed_steps_of(batch, actor) -> bool:
    """Four eyes: whoever performed a step of a batch may neither review its record nor
    release it, whatever their roles."""
    return batch.steps.filter(performed_by=actor).exists()


def release_queue():
    """Batches in QC with what the release queue shows, in a fixed number of queries; and the
    open conditional releases and recalls QA follows up."""
    from batches.models import Batch

    return (
        Batch.objects.filter(state=BatchState.IN_QC)
        .select_related("intended_recipient", "source_unit")
        .prefetch_related(
            Prefetch("qc_tests", queryset=release_tests_query(), to_attr="release_tests"),
            "dose_units",
            "deviations",
        )
        .order_by("created_at", "id")
    )


def open_conditional_releases():
    from batches.models import ReleaseDecision

    return (
        ReleaseDecision.objects.filter(conditional=True, closed_at__isnull=True)
        .select_related("batch", "decided_by")
        .prefetch_related("pending_tests__definition")
    )


def recalls():
    from batches.models import Recall

    return Recall.objects.select_related(
        "batch", "qc_test__definition", "raised_by"
    ).prefetch_related("lookback__recipient", "lookback__dose_unit")


def bag_not_usable(unit, wanted: str) -> str:
    """Why a bag cannot be used for what needs it `wanted` (released, assigned, issued); a
    recalled bag says so loudly, with the recall's reason."""
    from batches.models import DoseUnitStatus

    if unit.status == DoseUnitStatus.RECALLED:
        recall = getattr(unit.batch, "recall", None)
        why = f": {recall.reason}" if recall is not None else ""
        return f"RECALLED: batch {unit.batch.lot_number} was recalled{why}. Do not use this bag."
    return f"The bag is {unit.get_status_display().lower()}, not {wanted}."


# --- follow-up visits ---


def visit_overdue_q(*, now):
    """A follow-up visit is overdue when it is not done and was due before `now`, whether or
    not the scan has flagged it yet (the worklist, the API filter and the scan ask this)."""
    from django.db.models import Q

    return Q(done_at__isnull=True, due_at__lt=now)
