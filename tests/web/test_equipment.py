"""Equipment pages: uncalibrated equipment scanned on the step form is a form error and
nothing is recorded; the list marks what is overdue; QA registers and the floor calibrates
through the forms; a failure's page shows the batches it may have touched."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import Equipment, EquipmentUse, ExecutedStep
from tests.batch_steps import step_payloads
from tests.factories import EquipmentFactory
from tests.web.batch_pages import day0, field_block, html, post_step

pytestmark = pytest.mark.django_db


def test_uncalibrated_equipment_scanned_on_the_step_form_is_a_form_error(client, started):
    EquipmentFactory.create(identifier="BSC-09", calibrated=False)
    response = post_step(client, started, step_payloads(day0())[0], equipment="BSC-09")
    assert response.status_code == 200
    assert "Biosafety cabinet BSC-09 has no calibration on record." in field_block(
        html(response), "equipment"
    )
    assert ExecutedStep.objects.count() == 0 and EquipmentUse.objects.count() == 0


def test_a_usable_piece_scanned_is_recorded_with_the_step(client, started):
    EquipmentFactory.create(identifier="BSC-01")
    response = post_step(client, started, step_payloads(day0())[0], equipment="BSC-01")
    assert response.status_code == 302
    assert EquipmentUse.objects.get().equipment.identifier == "BSC-01"


def test_the_list_marks_the_piece_overdue(client, technician, qa):
    EquipmentFactory.create(identifier="BSC-01")
    lapsed = EquipmentFactory.create(identifier="CEN-02", kind="centrifuge", calibrated=False)
    lapsed.calibrations.create(
        performed_on=timezone.localdate().replace(year=2020),
        next_due_on=timezone.localdate().replace(year=2021),
        performed_by="x",
        recorded_by=qa,
        recorded_at=timezone.now(),
    )
    client.force_login(technician)
    page = html(client.get(reverse("equipment-list")))
    assert 'href="/equipment/"' in page  # the nav links here
    row = page.split('id="equipment-CEN-02"')[1].split("</tr>")[0]
    assert "overdue" in row and "Not usable" in row
    assert "Usable" in page.split('id="equipment-BSC-01"')[1].split("</tr>")[0]


def test_qa_registers_the_floor_calibrates_and_a_failure_shows_its_impact(
    client, qa, technician, started
):
    client.force_login(qa)
    r = client.post(
        reverse("equipment-register"),
        {"identifier": "BSC-07", "name": "Cabinet", "kind": "biosafety_cabinet"},
    )
    assert r.status_code == 302
    client.force_login(technician)
    assert client.post(reverse("equipment-register"), {}).status_code == 403
    today = timezone.localdate()
    r = client.post(
        reverse("equipment-calibration", args=["BSC-07"]),
        {
            "performed_on": str(today - timedelta(days=40)),
            "next_due_on": str(today + timedelta(days=300)),
            "performed_by": "Metrology Ltd",
            "result": "passed",
        },
    )
    assert r.status_code == 302, html(r)
    client.force_login(technician)
    step = post_step(client, started, step_payloads(day0())[0], equipment="BSC-07")
    assert step.status_code == 302
    r = client.post(
        reverse("equipment-failure-record", args=["BSC-07"]),
        {"found_on": str(today), "description": "Downflow alarm"},
    )
    assert r.status_code == 302
    page = html(client.get(r["Location"]))
    assert started.lot_number in page.split('id="impact"')[1]
    assert Equipment.objects.get(identifier="BSC-07").status == "out_of_service"


def test_the_floor_records_a_feeder_irradiation_on_a_usable_irradiator_only(
    client, technician, qc_analyst
):
    from batches.models import FeederIrradiation
    from tests.factories import FeederLotFactory

    lot = FeederLotFactory.create(lot_number="FD-9", irradiation=False)
    EquipmentFactory.create(identifier="IRR-02", kind="irradiator", calibrated=False)
    EquipmentFactory.create(identifier="IRR-01", kind="irradiator")
    url = reverse("feeder-irradiation", args=["FD-9"])
    client.force_login(qc_analyst)
    assert client.get(url).status_code == 403
    client.force_login(technician)
    assert "Record the irradiation" in html(
        client.get(reverse("lot-detail", args=["feeder", "FD-9"]))
    )
    today = str(timezone.localdate())

    refused = client.post(url, {"dose_gy": "100", "irradiated_on": today, "irradiator": "IRR-02"})

    assert refused.status_code == 200
    assert "Irradiator IRR-02 has no calibration on record." in field_block(
        html(refused), "irradiator"
    )
    assert not FeederIrradiation.objects.exists()
    done = client.post(url, {"dose_gy": "100", "irradiated_on": today, "irradiator": "IRR-01"})
    assert done.status_code == 302
    record = FeederIrradiation.objects.get(feeder_lot=lot)
    assert (record.irradiator.identifier, record.recorded_by) == ("IRR-01", technician)
    assert "IRR-01" in html(client.get(done["Location"]))
