"""Issue, hand-offs to the bedside, bedside verification and the infusion record."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from batches.models import (
    BedsideCheck,
    BedsideOutcome,
    CustodyEvent,
    DoseUnit,
    DoseUnitStatus,
    Infusion,
    Recipient,
)
from batches.selectors import bag_not_usable
from batches.services.clinical import follow_up_schedule
from carnk_mfg import isbt128
from carnk_mfg.audit import audited, gmp_write
from carnk_mfg.fields import field_errors
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import require_permission
from carnk_mfg.signatures import signed_write
from carnk_mfg.timeutil import check_happened

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CUSTODY_KINDS = ("issue", "ship", "receive")
# A passing bedside check is good for this long: the infusion starts within it (it may be
# recorded later, when it ends).
CHECK_VALID_FOR = timedelta(minutes=30)


def _party(username: str, field: str) -> User:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({field: f"No active user {username!r}."})
    return user


def dose_custody(
    *,
    actor: User,
    dose_unit: DoseUnit,
    kind: str,
    released_by: str,
    received_by: str,
    from_location: str,
    to_location: str,
    occurred_at: datetime,
    temperature_c: Decimal | None = None,
) -> CustodyEvent:
    """A hand-off of a bag with both parties. The first, `issue`, needs a bag assigned to a
    recipient and moves it to issued."""
    if kind not in CUSTODY_KINDS:
        raise ValidationError({"kind": "Issue, ship or receive."})
    giver, taker = _party(released_by, "released_by"), _party(received_by, "received_by")
    if giver == taker:
        raise ValidationError({"received_by": "A hand-off needs two different people."})
    errors = field_errors(CustodyEvent, {"temperature_c": temperature_c})
    check_happened(
        errors,
        "occurred_at",
        occurred_at,
        what="A hand-off",
        not_before=(dose_unit.created_at, "the bag was filled"),
    )
    if errors:
        raise ValidationError(errors)
    with gmp_write(
        actor=actor,
        permission="batches.issue_dose",
        reason=f"Bag {kind}: {from_location} -> {to_location}",
    ):
        unit = (
            DoseUnit.objects.select_for_update(of=("self",))
            .select_related("batch")
            .get(pk=dose_unit.pk)
        )
        if kind == "issue":
            if unit.status != DoseUnitStatus.ASSIGNED:
                raise ValidationError({"kind": bag_not_usable(unit, "assigned to a recipient")})
            unit.status = DoseUnitStatus.ISSUED
            unit.save(update_fields=["status"])
        elif unit.status != DoseUnitStatus.ISSUED:
            raise ValidationError(
                {"kind": bag_not_usable(unit, "issued: ship and receive follow the issue")}
            )
        return CustodyEvent.objects.create(
            dose_unit=unit,
            kind=kind,
            released_by=giver,
            received_by=taker,
            from_location=from_location,
            to_location=to_location,
            occurred_at=occurred_at,
            temperature_c=temperature_c,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )


def _bag_from_scan(bag: str, product_code: str) -> tuple[DoseUnit | None, str]:
    """The bag a scan names: the DIN barcode (`=DIN` + flags, or the DIN typed with its check
    character) and the product code barcode (`=<` + code; its last two characters are the
    division)."""
    try:
        din = isbt128.din_from_scan(bag[:40])
    except isbt128.DINError as exc:
        return None, f"The bag barcode is not a valid DIN: {exc}"
    code = product_code.strip().removeprefix("=<")
    if len(code) != 8:
        return None, "Scan the bag's product code barcode too."
    unit = (
        DoseUnit.objects.select_related("batch__recall", "recipient")
        .filter(batch__coi_identifier=din.text, division=code[-2:])
        .first()
    )
    if unit is None:
        return None, f"No bag {din.text} division {code[-2:]} is known."
    return unit, ""


def bedside_verify(
    *, actor: User, scanned_bag: str, scanned_product_code: str, scanned_wristband: str
) -> BedsideCheck:
    """Compare the bag and the wristband; record the outcome whatever it is."""
    require_permission(actor, "batches.verify_at_bedside")
    unit, problem = _bag_from_scan(scanned_bag, scanned_product_code)
    reasons = [problem] if problem else []
    recipient = Recipient.objects.filter(subject_id=scanned_wristband.strip()).first()
    if recipient is None:
        reasons.append(f"No recipient with wristband ID {scanned_wristband.strip()[:60]!r}.")
    if unit is not None:
        if unit.status == DoseUnitStatus.INFUSED:
            reasons.append("This bag has already been infused.")
        elif unit.status != DoseUnitStatus.ISSUED:
            reasons.append(bag_not_usable(unit, "released and issued"))
        if unit.expires_at <= timezone.now():
            reasons.append(f"The bag expired at {unit.expires_at:%Y-%m-%d %H:%M %Z}.")
        if recipient is not None and unit.recipient_id != recipient.pk:
            owner = unit.recipient.subject_id if unit.recipient else "no recipient"
            reasons.append(
                f"WRONG RECIPIENT: this bag is for {owner}, "
                f"the wristband is {recipient.subject_id}."
            )
    # The check is kept even when it blocks: it is its own transaction.
    with transaction.atomic(), audited(actor=actor, reason="Bedside verification"):
        return BedsideCheck.objects.create(
            scanned_bag=scanned_bag[:60],
            scanned_product_code=scanned_product_code[:20],
            scanned_wristband=scanned_wristband[:60],
            dose_unit=unit,
            recipient=recipient,
            outcome=BedsideOutcome.BLOCKED if reasons else BedsideOutcome.MATCH,
            reasons=reasons,
            checked_by=actor,
            checked_at=timezone.now(),
        )


def infusion_record(
    *,
    actor: User,
    password: str,
    check: BedsideCheck,
    started_at: datetime,
    ended_at: datetime,
    volume_ml: Decimal,
    vitals: dict[str, Any],
    notes: str = "",
    request: HttpRequest | None = None,
) -> Infusion:
    """The infusion, after a passing bedside check of this bag and recipient; signed."""
    errors = _infusion_errors(
        check=check, started_at=started_at, ended_at=ended_at, volume_ml=volume_ml, vitals=vitals
    )
    if errors:
        raise ValidationError(errors)
    recipient = check.recipient
    assert recipient is not None, "a matching bedside check names its recipient"
    with signed_write(
        actor=actor,
        password=password,
        permission="batches.record_infusion",
        meaning=SignatureMeaning.PERFORMED,
        label=f"Infusion of bag {check.dose_unit} into {recipient.subject_id}",
        request=request,
    ) as signing:
        assert check.dose_unit_id is not None, "a matching bedside check names its bag"
        unit = (
            DoseUnit.objects.select_for_update(of=("self",))
            .select_related("batch")
            .get(pk=check.dose_unit_id)
        )
        if unit.status != DoseUnitStatus.ISSUED:
            raise ValidationError({"bedside_check": bag_not_usable(unit, "issued")})
        if Infusion.objects.filter(bedside_check=check).exists():
            raise ValidationError({"bedside_check": "This check was already used for an infusion."})
        infusion = Infusion.objects.create(
            dose_unit=unit,
            recipient=recipient,
            bedside_check=check,
            started_at=started_at,
            ended_at=ended_at,
            volume_ml=volume_ml,
            vitals=vitals,
            administered_by=actor,
            notes=notes,
            recorded_at=timezone.now(),
        )
        unit.status = DoseUnitStatus.INFUSED
        unit.save(update_fields=["status"])
        follow_up_schedule(infusion=infusion)
        signing.sign(infusion)
    return infusion


def _infusion_errors(
    *,
    check: BedsideCheck,
    started_at: datetime,
    ended_at: datetime,
    volume_ml: Decimal,
    vitals: dict[str, Any],
) -> dict[str, str | list[str]]:
    """Why the infusion cannot be recorded as given, before anything is signed: the check
    must have passed and be fresh, the times must have happened in order, the volume must fit."""
    errors: dict[str, str | list[str]] = {}
    if check.outcome != BedsideOutcome.MATCH:
        errors["bedside_check"] = "The bedside check blocked this infusion: " + " ".join(
            check.reasons
        )
    elif started_at - check.checked_at > CHECK_VALID_FOR:
        errors["bedside_check"] = (
            "The bedside check is too old: the infusion started more than "
            f"{CHECK_VALID_FOR.seconds // 60} minutes after it; scan the bag and wristband again."
        )
    check_happened(
        errors,
        "started_at",
        started_at,
        what="The infusion start",
        not_before=(check.checked_at, "the bedside check"),
    )
    check_happened(errors, "ended_at", ended_at, what="The infusion end")
    if ended_at < started_at:
        errors["ended_at"] = "The infusion ends after it starts."
    errors.update(field_errors(Infusion, {"volume_ml": volume_ml}))
    if not isinstance(vitals, dict):
        errors["vitals"] = "Vitals are an object (pre and post)."
    return errors
