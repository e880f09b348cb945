"""Environmental monitoring pages: rooms and points, a plate taken and read (refusals on
their fields), the batches an excursion touched, and the point's trend chart."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from batches.selectors.facility import rooms
from batches.services import facility, lifecycle
from batches.services.batch_record import batch_create
from qc.models import EmSample
from qc.services import environment
from tests.batch_steps import planned_days_ago, record_steps
from tests.factories import CordBloodUnitFactory

pytestmark = pytest.mark.django_db

FMT = "%Y-%m-%dT%H:%M"


@pytest.fixture
def room(qa):
    return facility.room_create(actor=qa, identifier="CR-1", name="Suite 1", grade="B")


@pytest.fixture
def point(room, qc_analyst):
    return environment.sampling_point_create(
        actor=qc_analyst, room=room, code="BSC-1", description="Cabinet 1"
    )


def test_qa_registers_a_room_and_qc_a_point(client, qa, qc_analyst):
    client.force_login(qa)
    r = client.post("/qc/em/rooms/new/", {"identifier": "CR 1", "name": "Suite", "grade": "B"})
    assert r.status_code == 200 and "identifier" in r.context["form"].errors
    r = client.post("/qc/em/rooms/new/", {"identifier": "CR-1", "name": "Suite", "grade": "B"})
    assert r.status_code == 302
    client.force_login(qc_analyst)
    room = rooms().get()
    r = client.post(
        "/qc/em/points/new/", {"room": room.pk, "code": "BSC-1", "description": "Cabinet 1"}
    )
    assert r.status_code == 302
    page = client.get("/qc/em/").content.decode()
    assert "CR-1" in page and "BSC-1" in page and "Grade B" in page


def test_a_plate_is_taken_and_read_through_the_pages(client, qc_analyst, point):
    client.force_login(qc_analyst)
    end = timezone.localtime() - timedelta(days=2)
    form = {
        "sampling_point": point.pk,
        "sample_type": "air_settle",
        "sampling_started_at": (end - timedelta(hours=4)).strftime(FMT),
        "sampling_ended_at": end.strftime(FMT),
    }
    r = client.post(
        "/qc/em/samples/new/",
        {**form, "sampling_ended_at": (end - timedelta(hours=5)).strftime(FMT)},
    )
    assert r.status_code == 200
    assert "The sampling period ends after it starts." in r.content.decode()
    r = client.post("/qc/em/samples/new/", {**form, "sample_type": "glove"})
    assert "Name whose gloves were printed." in r.content.decode()
    r = client.post("/qc/em/samples/new/", form)
    assert r.status_code == 302
    sample = EmSample.objects.get()
    assert r["Location"] == f"/qc/em/samples/{sample.pk}/"
    r = client.post(r["Location"], {"cfu": "-1"})
    assert r.status_code == 200 and "cfu" in r.context["form"].errors
    r = client.post(f"/qc/em/samples/{sample.pk}/", {"cfu": "4"})
    assert r.status_code == 302
    page = client.get(f"/qc/em/samples/{sample.pk}/").content.decode()
    assert "4 CFU" in page and "Alert level" in page and "em-read-form" not in page
    trend = client.get(f"/qc/em/points/{point.pk}/").content.decode()
    assert '<svg id="em-trend"' in trend and "Action &gt; 5" in trend and "Alert &gt; 3" in trend


def test_the_sample_page_lists_the_batches_an_excursion_touched(
    client, qc_analyst, technician, approved_template, lots, room, point
):
    with planned_days_ago(10):
        batch = batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=approved_template,
            unit_fraction_used_pct=Decimal("100"),
            room=room,
            lot_number="EM-WEB",
        )
    batch = lifecycle.batch_transition(
        actor=technician, batch=batch, to_state="in_process", reason="go"
    )
    record_steps(batch, technician, day0=timezone.now() - timedelta(days=5), first=1)
    end = timezone.now() - timedelta(days=1)
    sample = environment.em_sample_record(
        actor=qc_analyst,
        sampling_point=point,
        sample_type="contact",
        sampling_started_at=end,
        sampling_ended_at=end,
    )
    client.force_login(qc_analyst)
    assert client.post(f"/qc/em/samples/{sample.pk}/", {"cfu": "12"}).status_code == 302
    page = client.get(f"/qc/em/samples/{sample.pk}/").content.decode()
    assert "Batches touched by this excursion" in page and "EM-WEB" in page
    assert "EM-WEB" in client.get("/qc/em/").content.decode()


def test_a_technician_takes_plates_but_neither_reads_them_nor_registers_rooms(
    client, technician, point
):
    end = timezone.now() - timedelta(days=1)
    sample = environment.em_sample_record(
        actor=technician,
        sampling_point=point,
        sample_type="contact",
        sampling_started_at=end,
        sampling_ended_at=end,
    )
    client.force_login(technician)
    assert client.get("/qc/em/rooms/new/").status_code == 403
    assert client.get("/qc/em/samples/new/").status_code == 200
    page = client.get(f"/qc/em/samples/{sample.pk}/").content.decode()
    assert "em-read-form" not in page
    client.post(f"/qc/em/samples/{sample.pk}/", {"cfu": "3"})
    sample.refresh_from_db()
    assert sample.read_at is None
