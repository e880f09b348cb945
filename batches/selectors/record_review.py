"""QA's review of a batch record by exception: what needs judgement first (deviations, values
out of range, late steps, QC retests and out-of-specification results, material, training and
equipment exceptions, corrected counts), and a count of the checks that passed.

Each check asks the rule's own home (the step checks of recording, `lot_usability`,
`training_gaps`, `expansion_flag`), so the review can never judge a record differently from
the way it was judged when written. A rule that held when the step was recorded and no longer
does (a lot rejected after use) shows here as an exception."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from batches.models import (
    Batch,
    CellCount,
    DeviationKind,
    ExecutedStep,
    MaterialUse,
    QualificationPurpose,
    StepParameter,
)
from batches.selectors.batch_record import expansion_flag
from batches.selectors.equipment import batch_equipment_failures
from batches.selectors.training import step_procedures, training_gaps
from batches.services.batch_record.steps import recorded_step_departures
from batches.services.equipment import equipment_serviced
from batches.services.materials import lot_usability
from carnk_mfg.notation import lab_number_text

# The areas of the review, in the order the page shows them.
DEVIATIONS = "Deviations"
EM_EXCURSIONS = "Environmental monitoring excursions"
OUT_OF_RANGE = "Values out of range"
LATE = "Late steps"
OUT_OF_SPEC = "Out-of-specification QC results"
RETESTS = "QC retests"
CANCELLED = "Cancelled QC tests"
MATERIALS = "Materials"
TRAINING = "Training"
EQUIPMENT = "Equipment"
COUNTS = "Cell counts"
AREAS = (
    DEVIATIONS,
    EM_EXCURSIONS,
    OUT_OF_RANGE,
    LATE,
    OUT_OF_SPEC,
    RETESTS,
    CANCELLED,
    MATERIALS,
    TRAINING,
    EQUIPMENT,
    COUNTS,
)
# Deviations opened by environmental monitoring are shown as excursions, not with the rest.
EM_DEVIATION_KINDS = frozenset({DeviationKind.ENVIRONMENTAL})


@dataclass(frozen=True)
class Finding:
    """One check of the record: what it is about, in words, and where to look."""

    area: str
    text: str
    url: str = ""


@dataclass
class RecordReview:
    batch: Batch
    exceptions: list[Finding] = field(default_factory=list)
    passed: list[Finding] = field(default_factory=list)

    def add(self, area: str, text: str, *, ok: bool, url: str = "") -> None:
        (self.passed if ok else self.exceptions).append(Finding(area, text, url))

    @property
    def exceptions_by_area(self) -> list[tuple[str, list[Finding]]]:
        return _by_area(self.exceptions)

    @property
    def passed_by_area(self) -> list[tuple[str, list[Finding]]]:
        return _by_area(self.passed)


def _by_area(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    grouped: dict[str, list[Finding]] = {area: [] for area in AREAS}
    for finding in findings:
        grouped[finding.area].append(finding)
    return [(area, found) for area, found in grouped.items() if found]


def batch_record_review(batch: Batch) -> RecordReview:
    """Every check of `batch`'s record, exceptions apart from what passed. Its queries grow
    with the template's steps, never with other batches."""
    review = RecordReview(batch=batch)
    steps = list(
        ExecutedStep.objects.filter(batch=batch)
        .select_related("template_step", "performed_by", "batch")
        .prefetch_related(
            Prefetch(
                "template_step__parameters",
                queryset=StepParameter.objects.order_by("id"),
            ),
            Prefetch(
                "materials",
                queryset=MaterialUse.objects.select_related(
                    "vector_lot", "feeder_lot", "reagent_lot"
                ),
            ),
            "equipment_uses__equipment",
        )
        .order_by("template_step__order")
    )
    for step in steps:
        _check_step(review, step)
    _check_deviations(review, batch)
    _check_qc(review, batch)
    _check_counts(review, batch)
    _check_equipment(review, batch)
    return review


def _step_name(step: ExecutedStep) -> str:
    return f"Step {step.template_step.order} ({step.template_step.name})"


def _check_step(review: RecordReview, step: ExecutedStep) -> None:
    name = _step_name(step)
    url = reverse("batch-detail", args=[step.batch.lot_number])
    departures = recorded_step_departures(step)
    out_of_range = [text for kind, text in departures if kind == DeviationKind.OUT_OF_RANGE]
    late = [text for kind, text in departures if kind == DeviationKind.LATE]
    for text in out_of_range:
        review.add(OUT_OF_RANGE, f"{name}: {text}", ok=False, url=url)
    if not out_of_range:
        review.add(OUT_OF_RANGE, f"{name}: every value within its range", ok=True, url=url)
    review.add(LATE, f"{name}: " + (late[0] if late else "on time"), ok=not late, url=url)
    day = timezone.localdate(step.performed_at)
    for use in step.materials.all():
        usable = lot_usability(use.lot, on=day)
        text = usable.reason if not usable else f"{use.lot} usable on {day:%Y-%m-%d}"
        review.add(MATERIALS, f"{name}: {text}", ok=bool(usable), url=url)
    for equipment_use in step.equipment_uses.all():
        piece = equipment_use.equipment
        usable = equipment_serviced(piece, on=day)
        text = usable.reason if not usable else f"{piece} in calibration on {day:%Y-%m-%d}"
        review.add(EQUIPMENT, f"{name}: {text}", ok=bool(usable), url=url)
    gaps = training_gaps(
        step.performed_by,
        step_procedures(step.template_step, QualificationPurpose.PERFORM),
        on=day,
    )
    who = step.performed_by.get_username()
    if gaps:
        for gap in gaps:
            review.add(TRAINING, f"{name}: {who} was not current on {gap}", ok=False, url=url)
    else:
        review.add(TRAINING, f"{name}: {who} current on the step's procedures", ok=True, url=url)


def _check_equipment(review: RecordReview, batch: Batch) -> None:
    """Equipment found failed after this batch used it (since its last good check); its use
    on each step's day is checked with the step."""
    for failure in batch_equipment_failures(batch):
        review.add(
            EQUIPMENT,
            f"{failure.equipment} failed (found {failure.found_on:%Y-%m-%d}, last good "
            f"{failure.last_good_check_on:%Y-%m-%d}) after this batch used it: "
            f"{failure.description}",
            ok=False,
            url=reverse("equipment-failure", args=[failure.pk]),
        )


def _check_deviations(review: RecordReview, batch: Batch) -> None:
    deviations = list(
        batch.deviations.select_related("step__template_step")
        .prefetch_related("capas")
        .order_by("opened_at")
    )
    url = reverse("batch-detail", args=[batch.lot_number])
    for deviation in deviations:
        area = EM_EXCURSIONS if deviation.kind in EM_DEVIATION_KINDS else DEVIATIONS
        where = f" at {_step_name(deviation.step)}" if deviation.step else ""
        standing = deviation.get_state_display()
        if deviation.disposition:
            standing += f": {deviation.get_disposition_display()}"
        if deviation.classification:
            standing += f"; {deviation.get_classification_display().lower()}"
            standing += f", root cause: {deviation.root_cause}" if deviation.root_cause else ""
        capas = [
            f"CAPA {capa.pk} ({capa.get_state_display().lower()})" for capa in deviation.capas.all()
        ]
        if capas:
            standing += "; " + ", ".join(capas)
        review.add(
            area,
            f"Deviation {deviation.pk}{where} ({deviation.get_kind_display()}, {standing}): "
            f"{deviation.what}",
            ok=False,
            url=url,
        )
    if not deviations:
        review.add(DEVIATIONS, "No deviation recorded", ok=True, url=url)


def _check_qc(review: RecordReview, batch: Batch) -> None:
    """QC's results as the record shows them, read through the reverse relation."""
    tests: list[Any] = list(
        batch.qc_tests.select_related("definition", "retest_of", "oos_investigation").order_by(
            "triggered_at", "id"
        )
    )
    for test in tests:
        url = reverse("qc-test", args=[test.pk])
        name = f"{test.definition.name} (test {test.pk})"
        if test.state == "cancelled":
            review.add(CANCELLED, f"{name} was cancelled", ok=False, url=url)
            continue
        if test.retest_of_id is not None:
            original = test.retest_of
            review.add(
                RETESTS,
                f"{name} retests test {original.pk}, which read {_result(original)}",
                ok=False,
                url=url,
            )
        if test.in_spec is False:
            review.add(
                OUT_OF_SPEC,
                f"{name}: {_result(test)} out of specification{_investigation(test)}",
                ok=False,
                url=url,
            )
        elif test.in_spec and test.retest_of_id is None:
            review.add(OUT_OF_SPEC, f"{name}: {_result(test)} in specification", ok=True, url=url)


def _investigation(test: Any) -> str:
    """The standing of an out-of-specification result's phase I investigation, read through
    the reverse relation (", phase I investigation 4 approved by QA")."""
    investigation = getattr(test, "oos_investigation", None)
    if investigation is None:
        return ", no phase I investigation on record"
    return f", phase I investigation {investigation.pk} {investigation.get_state_display().lower()}"


def _result(test: Any) -> str:
    if test.result_numeric is not None:
        return f"{lab_number_text(test.result_numeric)} {test.result_unit}".strip()
    return test.result_text or "no result"


def _check_counts(review: RecordReview, batch: Batch) -> None:
    counts = list(CellCount.objects.filter(batch=batch).order_by("day", "measured_at", "id"))
    url = reverse("batch-detail", args=[batch.lot_number])
    corrected = [c for c in counts if c.corrects_id is not None]
    for count in corrected:
        review.add(
            COUNTS,
            f"Day {count.day} count corrected: {count.correction_reason}",
            ok=False,
            url=url,
        )
    current = len(counts) - len(corrected)
    if current and not corrected:
        review.add(COUNTS, f"{current} count(s) recorded, none corrected", ok=True, url=url)
    flag = expansion_flag(batch)
    if flag:
        review.add(COUNTS, flag, ok=False, url=url)
    elif counts:
        review.add(COUNTS, "Fold expansion within the template's expected range", ok=True, url=url)
