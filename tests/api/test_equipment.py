"""The equipment API: register, status, calibrations with their certificate's SHA-256,
failures with their impact, feeder irradiations; uncalibrated equipment scanned on a step is
a 400 naming it, and nothing is recorded."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from batches.models import EquipmentStatus, ExecutedStep
from tests.batch_steps import step_payloads
from tests.factories import PASSWORD, EquipmentFactory, FeederLotFactory

pytestmark = pytest.mark.django_db


def day(offset=0):
    return str(timezone.localdate() + timedelta(days=offset))


def test_uncalibrated_equipment_refused_by_the_step_api_with_400(
    api, technician, running_batch, lots
):
    EquipmentFactory.create(identifier="BSC-09", calibrated=False)
    code, at, values, materials = step_payloads(
        timezone.now() - timedelta(days=1), din=running_batch.source_unit.din
    )[0]
    r = api.as_user(technician).post(
        f"/api/v1/batches/{running_batch.lot_number}/steps/",
        {
            "step": code,
            "performed_at": at.isoformat(),
            "values": values,
            "materials": materials,
            "equipment": ["BSC-09"],
            "password": PASSWORD,
        },
        format="json",
    )
    assert r.status_code == 400, r.content
    assert r.json()["equipment.0"] == ["Biosafety cabinet BSC-09 has no calibration on record."]
    assert not ExecutedStep.objects.filter(batch=running_batch).exists()


def test_register_calibrate_and_list_equipment(api, qa, technician):
    r = api.as_user(qa).post(
        "/api/v1/equipment/",
        {"identifier": "CEN-05", "name": "Centrifuge", "kind": "centrifuge"},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert (r.json()["usable"], r.json()["refusal"]) == (
        False,
        "Centrifuge CEN-05 has no calibration on record.",
    )
    pdf = b"%PDF calibration"
    r = api.as_user(technician).post(
        "/api/v1/equipment/CEN-05/calibrations/",
        {
            "performed_on": day(-1),
            "next_due_on": day(364),
            "performed_by": "Metrology Ltd",
            "certificate": SimpleUploadedFile("cert.pdf", pdf),
        },
        format="multipart",
    )
    assert r.status_code == 201, r.content
    assert r.json()["certificate_sha256"] == hashlib.sha256(pdf).hexdigest()
    r = api.as_user(technician).get("/api/v1/equipment/CEN-05/")
    assert (r.json()["usable"], r.json()["calibration_due_on"]) == (True, day(364))
    r = api.as_user(technician).post(
        "/api/v1/equipment/CEN-05/calibrations/",
        {"performed_on": day(-1), "next_due_on": day(-2), "performed_by": "x"},
        format="multipart",
    )
    assert r.status_code == 400 and "next_due_on" in r.json()


def test_status_change_needs_a_reason_and_qa(api, qa, technician):
    EquipmentFactory.create(identifier="INC-04", kind="incubator")
    url = "/api/v1/equipment/INC-04/status/"
    body = {"status": "quarantined", "reason": "Temperature alarm"}
    assert api.as_user(technician).post(url, body, format="json").status_code == 403
    assert api.as_user(qa).post(url, {**body, "reason": ""}, format="json").status_code == 400
    r = api.as_user(qa).post(url, body, format="json")
    assert r.status_code == 200 and r.json()["status"] == EquipmentStatus.QUARANTINED


def test_a_failure_returns_its_impact(api, technician, running_batch, lots):
    EquipmentFactory.create(identifier="BSC-01")
    code, at, values, materials = step_payloads(
        timezone.now() - timedelta(days=2), din=running_batch.source_unit.din
    )[0]
    r = api.as_user(technician).post(
        f"/api/v1/batches/{running_batch.lot_number}/steps/",
        {
            "step": code,
            "performed_at": at.isoformat(),
            "values": values,
            "materials": materials,
            "equipment": ["BSC-01"],
            "password": PASSWORD,
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    r = api.as_user(technician).post(
        "/api/v1/equipment/BSC-01/failures/",
        {"found_on": day(), "description": "Downflow alarm"},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["impact"] == [{"lot_number": running_batch.lot_number, "state": "in_process"}]
    listed = api.as_user(technician).get("/api/v1/equipment/BSC-01/failures/").json()
    assert listed["results"][0]["impact"][0]["lot_number"] == running_batch.lot_number
    assert api.as_user(technician).get("/api/v1/equipment/BSC-01/").json()["status"] == (
        "out_of_service"
    )


def test_feeder_irradiation_on_a_usable_irradiator(api, technician):
    lot = FeederLotFactory.create(irradiation=False)
    EquipmentFactory.create(identifier="IRR-01", kind="irradiator")
    body = {
        "feeder_lot": lot.lot_number,
        "dose_gy": "100.0",
        "irradiated_on": day(-2),
        "irradiator": "IRR-01",
    }
    EquipmentFactory.create(identifier="BSC-02")
    r = api.as_user(technician).post(
        "/api/v1/feeder-irradiations/", {**body, "irradiator": "BSC-02"}, format="json"
    )
    assert r.status_code == 400 and r.json()["irradiator"] == ["BSC-02 is not an irradiator."]
    r = api.as_user(technician).post("/api/v1/feeder-irradiations/", body, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["irradiator"] == "IRR-01"
