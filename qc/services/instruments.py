"""Instruments and their API keys (healthchecks-style keyed hashes)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.models import Equipment, EquipmentKind
from carnk_mfg.audit import gmp_write, validate_record
from carnk_mfg.roles import Role
from qc.models import Instrument, InstrumentKey

if TYPE_CHECKING:
    from django.contrib.auth.models import User

KEY_PREFIX = "ik_"  # tells an instrument key from a user token in the same header


def _key_hash(raw_key: str) -> str:
    secret = settings.INSTRUMENT_KEY_SECRET.encode()
    return hmac.new(secret, raw_key.encode(), hashlib.sha256).hexdigest()


def instrument_register(
    *,
    actor: User,
    name: str,
    model: str,
    serial_number: str,
    location: str,
    kind: str,
    calibration_due: date,
    equipment: Equipment | None = None,
    reason: str = "Instrument registered",
) -> Instrument:
    """`equipment`: a cell counter's record at the bench (its barcode, status and
    calibrations), which then also decides whether its data is accepted."""
    with gmp_write(actor=actor, permission="qc.add_instrument", reason=reason):
        if Instrument.objects.filter(serial_number=serial_number).exists():
            raise ValidationError({"serial_number": f"Instrument {serial_number} exists."})
        if equipment is not None and equipment.kind != EquipmentKind.CELL_COUNTER:
            raise ValidationError(
                {
                    "equipment": f"{equipment} is a {equipment.get_kind_display().lower()}, "
                    "not a cell counter."
                }
            )
        if equipment is not None and Instrument.objects.filter(equipment=equipment).exists():
            raise ValidationError({"equipment": f"{equipment} is another instrument's already."})
        user = get_user_model().objects.create_user(
            username=f"instrument-{serial_number}"[:150], first_name=name[:150]
        )
        user.set_unusable_password()  # it authenticates only with its keys
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=Role.INSTRUMENT))
        instrument = Instrument(
            name=name,
            model=model,
            serial_number=serial_number,
            location=location,
            kind=kind,
            calibration_due=calibration_due,
            equipment=equipment,
            user=user,
        )
        validate_record(instrument)
        instrument.save()
    return instrument


def instrument_key_create(
    *, actor: User, instrument: Instrument, label: str = ""
) -> tuple[InstrumentKey, str]:
    """Make a key and return it with its plaintext, which is shown this once only."""
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with gmp_write(actor=actor, permission="qc.add_instrumentkey", reason=f"Key issued: {label}"):
        key = InstrumentKey.objects.create(
            instrument=instrument,
            label=label,
            prefix=prefix,
            key_hash=_key_hash(raw),
            created_at=timezone.now(),
        )
    return key, raw


def instrument_key_revoke(*, actor: User, key: InstrumentKey, reason: str) -> InstrumentKey:
    with gmp_write(actor=actor, permission="qc.change_instrumentkey", reason=reason):
        key = InstrumentKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
    return key


def instrument_for_key(raw_key: str) -> tuple[Instrument, InstrumentKey] | None:
    """The instrument a presented key belongs to, or None (unknown, wrong or revoked)."""
    if not raw_key.startswith(KEY_PREFIX):
        return None
    prefix = raw_key[len(KEY_PREFIX) :].split("_", 1)[0]
    key = InstrumentKey.objects.select_related("instrument__user").filter(prefix=prefix).first()
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.key_hash, _key_hash(raw_key)):
        return None
    now = timezone.now()
    # Record use at most once a minute, so a busy instrument does not write on every request.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        InstrumentKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.instrument, key
