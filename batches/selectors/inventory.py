"""Reads of a lot's stock: the batches that used it, its certificates and adjustments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet

from batches.models import LotCertificate, MaterialLot, MaterialUse, StockAdjustment


@dataclass(frozen=True)
class LotUse:
    """One use of a lot by one step of one batch: what a recall must reach."""

    batch_lot_number: str
    batch_state: str
    batch_state_label: str
    step_order: int
    step_name: str
    performed_at: datetime
    quantity_used: Decimal | None
    quantity_as_written: str


def lot_uses(lot: MaterialLot) -> list[LotUse]:
    """Every step of every batch that used the lot, oldest first."""
    uses = (
        MaterialUse.objects.filter(**{f"{lot.kind}_lot": lot})
        .select_related("step__batch", "step__template_step")
        .order_by("step__performed_at", "step__batch__lot_number", "pk")
    )
    return [
        LotUse(
            batch_lot_number=use.step.batch.lot_number,
            batch_state=use.step.batch.state,
            batch_state_label=use.step.batch.get_state_display(),
            step_order=use.step.template_step.order,
            step_name=use.step.template_step.name,
            performed_at=use.step.performed_at,
            quantity_used=use.quantity_used,
            quantity_as_written=use.quantity,
        )
        for use in uses
    ]


def lot_certificates(lot: MaterialLot) -> QuerySet[LotCertificate]:
    """The lot's certificates of analysis, newest first, without their content."""
    return (
        LotCertificate.objects.filter(**{f"{lot.kind}_lot": lot})
        .defer("content")
        .select_related("uploaded_by")
    )


def lot_adjustments(lot: MaterialLot) -> QuerySet[StockAdjustment]:
    return StockAdjustment.objects.filter(**{f"{lot.kind}_lot": lot}).select_related("adjusted_by")
