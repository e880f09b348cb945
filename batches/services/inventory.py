"""Stock of material lots: what a step draws, adjustments, certificates of analysis and the
recall of a lot.

A step draws from a lot the quantity it records for it, in the lot's unit. A step that
records no quantity for a lot draws nothing: the use is kept (and listed by a recall) but
the stock is left to a count correction. Drawing more than is on hand is refused, naming
the lot and what is left.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from batches.models import AdjustmentKind, LotCertificate, LotStatus, StockAdjustment
from batches.services.materials import Lot, lot_name
from carnk_mfg.audit import gmp_write
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import require_permission
from carnk_mfg.signatures import signed_write

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CERTIFICATE_MAX_BYTES = 5 * 1024 * 1024


def stock_text(lot: Lot, quantity: Decimal) -> str:
    """`12.5 mL`: a quantity in the lot's unit, as the lab writes it."""
    return f"{quantity.normalize():f} {lot.get_unit_display()}"


def overdraw_message(lot: Lot, quantity: Decimal) -> str:
    return (
        f"{lot_name(lot)} has {stock_text(lot, lot.quantity_on_hand)} on hand; "
        f"{stock_text(lot, quantity)} cannot be drawn from it."
    )


def _locked(lot: Lot) -> Lot:
    return type(lot).objects.select_for_update().get(pk=lot.pk)


def lot_draw_locked(lot: Lot, quantity: Decimal | None, *, field: str = "quantity") -> None:
    """Take `quantity` from the lot's stock under its row lock, inside the caller's
    transaction; refused when less is on hand. None draws nothing (see the module's note)."""
    if quantity is None:
        return
    locked = _locked(lot)
    if quantity > locked.quantity_on_hand:
        raise ValidationError({field: overdraw_message(locked, quantity)})
    locked.quantity_on_hand -= quantity
    locked.save(update_fields=["quantity_on_hand"])
    lot.quantity_on_hand = locked.quantity_on_hand


def lot_stock_adjust(
    *, actor: User, lot: Lot, adjustment_kind: str, change: Decimal, reason: str
) -> StockAdjustment:
    """A count correction (either way), breakage or discard: the change and the stock it
    leaves, with why. Stock never goes below nothing."""
    if adjustment_kind not in AdjustmentKind.values:
        raise ValidationError({"adjustment_kind": "Choose count, breakage, discarded or other."})
    if change == 0:
        raise ValidationError({"change": "An adjustment changes the stock: give a quantity."})
    if adjustment_kind in (AdjustmentKind.BREAKAGE, AdjustmentKind.DISCARDED) and change > 0:
        raise ValidationError({"change": "Breakage and discards take stock away: give it as -n."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the stock changes."})
    with gmp_write(actor=actor, permission="batches.adjust_stock", reason=reason):
        locked = _locked(lot)
        after = locked.quantity_on_hand + change
        if after < 0:
            raise ValidationError({"change": overdraw_message(locked, -change)})
        locked.quantity_on_hand = after
        locked.save(update_fields=["quantity_on_hand"])
        adjustment = StockAdjustment.objects.create(
            **{f"{lot.kind}_lot": locked},
            adjustment_kind=adjustment_kind,
            change=change,
            on_hand_after=after,
            reason=reason,
            adjusted_by=actor,
            adjusted_at=timezone.now(),
        )
    lot.quantity_on_hand = after
    return adjustment


def lot_certificate_upload(*, actor: User, lot: Lot, filename: str, data: bytes) -> LotCertificate:
    """Keep the supplier's certificate of analysis as received, with its SHA-256."""
    require_permission(actor, "batches.upload_certificate")
    if not data:
        raise ValidationError({"file": "The file is empty."})
    if len(data) > CERTIFICATE_MAX_BYTES:
        raise ValidationError(
            {"file": f"The file is larger than {CERTIFICATE_MAX_BYTES // 1024 // 1024} MB."}
        )
    name = (filename or "certificate").strip()[:255]
    with gmp_write(
        actor=actor,
        permission="batches.upload_certificate",
        reason=f"Certificate of analysis of {lot}: {name}",
    ):
        return LotCertificate.objects.create(
            **{f"{lot.kind}_lot": lot},
            filename=name,
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
            size_bytes=len(data),
            uploaded_by=actor,
            uploaded_at=timezone.now(),
        )


def material_lot_recall(
    *,
    actor: User,
    password: str,
    lot: Lot,
    reason: str,
    request: HttpRequest | None = None,
) -> Lot:
    """QA recalls a lot, e-signed: it is never used again (`lot_usability`) and the batches
    that used it are listed by `batches.selectors.inventory.lot_uses`."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the lot is recalled."})
    with signed_write(
        actor=actor,
        password=password,
        permission=f"batches.disposition_{lot._meta.model_name}",
        meaning=SignatureMeaning.RECALLED,
        label=f"{lot} recall",
        reason=reason,
        request=request,
    ) as signing:
        lot = _locked(lot)
        if lot.status == LotStatus.RECALLED:
            raise ValidationError({"status": f"{lot_name(lot)} is already recalled."})
        lot.status = LotStatus.RECALLED
        lot.status_reason = reason
        lot.dispositioned_by = actor
        lot.dispositioned_at = timezone.now()
        lot.save()
        signing.sign(lot, comment=reason)
    return lot
