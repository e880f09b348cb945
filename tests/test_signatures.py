"""E-signatures: password re-entry, meaning, content hash, refusal recorded, lockout."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.utils.html import escape

from batches.services import donor
from carnk_mfg.models import ElectronicSignature, SignatureFailure
from carnk_mfg.sign_in import SIGNING_LOCKED
from carnk_mfg.signatures import signature_intact, signatures_for
from tests.factories import PASSWORD, CordBloodUnitFactory

pytestmark = pytest.mark.django_db


def determine(qa, unit, password=PASSWORD):
    return donor.cord_blood_unit_determine_eligibility(
        actor=qa, password=password, unit=unit, eligibility="eligible", notes=""
    )


@pytest.mark.clause("21 CFR 11.50", "21 CFR 11.70")
def test_signature_holds_printed_name_time_meaning_and_content_hash(qa):
    unit = determine(qa, CordBloodUnitFactory.create(eligibility="pending", status="received"))
    (sig,) = signatures_for(unit)
    assert sig.printed_name == qa.get_full_name()
    assert sig.meaning == "approved"
    assert sig.signed_at is not None
    assert len(sig.record_sha256) == 64
    assert sig.record_content["eligibility"] == "eligible"
    assert signature_intact(sig, unit)


def test_moving_or_allocating_the_unit_does_not_cry_wolf(qa, technician):
    """The eligibility signature attests the determination, not where the unit is stored or
    whether it was later allocated."""
    unit = determine(qa, CordBloodUnitFactory.create(eligibility="pending", status="received"))
    donor.cord_blood_unit_move(
        actor=technician, unit=unit, freezer="F2", rack="1", box="2", position="3", reason="move"
    )
    donor.cord_blood_unit_allocate(actor=qa, unit=unit, reason="For batch planning")
    unit.refresh_from_db()
    assert unit.status == "allocated"
    (sig,) = signatures_for(unit)
    assert sig.attests == "eligibility"
    assert signature_intact(sig, unit)


def test_a_change_to_what_eligibility_rests_on_shows(qa):
    from batches.models import DonorTest

    unit = determine(qa, CordBloodUnitFactory.create(eligibility="pending", status="received"))
    DonorTest.objects.filter(unit=unit, marker="hcv_ab").update(result="reactive")
    (sig,) = signatures_for(unit)
    assert not signature_intact(sig, unit)


@pytest.mark.clause("21 CFR 11.200")
def test_wrong_password_is_refused_recorded_and_changes_nothing(qa):
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    with pytest.raises(ValidationError) as exc:
        determine(qa, unit, password="not-my-password")
    assert "password is not correct" in exc.value.message_dict["password"][0]
    unit.refresh_from_db()
    assert unit.eligibility == "pending"
    assert ElectronicSignature.objects.count() == 0
    failure = SignatureFailure.objects.get()
    assert failure.username == qa.username
    assert "cord blood unit" in failure.record_label.lower()


@pytest.mark.clause("21 CFR 11.200")
def test_wrong_signing_passwords_lock_signing_but_not_signing_in(qa, settings, client):
    settings.AXES_FAILURE_LIMIT = 3
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    for _ in range(3):
        with pytest.raises(ValidationError):
            determine(qa, unit, password="wrong")
    # Now even the right password is refused for signing; signing in still works.
    with pytest.raises(ValidationError) as exc:
        determine(qa, unit)
    assert exc.value.message_dict["password"] == [SIGNING_LOCKED]
    response = client.post("/accounts/login/", {"username": qa.username, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.clause("21 CFR 11.200")
def test_empty_password_is_refused(qa):
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    with pytest.raises(ValidationError):
        determine(qa, unit, password="")


def test_each_lockout_says_what_is_locked(qa, rf):
    from carnk_mfg.sign_in import LOGIN_LOCKED, locked_out, signing_credentials

    login = locked_out(rf.post("/accounts/login/"), credentials={"username": qa.username})
    assert login.status_code == 403 and escape(LOGIN_LOCKED) in login.content.decode()
    api = locked_out(rf.post("/api/v1/auth/token/"), credentials={"username": qa.username})
    assert api.status_code == 403 and json.loads(api.content) == {"detail": LOGIN_LOCKED}
    signing = locked_out(rf.post("/api/v1/units/"), credentials=signing_credentials(qa))
    assert json.loads(signing.content) == {"detail": SIGNING_LOCKED}
