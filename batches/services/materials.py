"""Material lots: registration, QA disposition, and the one rule for whether a lot is usable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from batches.models import (
    FeederLot,
    LotCertificate,
    LotStatus,
    MaterialLot,
    RcrResult,
    ReagentLot,
    VectorLot,
)
from carnk_mfg.audit import gmp_write, validate_record
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import require_permission
from carnk_mfg.signatures import signed_write

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A registered lot is one of these kinds; MaterialLot holds only the fields they share.
Lot = VectorLot | FeederLot | ReagentLot
LOT_MODELS: dict[str, type[Lot]] = {"vector": VectorLot, "feeder": FeederLot, "reagent": ReagentLot}


# What QA's disposition may set; a recall is a separate signed act.
DISPOSITIONS = (LotStatus.RELEASED, LotStatus.REJECTED, LotStatus.QUARANTINED)


@dataclass(frozen=True)
class Usability:
    usable: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.usable


def lot_name(lot: MaterialLot) -> str:
    """`Vector lot RV-1`: how a message names a lot first."""
    return f"{lot.kind.capitalize()} lot {lot.lot_number}"


def lot_usability(lot: MaterialLot, *, on: date | None = None) -> Usability:
    """Whether `lot` may be used on day `on` (today by default), and if not, why.

    The only place this rule lives; steps, imports and the UI all ask here.
    """
    on = on or timezone.localdate()
    name = lot_name(lot)
    if lot.status != LotStatus.RELEASED:
        return Usability(False, f"{name} is {lot.get_status_display().lower()}, not released.")
    if lot.expiry_date < on:
        return Usability(False, f"{name} expired on {lot.expiry_date:%Y-%m-%d}.")
    if isinstance(lot, VectorLot) and lot.rcr_result != RcrResult.NEGATIVE:
        return Usability(False, f"{name} has no negative RCR result ({lot.rcr_result}).")
    return Usability(True)


def lot_has_certificate(lot: MaterialLot) -> bool:
    """Whether the supplier's certificate of analysis of the lot is on file."""
    return LotCertificate.objects.filter(**{f"{lot.kind}_lot": lot}).exists()


def material_lot_register(
    *, actor: User, kind: str, reason: str = "Material lot received", **fields: Any
) -> Lot:
    """Register a received lot with the quantity received (all of it on hand); it starts
    quarantined until QA releases it."""
    model = LOT_MODELS.get(kind)
    if model is None:
        raise ValidationError({"kind": f"Unknown material kind {kind!r}."})
    perm = f"batches.add_{model._meta.model_name}"
    require_permission(actor, perm)
    received = fields.get("quantity_received")
    if received is None or received <= 0:
        raise ValidationError({"quantity_received": "Give the quantity received."})
    lot = model(
        **fields,
        quantity_on_hand=received,
        status=LotStatus.QUARANTINED,
        registered_by=actor,
        registered_at=timezone.now(),
    )
    validate_record(lot, exclude=["registered_by"])
    if lot.received_on > timezone.localdate():
        raise ValidationError({"received_on": "A lot cannot be received in the future."})
    if lot.expiry_date < lot.received_on:
        raise ValidationError({"expiry_date": "The expiry date is before the date received."})
    with gmp_write(actor=actor, permission=perm, reason=reason):
        lot.save()
    return lot


def material_lot_disposition(
    *,
    actor: User,
    password: str,
    lot: Lot,
    status: str,
    reason: str,
    request: HttpRequest | None = None,
) -> Lot:
    """QA releases, rejects or re-quarantines a lot, with an e-signature. A lot is released
    only with its supplier's certificate of analysis on file; a recall is
    `inventory.material_lot_recall`'s and final."""
    if status not in DISPOSITIONS:
        raise ValidationError({"status": "Choose released, rejected or quarantined."})
    meanings: dict[str, str] = {
        LotStatus.RELEASED: SignatureMeaning.RELEASED,
        LotStatus.REJECTED: SignatureMeaning.REJECTED,
    }
    meaning = meanings.get(status, SignatureMeaning.REVIEWED)
    with signed_write(
        actor=actor,
        password=password,
        permission=f"batches.disposition_{lot._meta.model_name}",
        meaning=meaning,
        label=f"{lot} disposition: {status}",
        reason=reason,
        request=request,
    ) as signing:
        lot = type(lot).objects.select_for_update().get(pk=lot.pk)
        if lot.status == LotStatus.RECALLED:
            raise ValidationError({"status": f"{lot_name(lot)} is recalled, for good."})
        if status == lot.status:
            raise ValidationError({"status": f"The lot is already {lot.status}."})
        if (
            status == LotStatus.RELEASED
            and isinstance(lot, VectorLot)
            and lot.rcr_result != RcrResult.NEGATIVE
        ):
            raise ValidationError(
                {"status": "A vector lot is released only with a negative RCR result."}
            )
        if status == LotStatus.RELEASED and not lot_has_certificate(lot):
            raise ValidationError(
                {
                    "status": f"{lot_name(lot)} has no certificate of analysis on "
                    "file: upload the supplier's CoA before releasing it."
                }
            )
        lot.status = status
        lot.status_reason = reason
        lot.dispositioned_by = actor
        lot.dispositioned_at = timezone.now()
        lot.save()
        signing.sign(lot, comment=reason)
    return lot


def material_lot_quarantine(*, actor: User, lot: Lot, reason: str) -> Lot:
    """Put a lot on hold at once (a supplier recall, a suspected problem): no signature is
    needed to stop use; releasing it again is a signed disposition."""
    perm = f"batches.disposition_{lot._meta.model_name}"
    with gmp_write(actor=actor, permission=perm, reason=reason):
        lot = type(lot).objects.select_for_update().get(pk=lot.pk)
        if lot.status in (LotStatus.QUARANTINED, LotStatus.RECALLED):
            raise ValidationError({"status": f"{lot} is already {lot.status}."})
        lot.status = LotStatus.QUARANTINED
        lot.status_reason = reason
        lot.dispositioned_by = actor
        lot.dispositioned_at = timezone.now()
        lot.save()
    return lot
