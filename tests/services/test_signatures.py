"""Electronic signatures (carnk_mfg/signatures.py), called directly: what a signature
attests, the password check, the signed write, and reading signatures back."""

import hashlib
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from batches.models import CordBloodUnit, DonorTest
from batches.services import donor
from batches.services.materials import material_lot_disposition
from carnk_mfg import signatures
from carnk_mfg.models import ElectronicSignature, SignatureFailure
from carnk_mfg.sign_in import SIGNING_LOCKED
from tests.factories import PASSWORD, CordBloodUnitFactory, ReagentLotFactory, certificate_for
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


# --- what a signature attests ---


def test_attestation_registers_a_name_once():
    def first(record):
        return {"a": 1}

    def second(record):
        return {"b": 2}

    name = f"service-test-{uuid.uuid4()}"
    assert signatures.attestation(name)(first) is first
    assert signatures.attestation(name)(first) is first  # the same function again is fine
    with pytest.raises(ValueError, match="defined twice"):
        signatures.attestation(name)(second)
    assert signatures.attested_content(Group(name="any record"), name) == {"a": 1}


def test_attested_content_of_an_unknown_name():
    with pytest.raises(ValueError, match="No attestation 'nothing-such'"):
        signatures.attested_content(Group(name="any record"), "nothing-such")


def test_canonical_is_sorted_json_values():
    found = signatures.canonical(
        {"b": Decimal("1.50"), "a": date(2026, 1, 2), "c": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)}
    )
    assert found == {"a": "2026-01-02", "b": "1.50", "c": "2026-01-02T03:04:00Z"}
    assert list(found) == ["a", "b", "c"]


def test_fields_of_takes_foreign_keys_by_id(db):
    unit = CordBloodUnitFactory.create()
    assert signatures.fields_of(unit, ["din", "registered_by"]) == {
        "din": unit.din,
        "registered_by_id": unit.registered_by_id,
    }


def test_record_content_is_every_concrete_field(db):
    lot = ReagentLotFactory.create()
    content = signatures.record_content(lot)
    assert set(content) == {f.attname for f in lot._meta.concrete_fields}
    assert content["lot_number"] == lot.lot_number


def test_content_sha256_covers_the_content_and_the_record():
    content = {"status": "released"}
    expected = hashlib.sha256(
        json.dumps({"record": "x:1", "content": content}, sort_keys=True).encode()
    ).hexdigest()
    assert signatures.content_sha256(content, label="x:1") == expected
    assert signatures.content_sha256(content, label="x:2") != expected
    assert signatures.content_sha256({"status": "rejected"}, label="x:1") != expected


# --- the password ---


def authenticate(signer, password, request=None):
    return signatures.signature_authenticate(
        signer=signer, password=password, meaning="approved", record_label="Lot X", request=request
    )


def test_authenticate_the_signers_own_password(qa):
    assert authenticate(qa, PASSWORD) is None
    assert not SignatureFailure.objects.exists()


@pytest.mark.parametrize("password", ["wrong", ""])
def test_authenticate_refuses_and_records_the_attempt(qa, password):
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "10.1.2.3"
    with pytest.raises(ValidationError) as exc:
        authenticate(qa, password, request)
    assert exc.value.message_dict["password"] == [signatures.WRONG_PASSWORD]
    failure = SignatureFailure.objects.get()
    assert (failure.user, failure.meaning, failure.record_label) == (qa, "approved", "Lot X")
    assert (failure.cause, failure.ip_address) == (signatures.WRONG_PASSWORD, "10.1.2.3")


def test_authenticate_refuses_a_locked_account_even_the_right_password(qa, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        with pytest.raises(ValidationError):
            authenticate(qa, "wrong")
    with pytest.raises(ValidationError) as exc:
        authenticate(qa, PASSWORD)
    assert exc.value.message_dict["password"] == [SIGNING_LOCKED]
    assert SignatureFailure.objects.filter(cause=SIGNING_LOCKED).count() == 1


# --- the signed write ---


def signed(actor, password=PASSWORD, meaning="reviewed", permission="batches.store_cordbloodunit"):
    return signatures.signed_write(
        actor=actor,
        password=password,
        permission=permission,
        meaning=meaning,
        label="Unit moved",
        reason="Storage audit",
    )


def test_signed_write_signs_what_the_block_wrote(technician):
    unit = CordBloodUnitFactory.create()
    with signed(technician) as signing:
        CordBloodUnit.objects.filter(pk=unit.pk).update(freezer="LN2-09")
        signature = signing.sign(unit, comment="checked")
    signature = ElectronicSignature.objects.get(pk=signature.pk)
    assert (signature.signer, signature.meaning, signature.comment) == (
        technician,
        "reviewed",
        "checked",
    )
    assert (signature.record_label, signature.record_content["freezer"]) == ("Unit moved", "LN2-09")
    assert signatures.signature_intact(signature, CordBloodUnit.objects.get(pk=unit.pk))
    assert_trailed(unit, actor=technician, reason="Storage audit", label="update")


def test_signed_write_refuses_an_unknown_meaning_first(technician):
    with unchanged(), pytest.raises(ValueError, match="Unknown signature meaning"):
        with signed(technician, meaning="liked"):
            pass


def test_signed_write_asks_permission_before_the_password(qa):
    """No permission: refused without a signing attempt being counted."""
    with unchanged(), pytest.raises(PermissionDenied):
        with signed(qa, password="wrong"):
            pass


def test_signed_write_refuses_a_wrong_password_before_the_block(technician):
    ran = []
    with unchanged(signing_failures=1), pytest.raises(ValidationError):
        with signed(technician, password="wrong"):
            ran.append(True)
    assert ran == []


def test_signed_write_keeps_nothing_the_block_refused(technician):
    unit = CordBloodUnitFactory.create()
    with unchanged(unit), pytest.raises(ValidationError, match="found under the lock"):
        with signed(technician) as signing:
            CordBloodUnit.objects.filter(pk=unit.pk).update(freezer="LN2-09")
            signing.sign(unit)
            raise ValidationError("found under the lock")


# --- reading signatures back ---


def determine(qa, unit):
    return donor.cord_blood_unit_determine_eligibility(
        actor=qa, password=PASSWORD, unit=unit, eligibility="eligible", notes=""
    )


def test_signature_intact_and_changes_see_only_what_was_attested(qa):
    unit = determine(qa, CordBloodUnitFactory.create(eligibility="pending", status="received"))
    (signature,) = signatures.signatures_for(unit)
    CordBloodUnit.objects.filter(pk=unit.pk).update(freezer="LN2-09", status="allocated")
    unit.refresh_from_db()
    assert signatures.signature_intact(signature, unit)
    assert signatures.signature_changes(signature, unit) == []
    DonorTest.objects.filter(unit=unit, marker="hbsag").update(result="reactive")
    assert not signatures.signature_intact(signature, unit)
    assert signatures.signature_changes(signature, unit) == ["donor_tests"]


def test_signatures_for_several_records_oldest_first(qa):
    first = determine(qa, CordBloodUnitFactory.create(eligibility="pending", status="received"))
    lot = ReagentLotFactory.create(status="quarantined")
    certificate_for(lot)
    material_lot_disposition(actor=qa, password=PASSWORD, lot=lot, status="released", reason="ok")
    determine(qa, CordBloodUnitFactory.create(eligibility="pending", status="received"))
    found = list(signatures.signatures_for(first, lot))
    assert [(s.object_id, s.meaning) for s in found] == [
        (str(first.pk), "approved"),
        (str(lot.pk), "released"),
    ]
    assert signatures.signatures_for().count() == 0
