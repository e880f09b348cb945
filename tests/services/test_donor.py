"""Cord blood units: registration, storage moves, eligibility, allocation, discard
(batches/services/donor.py), called directly."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from batches.models import CordBloodUnit, UrgentMedicalNeed
from batches.services import donor
from carnk_mfg.signatures import signature_intact, signatures_for
from tests.factories import PASSWORD, CordBloodUnitFactory, check_char, make_din
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db

DIN = make_din(901)
WRONG_CHECK = next(c for c in "0123456789" if c != check_char(DIN))


# --- registration ---


def register(actor, **overrides):
    din = overrides.pop("din", DIN)
    now = timezone.now()
    fields = {
        "actor": actor,
        "password": PASSWORD,
        "din": din,
        "check_character": overrides.pop("check_character", None) or check_char(din),
        "product_code": "S1145V00",
        "source_bank": "Bank",
        "collected_at": now - timedelta(days=3),
        "cryopreserved_at": now - timedelta(days=3) + timedelta(hours=5),
        "volume_ml": Decimal("20"),
        "tnc_count": 1e9,
        "cd34_count": 1e6,
        "nrbc_count": 1e7,
        "viability_pct": Decimal("90"),
        "freezer": "F",
        "rack": "R",
        "box": "B",
        "position": "P",
    }
    return donor.cord_blood_unit_register(**{**fields, **overrides})


def test_register_saves_a_received_unit_signed_and_trailed(technician):
    unit = register(technician)
    saved = CordBloodUnit.objects.get(din=DIN)
    assert saved.pk == unit.pk
    assert (saved.status, saved.eligibility, saved.registered_by) == (
        "received",
        "pending",
        technician,
    )
    (signature,) = signatures_for(saved)
    assert (signature.meaning, signature.attests, signature.signer) == (
        "performed",
        "unit_registration",
        technician,
    )
    assert signature_intact(signature, saved)
    assert_trailed(
        saved, actor=technician, reason="Cord blood unit received and registered", label="insert"
    )


def _day(days):
    return timezone.now() + timedelta(days=days)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"check_character": WRONG_CHECK}, "check_character"),
        ({"din": "not-a-din", "check_character": "A"}, "din"),
        ({"viability_pct": Decimal("101")}, "viability_pct"),
        ({"volume_ml": Decimal("0")}, "volume_ml"),
        ({"collected_at": _day(2), "cryopreserved_at": _day(3)}, "collected_at"),
        ({"cryopreserved_at": _day(-10)}, "cryopreserved_at"),
    ],
    ids=["check-character", "din-form", "viability", "volume", "future", "cryo-first"],
)
def test_register_refuses_a_wrong_unit(technician, overrides, field):
    with unchanged(), pytest.raises(ValidationError) as exc:
        register(technician, **overrides)
    assert field in exc.value.message_dict


def test_register_refuses_a_din_already_registered(technician):
    CordBloodUnitFactory.create(din=DIN)
    with unchanged(), pytest.raises(ValidationError, match="already registered"):
        register(technician)


def test_register_needs_the_technicians_permission(qa):
    with unchanged(), pytest.raises(PermissionDenied):
        register(qa)


def test_register_refuses_a_wrong_password(technician):
    with unchanged(signing_failures=1), pytest.raises(ValidationError) as exc:
        register(technician, password="wrong")
    assert "password" in exc.value.message_dict


# --- storage ---


def move(actor, unit, reason="Freezer LN2-01 defrost"):
    return donor.cord_blood_unit_move(
        actor=actor, unit=unit, freezer="LN2-09", rack="R1", box="B2", position="C3", reason=reason
    )


def test_move_changes_the_location_and_trails_why(technician):
    unit = CordBloodUnitFactory.create()
    move(technician, unit)
    unit.refresh_from_db()
    assert unit.storage_location == "LN2-09 / rack R1 / box B2 / C3"
    assert_trailed(unit, actor=technician, reason="Freezer LN2-01 defrost", label="update")


@pytest.mark.parametrize("status", ["consumed", "discarded"])
def test_move_refuses_a_unit_no_longer_stored(technician, status):
    unit = CordBloodUnitFactory.create(status=status)
    with unchanged(unit), pytest.raises(ValidationError, match="no storage location"):
        move(technician, unit)


def test_move_needs_a_reason(technician):
    unit = CordBloodUnitFactory.create()
    with unchanged(unit), pytest.raises(ValidationError) as exc:
        move(technician, unit, reason=" ")
    assert "reason" in exc.value.message_dict


def test_move_needs_the_store_permission(qa):
    unit = CordBloodUnitFactory.create()
    with unchanged(unit), pytest.raises(PermissionDenied):
        move(qa, unit)


# --- eligibility ---


def determine(actor, unit, eligibility="eligible", notes="", password=PASSWORD):
    return donor.cord_blood_unit_determine_eligibility(
        actor=actor, password=password, unit=unit, eligibility=eligibility, notes=notes
    )


def pending_unit():
    return CordBloodUnitFactory.create(eligibility="pending", status="received")


@pytest.mark.clause("21 CFR 1271.50", "21 CFR 1271.60")
@pytest.mark.parametrize(
    "eligibility, notes, status",
    [
        ("eligible", "", "available"),
        ("ineligible", "HIV reactive", "quarantined"),
        ("incomplete", "HBsAg not tested", "quarantined"),
    ],
)
def test_eligibility_sets_the_status_signed_and_trailed(qa, eligibility, notes, status):
    unit = determine(qa, pending_unit(), eligibility, notes)
    unit.refresh_from_db()
    assert (unit.eligibility, unit.status, unit.eligibility_notes) == (eligibility, status, notes)
    assert unit.eligibility_determined_by == qa
    (signature,) = signatures_for(unit)
    assert (signature.meaning, signature.attests) == ("approved", "eligibility")
    assert_trailed(unit, actor=qa, reason=f"Donor eligibility determined: {eligibility}")


@pytest.mark.clause("21 CFR 1271.50")
@pytest.mark.parametrize(
    "eligibility, notes, field",
    [("pending", "", "eligibility"), ("ineligible", "  ", "notes")],
)
def test_eligibility_refuses_an_undecided_or_unexplained_determination(
    qa, eligibility, notes, field
):
    unit = pending_unit()
    with unchanged(unit), pytest.raises(ValidationError) as exc:
        determine(qa, unit, eligibility, notes)
    assert field in exc.value.message_dict


@pytest.mark.parametrize("status", ["allocated", "consumed", "discarded"])
def test_eligibility_is_closed_once_the_unit_is_used(qa, status):
    unit = CordBloodUnitFactory.create(status=status)
    with unchanged(unit), pytest.raises(ValidationError, match="can no longer change"):
        determine(qa, unit, "ineligible", "late result")


@pytest.mark.clause("21 CFR 1271.50", "21 CFR 11.10(g)")
def test_eligibility_is_qas(technician):
    unit = pending_unit()
    with unchanged(unit), pytest.raises(PermissionDenied):
        determine(technician, unit)


def test_eligibility_refuses_a_wrong_password(qa):
    unit = pending_unit()
    with unchanged(unit, signing_failures=1), pytest.raises(ValidationError) as exc:
        determine(qa, unit, password="wrong")
    assert "password" in exc.value.message_dict


# --- allocation ---


def test_allocate_an_eligible_unit(clinical):
    unit = CordBloodUnitFactory.create()
    donor.cord_blood_unit_allocate(actor=clinical, unit=unit, reason="For CARNK-001")
    unit.refresh_from_db()
    assert unit.status == "allocated" and unit.urgent_medical_need is None
    assert_trailed(unit, actor=clinical, reason="For CARNK-001")


@pytest.mark.clause("21 CFR 1271.65")
def test_allocate_an_ineligible_unit_records_the_urgent_need(clinical):
    unit = CordBloodUnitFactory.create(eligibility="ineligible", status="quarantined")
    donor.cord_blood_unit_allocate(
        actor=clinical,
        unit=unit,
        reason="No other match",
        urgent_need_justification="No HLA-matched alternative",
        urgent_need_physician="Dr Rezvani",
    )
    unit.refresh_from_db()
    need = UrgentMedicalNeed.objects.get(unit=unit)
    assert unit.status == "allocated" and unit.urgent_medical_need == need
    assert (need.physician, need.recorded_by) == ("Dr Rezvani", clinical)
    assert_trailed(need, actor=clinical, reason="No other match", label="insert")


@pytest.mark.clause("21 CFR 1271.60", "21 CFR 1271.65")
@pytest.mark.parametrize(
    "eligibility, status, justification, physician, field",
    [
        ("pending", "received", "", "", "eligibility"),
        ("eligible", "discarded", "", "", "status"),
        ("ineligible", "quarantined", "", "Dr R", "urgent_need_justification"),
        ("incomplete", "quarantined", "No match", " ", "urgent_need_physician"),
    ],
    ids=["pending", "discarded", "no-justification", "no-physician"],
)
def test_allocate_refuses(clinical, eligibility, status, justification, physician, field):
    unit = CordBloodUnitFactory.create(eligibility=eligibility, status=status)
    with unchanged(unit), pytest.raises(ValidationError) as exc:
        donor.cord_blood_unit_allocate(
            actor=clinical,
            unit=unit,
            reason="r",
            urgent_need_justification=justification,
            urgent_need_physician=physician,
        )
    assert field in exc.value.message_dict


def test_allocate_needs_the_permission(technician):
    unit = CordBloodUnitFactory.create()
    with unchanged(unit), pytest.raises(PermissionDenied):
        donor.cord_blood_unit_allocate(actor=technician, unit=unit, reason="r")


def test_allocate_locked_unit_lets_a_technician_take_an_eligible_unit(technician):
    """Batch planning allocates through this rule: an eligible unit needs no medical say."""
    unit = CordBloodUnitFactory.create()
    with transaction.atomic():
        allocated = donor.allocate_locked_unit(actor=technician, unit=unit)
    assert allocated.status == "allocated"
    assert CordBloodUnit.objects.get(pk=unit.pk).status == "allocated"


@pytest.mark.clause("21 CFR 1271.60", "21 CFR 1271.65")
def test_allocate_locked_unit_keeps_an_ineligible_unit_a_medical_decision(technician):
    unit = CordBloodUnitFactory.create(eligibility="incomplete", status="quarantined")
    with unchanged(unit), pytest.raises(PermissionDenied):
        donor.allocate_locked_unit(
            actor=technician, unit=unit, justification="No match", physician="Dr R"
        )


# --- discard ---


def test_discard(qa):
    unit = CordBloodUnitFactory.create()
    donor.cord_blood_unit_discard(actor=qa, unit=unit, reason="Bag cracked")
    unit.refresh_from_db()
    assert unit.status == "discarded"
    assert_trailed(unit, actor=qa, reason="Bag cracked", label="update")


@pytest.mark.parametrize("status", ["consumed", "discarded"])
def test_discard_refuses_a_unit_already_gone(qa, status):
    unit = CordBloodUnitFactory.create(status=status)
    with unchanged(unit), pytest.raises(ValidationError, match="already"):
        donor.cord_blood_unit_discard(actor=qa, unit=unit, reason="r")


def test_discard_is_qas(technician):
    unit = CordBloodUnitFactory.create()
    with unchanged(unit), pytest.raises(PermissionDenied):
        donor.cord_blood_unit_discard(actor=technician, unit=unit, reason="r")


# --- registration: the ISBT 128 product code ---


def test_register_refuses_a_product_code_not_isbt128(technician):
    with unchanged(), pytest.raises(ValidationError) as exc:
        register(technician, product_code="ABC")
    assert "product_code" in exc.value.message_dict
