"""The signed write (carnk_mfg.signatures.signed_write): permission, password before the
transaction, then the row lock, and only then the check of the state found under it. Two
requests at once on PostgreSQL: the second waits for the first and sees what it did."""

import threading
import time

import pytest
from django.db import connection, transaction

from batches.models import CordBloodUnit, VectorLot
from batches.services import donor, materials
from carnk_mfg.models import ElectronicSignature
from tests.factories import (
    PASSWORD,
    CordBloodUnitFactory,
    UserFactory,
    VectorLotFactory,
    certificate_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def race(first, second) -> dict:
    """Run `first` in a transaction that stays open until `second` (in another thread) is
    waiting for a row lock; then let `first` commit and `second` go on. Returns what each
    raised or returned."""
    outcome: dict = {}
    first_done, let_go = threading.Event(), threading.Event()

    def run_first():
        try:
            with transaction.atomic():
                outcome["first"] = first()
                first_done.set()
                assert let_go.wait(20)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcome["first"] = exc
            first_done.set()
        finally:
            connection.close()

    def run_second():
        assert first_done.wait(20)
        try:
            outcome["second"] = second()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcome["second"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while not _waiting_for_a_lock():
        assert time.monotonic() < deadline, "the second request never waited for the lock"
        time.sleep(0.02)
    let_go.set()
    for thread in threads:
        thread.join(30)
    return outcome


def api_post(user, url, body):
    """A request through the API, as from another browser (its own client and connection)."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
    return lambda: client.post(url, body, format="json")


def test_an_allocation_made_meanwhile_is_seen_under_the_lock(qa):
    """Before, eligibility read the unit's state, then locked it: a unit allocated in between
    went back to quarantined (or available) and lost its allocation."""
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    CordBloodUnit.objects.filter(pk=unit.pk).update(eligibility="eligible", status="available")
    clinician = UserFactory.create(username="clinic-race", role="clinical")
    outcome = race(
        lambda: donor.cord_blood_unit_allocate(actor=clinician, unit=unit, reason="Batch"),
        api_post(
            qa,
            f"/api/v1/donor-units/{unit.din}/eligibility/",
            {"eligibility": "ineligible", "notes": "Reactive", "password": PASSWORD},
        ),
    )
    assert isinstance(outcome["first"], CordBloodUnit)
    assert outcome["second"].status_code == 400, outcome["second"].content
    assert "can no longer change" in str(outcome["second"].json())
    unit.refresh_from_db()
    assert unit.status == "allocated" and unit.eligibility == "eligible"
    assert not ElectronicSignature.objects.filter(meaning="approved").exists()


def test_two_releases_of_one_lot_at_once_sign_once(qa):
    """Before, the lot's status was checked before the lock: both requests released it and
    two release signatures stood on one disposition."""
    lot = VectorLotFactory.create(status="quarantined")
    certificate_for(lot)
    qa2 = UserFactory.create(username="qa-two", role="qa")
    outcome = race(
        lambda: materials.material_lot_disposition(
            actor=qa,
            password=PASSWORD,
            lot=VectorLot.objects.get(pk=lot.pk),
            status="released",
            reason="CoA reviewed",
        ),
        api_post(
            qa2,
            f"/api/v1/vector-lots/{lot.lot_number}/disposition/",
            {"status": "released", "reason": "CoA reviewed", "password": PASSWORD},
        ),
    )
    assert isinstance(outcome["first"], VectorLot)
    assert outcome["second"].status_code == 400, outcome["second"].content
    assert "already released" in str(outcome["second"].json())
    assert ElectronicSignature.objects.filter(meaning="released").count() == 1


@pytest.mark.clause("21 CFR 11.200")
def test_a_signed_write_must_sign(qa):
    """The helper refuses to finish a block that forgot its signature: nothing is kept."""
    from carnk_mfg.signatures import signed_write

    unit = CordBloodUnitFactory.create()
    with pytest.raises(RuntimeError, match="without a signature"):
        with signed_write(
            actor=qa,
            password=PASSWORD,
            permission="batches.determine_eligibility",
            meaning="approved",
            label="forgetful",
        ):
            CordBloodUnit.objects.filter(pk=unit.pk).update(eligibility_notes="unsigned")
    unit.refresh_from_db()
    assert unit.eligibility_notes == ""
