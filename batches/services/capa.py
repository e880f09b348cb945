"""Corrective and preventive actions: raised by QA on deviations, completed by their owner,
their effectiveness verified by QA (signed); the owner is told once when one is overdue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from batches import ports
from batches.models import Capa, CapaDeviation, CapaState, Deviation
from batches.selectors.capa import capas_overdue_unflagged
from carnk_mfg import due_work
from carnk_mfg.audit import gmp_write, validate_record
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.signatures import signed_write

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RAISE = "batches.raise_capa"
COMPLETE = "batches.complete_capa"
VERIFY = "batches.verify_capa"


def capa_raise(
    *,
    actor: User,
    deviations: Sequence[Deviation],
    action: str,
    owner: User,
    due_on: date,
    effectiveness_check_on: date,
) -> Capa:
    """QA raises a CAPA on one or more deviations, with its owner, due date and the date its
    effectiveness is checked."""
    errors = {}
    if not deviations:
        errors["deviations"] = "Link at least one deviation."
    if not (action or "").strip():
        errors["action"] = "Say what is to be done."
    if not owner.is_active:
        errors["owner"] = "The owner's account is not active."
    if due_on < timezone.localdate():
        errors["due_on"] = "The due date cannot be in the past."
    if effectiveness_check_on < due_on:
        errors["effectiveness_check_on"] = "The effectiveness is checked on or after the due date."
    if errors:
        raise ValidationError(errors)
    lots = ", ".join(sorted({d.batch.lot_number for d in deviations}))
    with gmp_write(actor=actor, permission=RAISE, reason=f"CAPA raised ({lots})"):
        capa = Capa(
            action=action.strip(),
            owner=owner,
            due_on=due_on,
            effectiveness_check_on=effectiveness_check_on,
            raised_by=actor,
            raised_at=timezone.now(),
        )
        validate_record(capa, exclude=["owner", "raised_by", "completed_by", "verified_by"])
        capa.save()
        CapaDeviation.objects.bulk_create(
            [CapaDeviation(capa=capa, deviation=d) for d in sorted(deviations, key=lambda d: d.pk)]
        )
    return capa


def _lock(capa: Capa) -> Capa:
    return Capa.objects.select_for_update().get(pk=capa.pk)


def capa_complete(*, actor: User, capa: Capa, notes: str) -> Capa:
    """The owner records the action as done, with what was done."""
    if not (notes or "").strip():
        raise ValidationError({"notes": "Say what was done."})
    with gmp_write(actor=actor, permission=COMPLETE, reason=f"CAPA {capa.pk} done"):
        capa = _lock(capa)
        if capa.state != CapaState.OPEN:
            raise ValidationError({"state": f"The CAPA is {capa.get_state_display().lower()}."})
        if capa.owner_id != actor.pk:
            raise ValidationError({"owner": "Only the CAPA's owner records it as done."})
        capa.state = CapaState.DONE
        capa.completion_notes = notes.strip()
        capa.completed_by, capa.completed_at = actor, timezone.now()
        validate_record(capa, exclude=["owner", "raised_by", "completed_by", "verified_by"])
        capa.save()
    return capa


def _verifiable(capa: Capa, actor: User) -> None:
    if capa.state != CapaState.DONE:
        standing = capa.get_state_display().lower()
        raise ValidationError({"state": f"Only a done CAPA is verified; this one is {standing}."})
    if capa.completed_by_id == actor.pk:
        raise ValidationError({"verifier": "Whoever did the action does not verify it."})


def capa_verify(
    *,
    actor: User,
    password: str,
    capa: Capa,
    effective: bool,
    result: str,
    request: HttpRequest | None = None,
) -> Capa:
    """QA's signed effectiveness check: effective, or not effective (a new CAPA follows)."""
    if not (result or "").strip():
        raise ValidationError({"result": "Record what the effectiveness check found."})
    _verifiable(capa, actor)
    verdict = CapaState.EFFECTIVE if effective else CapaState.NOT_EFFECTIVE
    with signed_write(
        actor=actor,
        password=password,
        permission=VERIFY,
        meaning=SignatureMeaning.APPROVED,
        label=f"CAPA {capa.pk} effectiveness: {verdict.label.lower()}",
        reason=f"CAPA {capa.pk} verified {verdict.label.lower()}",
        request=request,
    ) as signing:
        capa = _lock(capa)
        _verifiable(capa, actor)
        capa.state = verdict
        capa.effectiveness_result = result.strip()
        capa.verified_by, capa.verified_at = actor, timezone.now()
        validate_record(capa, exclude=["owner", "raised_by", "completed_by", "verified_by"])
        capa.save()
        signing.sign(capa, comment=result.strip())
    return capa


def capa_overdue_scan(*, now: datetime | None = None) -> int:
    """Tell each overdue CAPA's owner, once per CAPA (`carnk_mfg.due_work`: the CAPA's
    `overdue_flagged_at` is its one flag). Returns how many were flagged."""
    now = now or timezone.now()
    flagged = due_work.flag_once(
        capas_overdue_unflagged(on=timezone.localdate(now)),
        flag_field="overdue_flagged_at",
        now=now,
        related=("owner",),
        announce=lambda rows: ports.notify_capas_overdue(capas=rows, now=now),
        reason="CAPA overdue scan",
    )
    return len(flagged)
