"""Material lots: the usability rule, registration, QA disposition and quarantine
(batches/services/materials.py), called directly."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import FeederLot, ReagentLot, VectorLot
from batches.services import materials
from carnk_mfg.signatures import signatures_for
from tests.factories import (
    PASSWORD,
    FeederLotFactory,
    ReagentLotFactory,
    VectorLotFactory,
    certificate_for,
)
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


def today(days=0):
    return timezone.localdate() + timedelta(days=days)


# --- usability: the one rule ---


@pytest.mark.parametrize(
    "factory, fields, usable, because",
    [
        (ReagentLotFactory, {}, True, ""),
        (ReagentLotFactory, {"status": "quarantined"}, False, "is quarantined, not released"),
        (FeederLotFactory, {"status": "rejected"}, False, "is rejected, not released"),
        (ReagentLotFactory, {"expiry_date": today(-1)}, False, "expired on"),
        (ReagentLotFactory, {"expiry_date": today()}, True, ""),
        (VectorLotFactory, {"rcr_result": "pending"}, False, "no negative RCR result (pending)"),
        (VectorLotFactory, {"rcr_result": "positive"}, False, "no negative RCR result"),
        (VectorLotFactory, {}, True, ""),
    ],
)
def test_lot_usability(factory, fields, usable, because):
    found = materials.lot_usability(factory(**fields))
    assert bool(found) is usable
    assert because in found.reason if because else found.reason == ""


def test_lot_usability_on_a_given_day():
    lot = ReagentLotFactory.create(expiry_date=today(5))
    assert materials.lot_usability(lot, on=today(5))
    assert "expired" in materials.lot_usability(lot, on=today(6)).reason


# --- registration ---


def register(actor, kind="reagent", **fields):
    base = {
        "reagent": {"reagent": "il2"},
        "feeder": {"irradiation_dose_gy": 100, "irradiated_on": today(-2)},
        "vector": {"titer_iu_per_ml": 1e7},
    }.get(kind, {})
    common = {
        "lot_number": "LOT-1",
        "manufacturer": "Clinigen",
        "received_on": today(),
        "expiry_date": today(90),
        "quantity_received": Decimal("50"),
        "unit": "ml",
    }
    return materials.material_lot_register(actor=actor, kind=kind, **{**common, **base, **fields})


@pytest.mark.parametrize(
    "kind, model", [("reagent", ReagentLot), ("feeder", FeederLot), ("vector", VectorLot)]
)
def test_register_starts_a_lot_quarantined_and_trails_it(technician, kind, model):
    register(technician, kind)
    lot = model.objects.get(lot_number="LOT-1")
    assert (lot.status, lot.registered_by) == ("quarantined", technician)
    assert_trailed(lot, actor=technician, reason="Material lot received", label="insert")


@pytest.mark.parametrize(
    "kind, fields, field",
    [
        ("blood", {}, "kind"),
        ("reagent", {"received_on": today(1), "expiry_date": today(90)}, "received_on"),
        ("reagent", {"received_on": today(-5), "expiry_date": today(-6)}, "expiry_date"),
        ("vector", {"titer_iu_per_ml": 0}, "titer_iu_per_ml"),
        ("reagent", {"reagent": "plasma"}, "reagent"),
    ],
    ids=["kind", "received-in-future", "expires-before-received", "titer", "reagent"],
)
def test_register_refuses(technician, kind, fields, field):
    with unchanged(), pytest.raises(ValidationError) as exc:
        register(technician, kind, **fields)
    assert field in exc.value.message_dict


def test_register_refuses_a_lot_number_taken(technician):
    lot = ReagentLotFactory.create(lot_number="LOT-1")
    with unchanged(lot), pytest.raises(ValidationError) as exc:
        register(technician)
    assert "lot_number" in exc.value.message_dict


def test_register_is_the_technicians(qa):
    with unchanged(), pytest.raises(PermissionDenied):
        register(qa)


# --- disposition (signed) ---


def disposition(actor, lot, status="released", reason="CoA reviewed", password=PASSWORD):
    return materials.material_lot_disposition(
        actor=actor, password=password, lot=lot, status=status, reason=reason
    )


@pytest.mark.parametrize("status, meaning", [("released", "released"), ("rejected", "rejected")])
def test_disposition_sets_the_status_signed_and_trailed(qa, status, meaning):
    lot = ReagentLotFactory.create(status="quarantined")
    certificate_for(lot)
    disposition(qa, lot, status)
    lot.refresh_from_db()
    assert (lot.status, lot.status_reason, lot.dispositioned_by) == (status, "CoA reviewed", qa)
    (signature,) = signatures_for(lot)
    assert (signature.meaning, signature.comment) == (meaning, "CoA reviewed")
    assert_trailed(lot, actor=qa, reason="CoA reviewed", label="update")


def test_disposition_back_to_quarantine_is_a_review_signature(qa):
    lot = ReagentLotFactory.create()
    disposition(qa, lot, "quarantined", "Supplier notice")
    (signature,) = signatures_for(lot)
    assert signature.meaning == "reviewed"


@pytest.mark.parametrize(
    "lot_fields, status, message",
    [
        ({"status": "quarantined"}, "approved", "Choose released"),
        ({"status": "released"}, "released", "already released"),
    ],
)
def test_disposition_refuses(qa, lot_fields, status, message):
    lot = ReagentLotFactory.create(**lot_fields)
    with unchanged(lot), pytest.raises(ValidationError, match=message):
        disposition(qa, lot, status)


@pytest.mark.parametrize("rcr", ["pending", "positive"])
def test_disposition_releases_a_vector_only_rcr_negative(qa, rcr):
    lot = VectorLotFactory.create(status="quarantined", rcr_result=rcr)
    with unchanged(lot), pytest.raises(ValidationError, match="negative RCR"):
        disposition(qa, lot)


def test_disposition_is_qas(technician):
    lot = ReagentLotFactory.create(status="quarantined")
    with unchanged(lot), pytest.raises(PermissionDenied):
        disposition(technician, lot)


def test_disposition_refuses_a_wrong_password(qa):
    lot = ReagentLotFactory.create(status="quarantined")
    with unchanged(lot, signing_failures=1), pytest.raises(ValidationError) as exc:
        disposition(qa, lot, password="wrong")
    assert "password" in exc.value.message_dict


# --- quarantine (unsigned hold) ---


def test_quarantine_holds_a_released_lot_at_once(qa):
    lot = FeederLotFactory.create()
    materials.material_lot_quarantine(actor=qa, lot=lot, reason="Supplier recall 2026-14")
    lot.refresh_from_db()
    assert (lot.status, lot.status_reason) == ("quarantined", "Supplier recall 2026-14")
    assert not signatures_for(lot).exists()
    assert not materials.lot_usability(lot)
    assert_trailed(lot, actor=qa, reason="Supplier recall 2026-14", label="update")


def test_quarantine_refuses_a_lot_already_held(qa):
    lot = FeederLotFactory.create(status="quarantined")
    with unchanged(lot), pytest.raises(ValidationError, match="already quarantined"):
        materials.material_lot_quarantine(actor=qa, lot=lot, reason="r")


def test_quarantine_is_qas(technician):
    lot = FeederLotFactory.create()
    with unchanged(lot), pytest.raises(PermissionDenied):
        materials.material_lot_quarantine(actor=technician, lot=lot, reason="r")
