"""The home page and the lot pages: counts by unit status, lots expiring soon, what each role
may see and register, and a lot's own fields."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.presenters.dashboard import EXPIRY_WARNING_DAYS, home_page, unit_counts
from batches.presenters.materials import expiring_lots, lot_details, lot_kinds_allowed
from tests.factories import CordBloodUnitFactory, ReagentLotFactory, VectorLotFactory

pytestmark = pytest.mark.django_db


def test_units_are_counted_by_status_in_the_statuses_order(db):
    CordBloodUnitFactory(status="available")
    CordBloodUnitFactory(status="available")
    CordBloodUnitFactory(status="quarantined")
    rows, total = unit_counts()
    counts = {row["status"]: row["count"] for row in rows}
    assert total == 3
    assert counts["available"] == 2 and counts["quarantined"] == 1
    assert counts["discarded"] == 0  # every status has a row
    assert rows[0]["status"] == "received" and rows[0]["label"]


def test_lots_expiring_within_the_window_soonest_first(db):
    today = timezone.localdate()
    later = VectorLotFactory(lot_number="RV-LATER", expiry_date=today + timedelta(days=20))
    sooner = ReagentLotFactory(lot_number="IL2-SOON", expiry_date=today + timedelta(days=3))
    VectorLotFactory(lot_number="RV-FAR", expiry_date=today + timedelta(days=90))
    VectorLotFactory(lot_number="RV-PAST", expiry_date=today - timedelta(days=1))
    ReagentLotFactory(
        lot_number="IL2-REJ", expiry_date=today + timedelta(days=5), status="rejected"
    )
    rows = expiring_lots(["vector", "feeder", "reagent"], today=today, within_days=30)
    assert [(row["kind"], row["lot"]) for row in rows] == [("reagent", sooner), ("vector", later)]
    assert expiring_lots(["feeder"], today=today, within_days=30) == []


def test_each_role_sees_what_it_may(technician, clinical):
    assert lot_kinds_allowed(technician, "add") == ["vector", "feeder", "reagent"]
    assert lot_kinds_allowed(clinical, "add") == []
    page = home_page(technician, today=timezone.localdate())
    assert page["can_register_unit"] and page["can_register_lot"]
    assert page["expiry_warning_days"] == EXPIRY_WARNING_DAYS
    assert page["unit_counts"] is not None and page["expiring_lots"] == []
    assert not home_page(clinical, today=timezone.localdate())["can_register_unit"]


def test_a_lot_shows_only_its_own_kind_of_fields(db):
    lot = VectorLotFactory(lot_number="RV-9", titer_iu_per_ml=2e7, rcr_result="negative")
    # The shared fields (number, dates, status...) are the page's header; a choice shows its
    # label.
    assert lot_details(lot) == [
        ("Construct", "iC9/CAR.19/IL15"),
        ("Titer (IU/mL)", 2e7),
        ("RCR result", "Negative"),
    ]
