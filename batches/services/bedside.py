"""Issue, hand-offs to the bedside, bedside verification and the infusion record."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from batches.models import (
    BedsideCheck,
    BedsideOutcome,
    CustodyEvent,
    Deviation,
    DeviationKind,
    DoseUnit,
    DoseUnitStatus,
    Infusion,
    Recipient,
)
from batches.selectors import bag_not_usable, lymphodepletion_blocker
from batches.services.batch_record.deviations import open_deviation_locked
from batches.services.bedside_scan import (
    bag_from_scan,
    chain_of_identity_reasons,
    second_identifier_reasons,
)
from batches.services.clinical import follow_up_schedule
from batches.services.lifecycle import lock_batch
from carnk_mfg.audit import audited
from carnk_mfg.fields import field_errors
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.roles import actor_may, require_permission
from carnk_mfg.signatures import signature_authenticate, signed_by_parties, signed_write
from carnk_mfg.timeutil import check_happened, require_happened

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CUSTODY_KINDS = ("issue", "ship", "receive")
# Who may sign for a bag in a hand-off, and record a ship or a receive (a courier too).
HAND_OFF_PARTY = "batches.hand_off_dose"
# A passing bedside check is good for this long: the infusion starts within it (it may be
# recorded later, when it ends).
CHECK_VALID_FOR = timedelta(minutes=30)


def _party(username: str, field: str) -> User:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({field: f"No active user {username!r}."})
    if not actor_may(user, HAND_OFF_PARTY):
        raise ValidationError({field: f"{username} may not sign for a bag in a hand-off."})
    return user


def _hand_off_parties(
    *,
    dose_unit: DoseUnit,
    kind: str,
    released_by: str,
    received_by: str,
    occurred_at: datetime,
    temperature_c: Decimal | None,
) -> tuple[User, User]:
    """The two parties of a hand-off as given, or why it cannot be recorded (before any
    password is checked)."""
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
    return giver, taker


# Kept in one piece: the one signed block in which the bag is locked, its state checked, the
# hand-off written and signed by both parties.
def dose_custody(
    *,
    actor: User,
    dose_unit: DoseUnit,
    kind: str,
    released_by: str,
    released_by_password: str,
    received_by: str,
    received_by_password: str,
    from_location: str,
    to_location: str,
    occurred_at: datetime,
    temperature_c: Decimal | None = None,
    request: HttpRequest | None = None,
) -> CustodyEvent:
    """A hand-off of a bag, confirmed by both parties, each with their own password and
    signature. The first, `issue`, needs a bag assigned to a recipient and moves it to
    issued; recording it is clinical staff's. Ship and receive follow, recorded by anyone
    who may take part in a hand-off (a courier too)."""
    giver, taker = _hand_off_parties(
        dose_unit=dose_unit,
        kind=kind,
        released_by=released_by,
        received_by=received_by,
        occurred_at=occurred_at,
        temperature_c=temperature_c,
    )
    with signed_by_parties(
        actor=actor,
        permission="batches.issue_dose" if kind == "issue" else HAND_OFF_PARTY,
        parties=[
            ("released_by", giver, released_by_password),
            ("received_by", taker, received_by_password),
        ],
        meaning=SignatureMeaning.PERFORMED,
        label=f"{kind.capitalize()} of {dose_unit}: {from_location} -> {to_location}",
        reason=f"Bag {kind}: {from_location} -> {to_location}",
        request=request,
    ) as signing:
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
        else:
            _follows_previous_hand_off(unit, giver=giver, occurred_at=occurred_at)
        event = CustodyEvent.objects.create(
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
        signing["released_by"].sign(event, comment="Released the bag")
        signing["received_by"].sign(event, comment="Received the bag")
    return event


def _follows_previous_hand_off(unit: DoseUnit, *, giver: User, occurred_at: datetime) -> None:
    """A ship or receive continues the bag's chain (the bag is locked): it is handed off by
    whoever received it last, not before that hand-off. Two hand-offs of one bag at the same
    moment: the second sees the first here, and its giver no longer holds the bag."""
    previous = (
        CustodyEvent.objects.filter(dose_unit=unit).select_related("received_by").order_by("-id")
    ).first()
    if previous is None:
        raise ValidationError({"kind": "The bag was never issued: its first hand-off is that."})
    if giver != previous.received_by:
        raise ValidationError(
            {
                "released_by": f"{previous.received_by.username} holds the bag (received it "
                f"at {previous.occurred_at:%Y-%m-%d %H:%M %Z}): only they can hand it off."
            }
        )
    require_happened(
        "occurred_at",
        occurred_at,
        what="The hand-off",
        not_before=(previous.occurred_at, "the bag's previous hand-off"),
    )


def bedside_verify(
    *,
    actor: User,
    scanned_bag: str,
    scanned_product_code: str,
    scanned_wristband: str,
    scanned_coi: str = "",
    date_of_birth: date | None = None,
    medical_record_number: str = "",
) -> BedsideCheck:
    """Compare the bag (DIN, full product code, Chain of Identity identifier) with the
    wristband and a second patient identifier (date of birth or medical record number);
    record the outcome whatever it is."""
    require_permission(actor, "batches.verify_at_bedside")
    unit, problem = bag_from_scan(scanned_bag, scanned_product_code)
    reasons = [problem] if problem else []
    recipient = Recipient.objects.filter(subject_id=scanned_wristband.strip()).first()
    if recipient is None:
        reasons.append(f"No recipient with wristband ID {scanned_wristband.strip()[:60]!r}.")
    else:
        reasons.extend(second_identifier_reasons(recipient, date_of_birth, medical_record_number))
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
        reasons.extend(chain_of_identity_reasons(unit, scanned_coi))
    # Only the bag's own recipient's preparation matters; a wrong one is blocked already.
    if recipient is not None and (unit is None or unit.recipient_id == recipient.pk):
        not_ready = lymphodepletion_blocker(recipient, on=timezone.localdate())
        if not_ready:
            reasons.append(not_ready)
    # The check is kept even when it blocks: it is its own transaction.
    with transaction.atomic(), audited(actor=actor, reason="Bedside verification"):
        return BedsideCheck.objects.create(
            scanned_bag=scanned_bag[:60],
            scanned_product_code=scanned_product_code[:20],
            scanned_wristband=scanned_wristband[:60],
            scanned_coi=scanned_coi[:60],
            scanned_date_of_birth=date_of_birth,
            scanned_medical_record_number=medical_record_number[:40],
            dose_unit=unit,
            recipient=recipient,
            outcome=BedsideOutcome.BLOCKED if reasons else BedsideOutcome.MATCH,
            reasons=reasons,
            checked_by=actor,
            checked_at=timezone.now(),
        )


def infusion_start(
    *,
    actor: User,
    password: str,
    check: BedsideCheck,
    started_at: datetime,
    vitals_before: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> Infusion:
    """The start of the infusion, after a passing bedside check of this bag and recipient;
    signed. The bag is in the patient from now: it is infused, and the follow-up visits are
    counted from this start. The infusion is in progress until `infusion_complete`."""
    errors = _start_errors(check=check, started_at=started_at, vitals_before=vitals_before)
    if errors:
        raise ValidationError(errors)
    recipient = check.recipient
    assert recipient is not None, "a matching bedside check names its recipient"
    with signed_write(
        actor=actor,
        password=password,
        permission="batches.record_infusion",
        meaning=SignatureMeaning.PERFORMED,
        label=f"Start of the infusion of {check.dose_unit} into {recipient.subject_id}",
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
            vitals={"pre": vitals_before} if vitals_before else {},
            administered_by=actor,
            recorded_at=timezone.now(),
        )
        unit.status = DoseUnitStatus.INFUSED
        unit.save(update_fields=["status"])
        follow_up_schedule(infusion=infusion)
        signing.sign(infusion, attests="infusion_start")
    return infusion


def infusion_complete(
    *,
    actor: User,
    password: str,
    infusion: Infusion,
    ended_at: datetime,
    volume_ml: Decimal,
    vitals: dict[str, Any] | None = None,
    reactions: str = "",
    notes: str = "",
    volume_difference_reason: str = "",
    request: HttpRequest | None = None,
) -> Infusion:
    """The completion of an infusion in progress: its end, the volume infused, the vitals
    after (`{"post": {...}}`, added to those of the start) and any reaction; signed. A volume
    off the prescribed one by more than the tolerance needs its reason, and opens a clinical
    deviation on the batch in the same transaction."""
    vitals = {} if vitals is None else vitals
    prescribed = infusion.dose_unit.dose_volume_ml
    errors = _completion_errors(
        started_at=infusion.started_at,
        ended_at=ended_at,
        volume_ml=volume_ml,
        vitals=vitals,
        prescribed_ml=prescribed,
        volume_difference_reason=volume_difference_reason,
    )
    if errors:
        raise ValidationError(errors)
    with signed_write(
        actor=actor,
        password=password,
        permission="batches.record_infusion",
        meaning=SignatureMeaning.PERFORMED,
        label=f"Completion of the {infusion_name(infusion)}",
        request=request,
    ) as signing:
        locked = Infusion.objects.select_for_update(of=("self",)).get(pk=infusion.pk)
        if locked.ended_at is not None:
            raise ValidationError(
                {"infusion": f"This infusion was completed at {locked.ended_at:%Y-%m-%d %H:%M %Z}."}
            )
        off_by = volume_off_by_pct(prescribed, volume_ml)
        if off_by is not None:
            _open_volume_deviation(
                actor=actor,
                infusion=locked,
                prescribed_ml=prescribed,
                volume_ml=volume_ml,
                off_by_pct=off_by,
                reason=volume_difference_reason,
            )
        locked.ended_at, locked.volume_ml = ended_at, volume_ml
        locked.vitals = {**locked.vitals, **vitals}
        locked.reactions, locked.notes = reactions.strip(), notes
        locked.completed_by, locked.completed_recorded_at = actor, timezone.now()
        locked.save()
        signing.sign(locked)
    return locked


# Kept in one piece: the checks, the one password check and the transaction holding both
# signed parts read best together.
def infusion_record(
    *,
    actor: User,
    password: str,
    check: BedsideCheck,
    started_at: datetime,
    ended_at: datetime | None = None,
    volume_ml: Decimal | None = None,
    vitals: dict[str, Any] | None = None,
    reactions: str = "",
    notes: str = "",
    volume_difference_reason: str = "",
    request: HttpRequest | None = None,
) -> Infusion:
    """An infusion reported in one call (the API's `POST /infusions/`): its start and, when
    the end is given, its completion, in one transaction, each part signed by `infusion_start`
    and `infusion_complete` (a refused completion leaves no start behind). The vitals come as
    one object: `pre` goes with the start, the rest with the completion. The password is
    checked once before the transaction, so a wrong one stays recorded."""
    vitals = {} if vitals is None else vitals
    if not isinstance(vitals, dict):
        raise ValidationError({"vitals": "Vitals are an object (pre and post)."})
    after = {key: value for key, value in vitals.items() if key != "pre"}
    errors = _start_errors(check=check, started_at=started_at, vitals_before=vitals.get("pre"))
    errors.update(
        _one_call_completion_errors(
            started_at=started_at,
            ended_at=ended_at,
            volume_ml=volume_ml,
            after=after,
            more=bool(reactions or notes or volume_difference_reason),
            prescribed_ml=None if check.dose_unit is None else check.dose_unit.dose_volume_ml,
            volume_difference_reason=volume_difference_reason,
        )
    )
    if errors:
        raise ValidationError(errors)
    require_permission(actor, "batches.record_infusion")
    signature_authenticate(
        signer=actor,
        password=password,
        meaning=SignatureMeaning.PERFORMED,
        record_label=f"Infusion of {check.dose_unit}",
        request=request,
    )
    with transaction.atomic():
        infusion = infusion_start(
            actor=actor,
            password=password,
            check=check,
            started_at=started_at,
            vitals_before=vitals.get("pre"),
            request=request,
        )
        if ended_at is not None and volume_ml is not None:
            infusion = infusion_complete(
                actor=actor,
                password=password,
                infusion=infusion,
                ended_at=ended_at,
                volume_ml=volume_ml,
                vitals=after,
                reactions=reactions,
                notes=notes,
                volume_difference_reason=volume_difference_reason,
                request=request,
            )
    return infusion


def _one_call_completion_errors(
    *,
    started_at: datetime,
    ended_at: datetime | None,
    volume_ml: Decimal | None,
    after: dict[str, Any],
    more: bool,
    prescribed_ml: Decimal | None,
    volume_difference_reason: str,
) -> dict[str, str | list[str]]:
    """Why the completion part of a one-call infusion cannot be recorded: with an end comes
    the volume, and what belongs to the completion needs the end."""
    if ended_at is None and volume_ml is None:
        if after or more:
            return {
                "ended_at": "The vitals after, reactions, notes and a reason for the volume "
                "come with the end."
            }
        return {}
    if ended_at is None or volume_ml is None:
        missing = "ended_at" if ended_at is None else "volume_ml"
        return {missing: "A completed infusion has both its end and the volume infused."}
    return _completion_errors(
        started_at=started_at,
        ended_at=ended_at,
        volume_ml=volume_ml,
        vitals=after,
        prescribed_ml=prescribed_ml,
        volume_difference_reason=volume_difference_reason,
    )


def infusion_name(infusion: Infusion) -> str:
    return f"infusion of {infusion.dose_unit} into {infusion.recipient.subject_id}"


def _start_errors(
    *, check: BedsideCheck, started_at: datetime, vitals_before: Any
) -> dict[str, str | list[str]]:
    """Why the infusion cannot start as given, before anything is signed: the check must
    have passed and be fresh, the start must have happened after it."""
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
    elif check.recipient is not None:
        not_ready = lymphodepletion_blocker(check.recipient, on=timezone.localdate(started_at))
        if not_ready:
            errors["recipient"] = not_ready
    check_happened(
        errors,
        "started_at",
        started_at,
        what="The infusion start",
        not_before=(check.checked_at, "the bedside check"),
    )
    if vitals_before is not None and not isinstance(vitals_before, dict):
        errors["vitals"] = "The vitals before are an object (temperature, heart rate, ...)."
    return errors


def _completion_errors(
    *,
    started_at: datetime,
    ended_at: datetime,
    volume_ml: Decimal,
    vitals: Any,
    prescribed_ml: Decimal | None,
    volume_difference_reason: str,
) -> dict[str, str | list[str]]:
    """Why the infusion cannot be completed as given: the end must have happened, after the
    start; the volume must fit its bounds, and a volume off the prescribed one needs why."""
    errors: dict[str, str | list[str]] = {}
    check_happened(errors, "ended_at", ended_at, what="The infusion end")
    if "ended_at" not in errors and ended_at < started_at:
        errors["ended_at"] = f"The infusion ends after it starts ({started_at:%Y-%m-%d %H:%M %Z})."
    errors.update(field_errors(Infusion, {"volume_ml": volume_ml}))
    if "volume_ml" not in errors:
        off_by = volume_off_by_pct(prescribed_ml, volume_ml)
        if volume_difference_reason.strip():
            why = field_errors(Deviation, {"why": volume_difference_reason}).get("why")
            if why:
                errors["volume_difference_reason"] = why
        elif off_by is not None:
            errors["volume_difference_reason"] = (
                f"{volume_ml} mL infused is {off_by:.1f} % off the {prescribed_ml} mL "
                f"prescribed (more than {settings.INFUSED_VOLUME_TOLERANCE_PCT:g} %): give the "
                "reason; a clinical deviation is opened."
            )
    if not isinstance(vitals, dict):
        errors["vitals"] = "Vitals are an object (pre and post)."
    elif "pre" in vitals:
        errors["vitals"] = "The vitals before were recorded with the start."
    return errors


def volume_off_by_pct(prescribed_ml: Decimal | None, volume_ml: Decimal) -> Decimal | None:
    """How far, in percent of the prescribed volume, the volume infused is off it, when that
    is more than INFUSED_VOLUME_TOLERANCE_PCT; None within it or with no prescribed volume."""
    if not prescribed_ml:
        return None
    off_by = abs(Decimal(volume_ml) - prescribed_ml) * 100 / prescribed_ml
    tolerance = Decimal(str(settings.INFUSED_VOLUME_TOLERANCE_PCT))
    return off_by if off_by > tolerance else None


def _open_volume_deviation(
    *,
    actor: User,
    infusion: Infusion,
    prescribed_ml: Decimal | None,
    volume_ml: Decimal,
    off_by_pct: Decimal,
    reason: str,
) -> None:
    """Inside the completion's transaction: the clinical deviation of a volume off the
    prescription, on the bag's batch, for QA to disposition."""
    unit = infusion.dose_unit
    more_or_less = "more" if volume_ml > (prescribed_ml or 0) else "less"
    open_deviation_locked(
        actor=actor,
        batch=lock_batch(unit.batch),
        step=None,
        kind=DeviationKind.INFUSED_VOLUME,
        what=(
            f"{volume_ml} mL of {unit} infused into {infusion.recipient.subject_id}, "
            f"{off_by_pct:.1f} % {more_or_less} than the {prescribed_ml} mL prescribed."
        ),
        why=reason.strip(),
        impact=(
            f"The recipient received {more_or_less} CAR-NK cells than the dose assigned; "
            "the treating team and QA assess the effect on safety and response."
        ),
    )
