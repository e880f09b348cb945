"""Instruments and their API keys (qc/services/instruments.py), called directly."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from qc.models import Instrument, InstrumentKey
from qc.services import instruments
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


def register(actor, serial="FC-7", kind="flow_cytometer"):
    return instruments.instrument_register(
        actor=actor,
        name="Cytoflex",
        model="CytoFLEX S",
        serial_number=serial,
        location="QC lab 1",
        kind=kind,
        calibration_due=timezone.localdate() + timedelta(days=30),
    )


def test_register_gives_the_instrument_its_own_account(admin_user):
    register(admin_user)
    instrument = Instrument.objects.get(serial_number="FC-7")
    account = instrument.user
    assert account.username == "instrument-FC-7"
    assert not account.has_usable_password()
    assert list(account.groups.values_list("name", flat=True)) == ["instrument"]
    assert_trailed(instrument, actor=admin_user, reason="Instrument registered", label="insert")


@pytest.mark.parametrize(
    "serial, kind, field",
    [("VCB-0042", "cell_counter", "serial_number"), ("FC-7", "toaster", "kind")],
)
def test_register_refuses(admin_user, instrument, serial, kind, field):
    accounts = get_user_model().objects.count()
    with unchanged(instrument), pytest.raises(ValidationError) as exc:
        register(admin_user, serial, kind)
    assert field in exc.value.message_dict
    assert get_user_model().objects.count() == accounts


def test_register_is_administration(qa):
    with unchanged(), pytest.raises(PermissionDenied):
        register(qa)


# --- keys ---


def test_key_create_stores_only_a_keyed_hash(admin_user, instrument):
    key, raw = instruments.instrument_key_create(
        actor=admin_user, instrument=instrument, label="middleware"
    )
    key = InstrumentKey.objects.get(pk=key.pk)
    assert raw.startswith(f"ik_{key.prefix}_") and len(raw) > 40
    assert raw not in key.key_hash and len(key.key_hash) == 64
    assert key.revoked_at is None
    assert_trailed(key, actor=admin_user, reason="Key issued: middleware", label="insert")


def test_key_create_is_administration(technician, instrument):
    with unchanged(instrument), pytest.raises(PermissionDenied):
        instruments.instrument_key_create(actor=technician, instrument=instrument, label="x")


def test_key_revoke_once(admin_user, instrument, instrument_key):
    key = InstrumentKey.objects.get(instrument=instrument)
    instruments.instrument_key_revoke(actor=admin_user, key=key, reason="Laptop stolen")
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert_trailed(key, actor=admin_user, reason="Laptop stolen", label="update")
    with unchanged(key):
        instruments.instrument_key_revoke(actor=admin_user, key=key, reason="again")


def test_key_revoke_is_administration(qa, instrument, instrument_key):
    key = InstrumentKey.objects.get(instrument=instrument)
    with unchanged(key), pytest.raises(PermissionDenied):
        instruments.instrument_key_revoke(actor=qa, key=key, reason="r")


def test_instrument_for_key_finds_its_instrument_and_notes_use(instrument, instrument_key):
    pair = instruments.instrument_for_key(instrument_key)
    assert pair is not None
    found, key = pair
    assert found == instrument
    used = InstrumentKey.objects.get(pk=key.pk).last_used_at
    assert used is not None
    instruments.instrument_for_key(instrument_key)
    assert InstrumentKey.objects.get(pk=key.pk).last_used_at == used  # at most once a minute
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        instruments.instrument_for_key(instrument_key)
    used_again = InstrumentKey.objects.get(pk=key.pk).last_used_at
    assert used_again is not None and used_again > used


@pytest.mark.parametrize(
    "tamper",
    [
        lambda raw: raw[:-3] + "xyz",
        lambda raw: "ik_00000000_" + raw.split("_", 2)[2],
        lambda raw: raw.removeprefix("ik_"),
    ],
    ids=["wrong-secret", "unknown-prefix", "not-an-instrument-key"],
)
def test_instrument_for_key_refuses_a_wrong_key(instrument, instrument_key, tamper):
    assert instruments.instrument_for_key(tamper(instrument_key)) is None


def test_instrument_for_key_refuses_a_revoked_key(admin_user, instrument, instrument_key):
    key = InstrumentKey.objects.get(instrument=instrument)
    instruments.instrument_key_revoke(actor=admin_user, key=key, reason="r")
    assert instruments.instrument_for_key(instrument_key) is None
