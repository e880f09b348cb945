"""Reads of release: the one answer to "may this batch be released?", the release queue,
recalls, whether a bag may be used, and the content of the Certificate of Analysis and of a
bag's label."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from batches import documents, ports
from batches.models import (
    Batch,
    BatchState,
    ChainOfIdentity,
    Deviation,
    DeviationState,
    DoseUnit,
    DoseUnitStatus,
    Eligibility,
    ProductDefinition,
    Recall,
    ReleaseDecision,
)
from batches.selectors.donor import reactive_markers
from carnk_mfg.errors import Conflict
from carnk_mfg.isbt128 import DIN
from carnk_mfg.models import ElectronicSignature, SignatureMeaning
from carnk_mfg.people import printed_name
from carnk_mfg.signatures import signature_changes, signatures_for

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A QC test is QC's model, which batches does not import (see batches/ports.py); here it is
# read through the attributes release needs.
QcTest = Any

# Where a release test stands.
IN_SPEC = "in_spec"  # reviewed, in specification
PENDING = "pending"  # open, and the spec allows release pending it (conditional release)
OPEN = "open"  # not yet resulted and reviewed: blocks release
OUT_OF_SPEC = "out_of_spec"  # resulted out of specification: blocks release


def release_test_status(test: QcTest) -> str:
    """Where one QC test stands for release. A resulted test awaiting review counts as still
    open (pending where the spec allows it); a result out of spec blocks at once."""
    if test.in_spec is False:
        return OUT_OF_SPEC
    if test.is_reviewed:
        return IN_SPEC
    if test.is_open and test.definition.may_release_pending:
        return PENDING
    return OPEN


def newest_tests(tests: Iterable[QcTest]) -> list[QcTest]:
    """The newest test of each definition (a retest replaces the test it repeats), from tests
    ordered by definition, trigger time and id."""
    newest: dict[int, QcTest] = {}
    for test in tests:
        newest[test.definition_id] = test
    return list(newest.values())


def release_tests_query(batch: Batch | None = None) -> QuerySet[QcTest]:
    """The tests release waits for, of `batch` or of every batch (QC answers which)."""
    return ports.release_tests(batch=batch)


# What QA's signed review of a whole batch record is, among a record's signatures.
RECORD_REVIEW = Q(meaning=SignatureMeaning.REVIEWED, attests="batch_record")


def record_reviews(*batches: Batch) -> QuerySet[ElectronicSignature]:
    """QA's signed reviews of the whole batch record (of each of `batches`), newest last."""
    return signatures_for(*batches).filter(RECORD_REVIEW)


@dataclass
class ReleaseReadiness:
    batch: Batch
    tests: list[tuple[QcTest, str]] = field(default_factory=list)  # [(test, status)]
    pending: list[QcTest] = field(
        default_factory=list
    )  # tests a conditional release would wait for
    problems: list[str] = field(default_factory=list)
    record_review: ElectronicSignature | None = None
    record_changed: list[str] = field(default_factory=list)
    bags: int = 0
    open_deviations: list[Deviation] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def conditional(self) -> bool:
        return bool(self.pending)


def release_readiness(
    batch: Batch,
    *,
    tests: Iterable[QcTest] | None = None,
    bags: list[DoseUnit] | None = None,
    deviations: list[Deviation] | None = None,
    reviews: list[ElectronicSignature] | None = None,
) -> ReleaseReadiness:
    """Everything release waits for, as QA reads it: the newest release test of each kind
    reviewed in spec (or pending where allowed), no open deviation, bags formulated, and QA's
    review of the batch record as it stands now. Pass prefetched rows to avoid queries."""
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


def performed_steps_of(batch: Batch, actor: User) -> bool:
    """Four eyes: whoever performed a step of a batch may neither review its record nor
    release it, whatever their roles."""
    return batch.steps.filter(performed_by=actor).exists()


def release_queue() -> QuerySet[Batch]:
    """Batches in QC with what the release queue shows, in a fixed number of queries; and the
    open conditional releases and recalls QA follows up."""
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


def open_conditional_releases() -> QuerySet[ReleaseDecision]:
    return (
        ReleaseDecision.objects.filter(conditional=True, closed_at__isnull=True)
        .select_related("batch", "decided_by")
        .prefetch_related("pending_tests__definition")
    )


def recalls() -> QuerySet[Recall]:
    return Recall.objects.select_related(
        "batch", "qc_test__definition", "raised_by"
    ).prefetch_related("lookback__recipient", "lookback__dose_unit")


def bag_not_usable(unit: DoseUnit, wanted: str) -> str:
    """Why a bag cannot be used for what needs it `wanted` (released, assigned, issued); a
    recalled bag says so loudly, with the recall's reason."""
    if unit.status == DoseUnitStatus.RECALLED:
        recall = getattr(unit.batch, "recall", None)
        why = f": {recall.reason}" if recall is not None else ""
        return f"RECALLED: batch {unit.batch.lot_number} was recalled{why}. Do not use this bag."
    return f"The bag is {unit.get_status_display().lower()}, not {wanted}."


# --- documents (Certificate of Analysis, bag labels) ---


def chain_of_identity(batch: Batch, recipient_id: int | None) -> str | None:
    """The Chain of Identity identifier of a batch and a recipient, None when they have none
    (stock not assigned to anyone)."""
    if recipient_id is None:
        return None
    return (
        ChainOfIdentity.objects.filter(batch=batch, recipient_id=recipient_id)
        .values_list("identifier", flat=True)
        .first()
    )


def coa_for(batch: Batch) -> documents.CoaData:
    """The Certificate of Analysis content of a batch, from its record; Conflict before the
    batch has started, since the certificate dates the culture from its day 0."""
    if batch.day0_at is None:
        raise Conflict("No Certificate of Analysis before the batch has started (day 0).")
    lines = _coa_qc_results(batch)
    deviations = _coa_deviations(batch)
    signatures = _coa_signatures(batch)
    unit = batch.source_unit
    return documents.CoaData(
        lot_number=batch.lot_number,
        din=DIN.from_text(batch.din),
        source_unit_din=DIN.from_text(unit.din),
        donor_eligibility=documents.DonorEligibility(unit.eligibility),
        day0_at=timezone.localtime(batch.day0_at),
        qc_results=lines,
        deviations=deviations,
        signatures=signatures,
        recipient_subject_id=batch.intended_recipient.subject_id
        if batch.intended_recipient
        else None,
        coi_identifier=chain_of_identity(batch, batch.intended_recipient_id),
        urgent_medical_need=unit.urgent_medical_need.justification
        if unit.urgent_medical_need
        else "",
        source_unit_product_code=unit.product_code,
        template=str(batch.template),
    )


def _coa_qc_results(batch: Batch) -> list[documents.QcResultLine]:
    """The newest test of each kind as the CoA shows it: no result until it is reviewed."""
    tests = newest_tests(
        batch.qc_tests.select_related("definition", "reviewed_by").order_by(
            "definition_id", "triggered_at", "id"
        )
    )
    shown = {IN_SPEC: documents.QcStatus.IN_SPEC, OUT_OF_SPEC: documents.QcStatus.OUT_OF_SPEC}
    lines = []
    for test in tests:
        definition = test.definition
        status = shown.get(release_test_status(test), documents.QcStatus.PENDING)
        pending = status == documents.QcStatus.PENDING
        result = test.result_text or (
            f"{test.result_numeric:g}" if test.result_numeric is not None else ""
        )
        reviewed = test.reviewed_by is not None and test.reviewed_at is not None
        lines.append(
            documents.QcResultLine(
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
    return lines


def _coa_deviations(batch: Batch) -> list[documents.DeviationLine]:
    return [
        documents.DeviationLine(
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


def _coa_signatures(batch: Batch) -> list[documents.SignatureLine]:
    return [
        documents.SignatureLine(
            printed_name=s.printed_name,
            meaning=s.get_meaning_display(),
            signed_at=timezone.localtime(s.signed_at),
        )
        for s in signatures_for(batch)
    ]


INELIGIBLE = Eligibility.INELIGIBLE


def bag_label_for(dose_unit: DoseUnit) -> documents.BagLabel:
    """The ISBT 128 label content of one bag."""
    batch, unit = dose_unit.batch, dose_unit.batch.source_unit
    level = dose_unit.dose_level
    product = batch.template.product
    return documents.BagLabel(
        din=DIN.from_text(batch.din),
        product_code_data=documents.product_code_data_structure(dose_unit.product_code),
        lot_number=batch.lot_number,
        expires_at=timezone.localtime(dose_unit.expires_at),
        volume_ml=dose_unit.volume_ml,
        car_nk_cells=dose_unit.car_nk_cells,
        cells_per_ml=dose_unit.car_nk_cells_per_ml,
        donor_eligibility=documents.DonorEligibility(unit.eligibility),
        # Listed for an ineligible donor only (21 CFR 1271.65(b)(2)); an eligible donor's
        # reactive result under the site's procedure (CMV) is not a label statement.
        reactive_markers=reactive_markers(unit) if unit.eligibility == INELIGIBLE else (),
        recipient_subject_id=dose_unit.recipient.subject_id if dose_unit.recipient else None,
        coi_identifier=chain_of_identity(batch, dose_unit.recipient_id),
        dose_level=(
            f"{level.code}: {level.car_nk_cells_per_kg:.0e} CAR-NK cells/kg" if level else None
        ),
        **_product_statements(product, dose_unit.presentation),
    )


def _product_statements(product: ProductDefinition | None, presentation: str) -> dict[str, Any]:
    """What the product definition puts on a bag's label: its name, the caution statement,
    the storage range of the bag's presentation and the handling statements."""
    if product is None:  # a template from before product definitions: the label's defaults
        return {}
    return {
        "description": product.name,
        "caution": product.caution_statement,
        "storage_range_c": product.storage_range_c(presentation),
        "handling": product.handling,
    }
