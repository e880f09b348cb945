"""Reads: querysets shaped for each page and endpoint, so views stay thin."""

from __future__ import annotations

import pghistory.models
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, QuerySet

from batches.models import CordBloodUnit, Recipient, WeightMeasurement
from carnk_mfg.models import ElectronicSignature


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


def audit_history(record) -> QuerySet:
    """Every trail event of one record, oldest first, with who, why and the changed values."""
    return pghistory.models.Events.objects.tracks(record).order_by("pgh_created_at")


def signatures_of(record) -> QuerySet[ElectronicSignature]:
    return ElectronicSignature.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=str(record.pk)
    ).select_related("signer")


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
        Batch.objects.select_related("source_unit", "template", "intended_recipient", "created_by")
        .prefetch_related(
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
    from batches.models.batch import fold_expansion, population_doublings

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

    newest = {}
    for test in (
        QcTest.objects.filter(batch=batch)
        .select_related("definition", "reviewed_by")
        .order_by("definition_id", "triggered_at", "id")
    ):
        newest[test.definition_id] = test
    lines = []
    for test in newest.values():
        definition = test.definition
        if test.in_spec is None or test.state not in ("reviewed", "resulted"):
            status = d.QcStatus.PENDING
        else:
            status = d.QcStatus.IN_SPEC if test.in_spec else d.QcStatus.OUT_OF_SPEC
        result = test.result_text or (
            f"{test.result_numeric:g}" if test.result_numeric is not None else ""
        )
        unit = test.result_unit
        if definition.per_kg_of_recipient and " against " in test.evaluation:
            # The spec is per kg of the recipient: show the per-kg figure it was judged on.
            result, unit = test.evaluation.split(" against ")[0], ""
        reviewed = test.reviewed_by is not None and test.reviewed_at is not None
        lines.append(
            d.QcResultLine(
                test_name=definition.name,
                method=definition.method,
                specification=definition.spec_text,
                status=status,
                result=result if status != d.QcStatus.PENDING else "",
                unit=unit if status != d.QcStatus.PENDING else "",
                may_release_pending=definition.may_release_pending,
                reviewed_by=test.reviewed_by.get_full_name() if reviewed else "",
                reviewed_at=timezone.localtime(test.reviewed_at) if reviewed else None,
            )
        )
    deviations = [
        d.DeviationLine(
            kind=dev.get_kind_display(),
            what=dev.what,
            opened_by=dev.opened_by.get_full_name(),
            opened_at=timezone.localtime(dev.opened_at),
            disposition=dev.get_disposition_display(),
            disposition_notes=dev.disposition_notes,
            dispositioned_by=dev.dispositioned_by.get_full_name() if dev.dispositioned_by else "",
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
        for s in signatures_of(batch)
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
