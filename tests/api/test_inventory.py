"""Material stock through the API: the quantity a step draws, overdraw refused with 400, the
CoA upload (kept with its SHA-256) that release needs, adjustments, and a lot's recall with
the batches that used it."""

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from batches.models import ReagentLot
from tests.api.test_batch_record import post_step
from tests.batch_steps import step_payloads
from tests.factories import PASSWORD, ReagentLotFactory

pytestmark = pytest.mark.django_db


def thaw(client, batch, quantity):
    code, at, values, _materials = step_payloads(
        timezone.now() - timedelta(days=20), din=batch.source_unit.din
    )[0]
    materials = [{"kind": "reagent", "lot_number": "ISO-1", "quantity": quantity}]
    return post_step(client, batch, code, at, values, materials)


def test_a_step_draws_its_quantity_and_shows_it(api, technician, running_batch, lots):
    r = thaw(api.as_user(technician), running_batch, "25")
    assert r.status_code == 201, r.json()
    steps = api.get(f"/api/v1/batches/{running_batch.lot_number}/steps/").json()["results"]
    (use,) = steps[0]["materials"]
    assert (use["quantity"], use["unit"]) == ("25.000", "ml")
    lot = api.get("/api/v1/reagent-lots/ISO-1/").json()
    assert lot["quantity_on_hand"] == "975.000"


def test_overdraw_is_a_400_naming_the_lot(api, technician, running_batch, lots):
    ReagentLot.objects.filter(lot_number="ISO-1").update(quantity_on_hand=Decimal("2"))
    r = thaw(api.as_user(technician), running_batch, "3")
    assert r.status_code == 400
    assert "Reagent lot ISO-1 has 2 mL on hand" in r.json()["materials.0.quantity"][0]
    assert ReagentLot.objects.get(lot_number="ISO-1").quantity_on_hand == 2


def test_a_certificate_is_uploaded_kept_and_needed_for_release(api, technician, qa):
    ReagentLotFactory.create(lot_number="IL2-Q", status="quarantined")
    release = {"status": "released", "reason": "CoA reviewed", "password": PASSWORD}
    r = api.as_user(qa).post("/api/v1/reagent-lots/IL2-Q/disposition/", release, format="json")
    assert r.status_code == 400
    assert "no certificate of analysis" in r.json()["status"][0]
    data = b"%PDF-1.4 supplier CoA IL2-Q"
    r = api.as_user(technician).post(
        "/api/v1/reagent-lots/IL2-Q/certificates/",
        {"file": SimpleUploadedFile("IL2-Q.pdf", data, content_type="application/pdf")},
        format="multipart",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["sha256"] == hashlib.sha256(data).hexdigest()
    listed = api.get("/api/v1/reagent-lots/IL2-Q/certificates/").json()["results"]
    assert [c["filename"] for c in listed] == ["IL2-Q.pdf"]
    download = api.get(f"/api/v1/reagent-lots/IL2-Q/certificates/{r.json()['id']}/")
    assert download.status_code == 200
    assert download.content == data
    r = api.as_user(qa).post("/api/v1/reagent-lots/IL2-Q/disposition/", release, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "released"


def test_an_adjustment_through_the_api(api, technician, lots):
    r = api.as_user(technician).post(
        "/api/v1/reagent-lots/IL2-1/adjustments/",
        {"adjustment_kind": "breakage", "change": "-10", "reason": "Vial dropped"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["on_hand_after"] == "990.000"
    r = api.post(
        "/api/v1/reagent-lots/IL2-1/adjustments/",
        {"adjustment_kind": "count", "change": "-5000", "reason": "Recount"},
        format="json",
    )
    assert r.status_code == 400
    assert "990 mL on hand" in r.json()["change"][0]
    rows = api.get("/api/v1/reagent-lots/IL2-1/adjustments/").json()["results"]
    assert [row["change"] for row in rows] == ["-10.000"]


def test_lot_recall_lists_its_batches(api, technician, qa, running_batch, lots):
    """Acceptance, through the API: QA's signed recall, then the batches that used the lot."""
    assert thaw(api.as_user(technician), running_batch, "5").status_code == 201
    r = api.as_user(qa).post(
        "/api/v1/reagent-lots/ISO-1/recall/",
        {"reason": "Supplier recall", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert (r.json()["status"], r.json()["usable"]) == ("recalled", False)
    rows = api.get("/api/v1/reagent-lots/ISO-1/batches/").json()["results"]
    assert [(u["batch_lot_number"], u["step_order"], u["quantity_used"]) for u in rows] == [
        (running_batch.lot_number, 1, "5.000")
    ]
    assert rows[0]["batch_state"] == "in_process"
    r = api.post(
        "/api/v1/reagent-lots/ISO-1/recall/",
        {"reason": "again", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 400
