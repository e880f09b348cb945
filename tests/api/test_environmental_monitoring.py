"""Environmental monitoring through the API: rooms, points, a plate taken and read; bad
input answered 400 with a message per field; an excursion lists the batches it touched."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from batches.models import Room
from batches.services import lifecycle
from batches.services.batch_record import batch_create
from tests.batch_steps import planned_days_ago, record_steps
from tests.factories import CordBloodUnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def point(api, qa, qc_analyst):
    r = api.as_user(qa).post(
        "/api/v1/rooms/", {"identifier": "CR-1", "name": "Suite 1", "grade": "B"}, format="json"
    )
    assert r.status_code == 201, r.json()
    r = api.as_user(qc_analyst).post(
        "/api/v1/sampling-points/",
        {"room": "CR-1", "code": "BSC-1", "description": "Cabinet 1"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    return r.json()


def plate(end, point_id, **changes):
    return {
        "sampling_point": point_id,
        "sample_type": "contact",
        "sampling_started_at": (end - timedelta(minutes=5)).isoformat(),
        "sampling_ended_at": end.isoformat(),
        **changes,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"identifier": "CR 1", "name": "x", "grade": "B"}, "identifier"),
        ({"identifier": "CR-2", "name": "x", "grade": "E"}, "grade"),
        ({"identifier": "CR-2", "grade": "A"}, "name"),
        ({"identifier": "CR-1", "name": "again", "grade": "A"}, "identifier"),
    ],
)
def test_bad_rooms_are_refused_per_field(api, qa, point, body, field):
    r = api.as_user(qa).post("/api/v1/rooms/", body, format="json")
    assert r.status_code == 400 and field in r.json(), r.json()


def test_a_plate_is_taken_and_read_and_bad_input_is_400(
    api, qc_analyst, technician, approved_template, lots, point
):
    room = Room.objects.get(identifier="CR-1")
    with planned_days_ago(10):
        batch = batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=approved_template,
            unit_fraction_used_pct=Decimal("100"),
            room=room,
            lot_number="EM-API",
        )
    batch = lifecycle.batch_transition(
        actor=technician, batch=batch, to_state="in_process", reason="go"
    )
    record_steps(batch, technician, day0=timezone.now() - timedelta(days=5), first=1)
    client = api.as_user(qc_analyst)
    end = timezone.now() - timedelta(days=1)
    for body, field in [
        (plate(end, 999999), "sampling_point"),
        (plate(end, point["id"], sample_type="soil"), "sample_type"),
        (plate(end, point["id"], sample_type="glove"), "person_sampled"),
        (plate(end, point["id"], sampling_ended_at="yesterday"), "sampling_ended_at"),
        (plate(end + timedelta(days=2), point["id"]), "sampling_ended_at"),
    ]:
        r = client.post("/api/v1/em-samples/", body, format="json")
        assert r.status_code == 400 and field in r.json(), (field, r.json())
    r = client.post("/api/v1/em-samples/", plate(end, point["id"]), format="json")
    assert r.status_code == 201, r.json()
    sample = r.json()
    url = f"/api/v1/em-samples/{sample['id']}/result/"
    for bad in ({"cfu": -1}, {"cfu": "many"}, {"cfu": 10001}, {}):
        r = client.post(url, bad, format="json")
        assert r.status_code == 400 and "cfu" in r.json(), r.json()
    r = client.post(url, {"cfu": 7}, format="json")
    assert r.status_code == 200, r.json()
    read = r.json()
    assert read["level"] == "action" and [d["batch"] for d in read["deviations"]] == ["EM-API"]
    assert client.post(url, {"cfu": 0}, format="json").status_code == 400
    detail = api.as_user(technician).get(f"/api/v1/batches/{batch.lot_number}/").json()
    assert detail["room"] == "CR-1" and detail["state"] == "on_hold"


def test_a_batch_is_planned_in_a_room_and_it_is_fixed_from_day_0(
    api, technician, approved_template, lots, point
):
    unit = CordBloodUnitFactory.create()
    client = api.as_user(technician)
    body = {
        "source_unit": unit.din,
        "template": approved_template.pk,
        "unit_fraction_used_pct": "50",
    }
    r = client.post("/api/v1/batches/", {**body, "room": "CR-9"}, format="json")
    assert r.status_code == 400 and "room" in r.json()
    r = client.post("/api/v1/batches/", {**body, "room": "CR-1"}, format="json")
    assert r.status_code == 201 and r.json()["room"] == "CR-1"
    lot = r.json()["lot_number"]
    r = client.post(f"/api/v1/batches/{lot}/room/", {"room": "nowhere"}, format="json")
    assert r.status_code == 400 and "room" in r.json()
    r = client.post(f"/api/v1/batches/{lot}/room/", {"room": "CR-1"}, format="json")
    assert r.status_code == 200 and r.json()["room"] == "CR-1"
