"""Instrument keys and the readings API: idempotent, all-or-nothing, instrument-only."""

import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from batches.models import CellCount
from carnk_mfg.audit import audit_history
from qc.models import InstrumentReading
from tests.conftest import planned_days_ago

pytestmark = pytest.mark.django_db
URL = "/api/v1/readings/"


def reading(batch, day=7, **extra):
    body = {
        "reading_id": str(uuid.uuid4()),
        "sample_id": f"{batch.lot_number}-D{day:02d}",
        "measured_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "total_cells_per_ml": 2.0e6,
        "viable_cells_per_ml": 1.8e6,
        "viability_pct": 90.0,
        "volume_ml": 100,
    }
    body.update(extra)
    return body


def keyed(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_readings_become_counts_with_the_instrument_as_actor(
    instrument_key, instrument, running_batch
):
    r = keyed(instrument_key).post(
        URL, [reading(running_batch, 0), reading(running_batch, 3)], format="json"
    )
    assert r.status_code == 201, r.json()
    assert len(r.json()["created"]) == 2 and r.json()["existing"] == []
    counts = CellCount.objects.filter(batch=running_batch).order_by("day")
    assert [c.day for c in counts] == [0, 3]
    assert counts[0].source == "instrument" and counts[0].recorded_by == instrument.user
    assert counts[0].total_viable_cells == pytest.approx(1.8e8)
    event = audit_history(counts[0]).get()
    assert event.pgh_context["actor_kind"] == "instrument"
    assert event.pgh_context["actor_name"] == "instrument VCB-0042"


def test_single_object_is_accepted(instrument_key, running_batch):
    r = keyed(instrument_key).post(URL, reading(running_batch), format="json")
    assert r.status_code == 201


def test_retry_whole_and_partial_creates_no_duplicates(instrument_key, running_batch):
    client = keyed(instrument_key)
    first = [reading(running_batch, d) for d in (1, 2, 3)]
    assert client.post(URL, first, format="json").status_code == 201
    again = client.post(URL, first, format="json")
    assert again.status_code == 200
    assert sorted(again.json()["existing"]) == sorted(x["reading_id"] for x in first)
    overlap = first[1:] + [reading(running_batch, 4)]
    r = client.post(URL, overlap, format="json")
    assert r.status_code == 201
    assert r.json()["created"] == [overlap[-1]["reading_id"]]
    assert len(r.json()["existing"]) == 2
    assert InstrumentReading.objects.count() == 4
    assert CellCount.objects.filter(batch=running_batch).count() == 4


# The API's shape of a refused request: errors per item index, nothing written. Which items
# are refused is proven in tests/services/test_qc_readings.py.
def test_one_bad_item_rejects_the_whole_request(instrument_key, running_batch):
    good = reading(running_batch, 1)
    bad = reading(running_batch, 2, viability_pct=150)
    r = keyed(instrument_key).post(URL, [good, bad], format="json")
    assert r.status_code == 400
    assert "viability_pct" in r.json()["items"]["1"], r.json()
    assert "0" not in r.json()["items"]
    assert InstrumentReading.objects.count() == 0 and CellCount.objects.count() == 0


@pytest.mark.parametrize("body", ["garbage", [], [1, 2], None, {"a": 1}])
def test_malformed_bodies(instrument_key, running_batch, body):
    r = keyed(instrument_key).post(URL, body, format="json")
    assert r.status_code == 400


def test_revoked_and_wrong_keys_are_refused(instrument_key, admin_user, running_batch):
    from qc.models import InstrumentKey
    from qc.services.instruments import instrument_key_revoke

    wrong = instrument_key[:-4] + "AAAA"
    assert keyed(wrong).post(URL, reading(running_batch), format="json").status_code == 401
    instrument_key_revoke(
        actor=admin_user, key=InstrumentKey.objects.get(), reason="Middleware retired"
    )
    assert keyed(instrument_key).post(URL, reading(running_batch), format="json").status_code == 401


def test_key_is_stored_hashed_and_records_use(instrument_key, running_batch):
    from qc.models import InstrumentKey

    key = InstrumentKey.objects.get()
    assert instrument_key not in key.key_hash and key.prefix in instrument_key
    assert key.last_used_at is None
    keyed(instrument_key).get(URL)
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/api/v1/donor-units/"),
        ("get", "/api/v1/batches/"),
        ("get", "/api/v1/qc-tests/"),
        ("post", "/api/v1/qc-tests/1/result/"),
        ("get", "/api/v1/recipients/"),
        ("post", "/api/v1/batches/"),
        ("get", "/api/v1/vector-lots/"),
        ("get", "/api/v1/process-templates/"),
    ],
)
def test_an_instrument_key_reaches_nothing_else(instrument_key, method, url):
    assert getattr(keyed(instrument_key), method)(url, {}, format="json").status_code == 403


def test_instrument_reads_only_its_own_readings(instrument_key, running_batch, admin_user):
    from qc.services.instruments import instrument_key_create, instrument_register

    other = instrument_register(
        actor=admin_user,
        name="NC-200",
        model="NucleoCounter NC-200",
        serial_number="NC-9",
        location="Lab",
        kind="cell_counter",
        calibration_due=timezone.localdate() + timedelta(days=5),
    )
    _, other_key = instrument_key_create(actor=admin_user, instrument=other)
    keyed(instrument_key).post(URL, reading(running_batch, 1), format="json")
    keyed(other_key).post(URL, reading(running_batch, 2), format="json")
    mine = keyed(instrument_key).get(URL).json()
    assert [r["instrument"] for r in mine["results"]] == ["VCB-0042"]


def test_a_user_cannot_post_readings_without_a_key(api, technician, running_batch):
    assert (
        api.as_user(technician).post(URL, reading(running_batch), format="json").status_code == 403
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_requests_create_one_record_each(
    technician, approved_template, lots, admin_user
):
    from batches.services.batch_record import batch_create
    from batches.services.lifecycle import batch_transition
    from qc.services.instruments import instrument_key_create, instrument_register
    from tests.factories import CordBloodUnitFactory

    with planned_days_ago(30):
        batch = batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=approved_template,
            unit_fraction_used_pct=Decimal(100),
        )
    batch_transition(actor=technician, batch=batch, to_state="in_process", reason="go")
    instrument = instrument_register(
        actor=admin_user,
        name="Vi-CELL",
        model="Vi-CELL BLU",
        serial_number="VCB-C",
        location="Lab",
        kind="cell_counter",
        calibration_due=timezone.localdate() + timedelta(days=5),
    )
    _, key = instrument_key_create(actor=admin_user, instrument=instrument)
    payload = [reading(batch, d) for d in range(10)]
    barrier = threading.Barrier(4)
    codes = []

    def post():
        client = keyed(key)
        barrier.wait()
        codes.append(client.post(URL, payload, format="json").status_code)
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 200, 200, 201], codes
    assert InstrumentReading.objects.count() == 10
    assert CellCount.objects.count() == 10


def test_impossible_offset_in_measured_at_is_an_item_error(instrument_key, running_batch):
    r = keyed(instrument_key).post(
        URL, reading(running_batch, measured_at="2026-01-01T10:00:00-18:00"), format="json"
    )
    assert r.status_code == 400 and "measured_at" in r.json()["items"]["0"]


def _typed_refusal(technician, batch, body) -> dict:
    """What the typed count path (the technician's form and API) says about the same count."""
    from django.core.exceptions import ValidationError
    from django.utils.dateparse import parse_datetime

    from batches.services.batch_record import cell_count_record

    measured_at = parse_datetime(body["measured_at"])
    assert measured_at is not None
    with pytest.raises(ValidationError) as refused:
        cell_count_record(
            actor=technician,
            batch=batch,
            day=int(body["sample_id"].rsplit("-D", 1)[1]),
            measured_at=measured_at,
            total_cells_per_ml=body["total_cells_per_ml"],
            viable_cells_per_ml=body["viable_cells_per_ml"],
            volume_ml=Decimal(str(body["volume_ml"])),
            viability_pct=Decimal(str(body["viability_pct"])),
        )
    return refused.value.message_dict


@pytest.mark.parametrize(
    "case, field",
    [
        ("viable above total", "viable_cells_per_ml"),
        ("before the batch was planned", "measured_at"),
        ("beyond the clock allowance", "measured_at"),
        ("viability out of bounds", "viability_pct"),
        ("volume zero", "volume_ml"),
    ],
)
def test_a_reading_is_refused_as_the_typed_count_would_be(
    instrument_key, running_batch, technician, settings, case, field
):
    skew = timedelta(seconds=settings.CLOCK_SKEW_ALLOWANCE_SECONDS)
    change = {
        "viable above total": {"viable_cells_per_ml": 2.5e6, "viability_pct": 100},
        "before the batch was planned": {
            "measured_at": (running_batch.created_at - timedelta(days=1)).isoformat()
        },
        "beyond the clock allowance": {
            "measured_at": (timezone.now() + skew + timedelta(minutes=10)).isoformat()
        },
        "viability out of bounds": {"viable_cells_per_ml": 2.0e6, "viability_pct": 100.9},
        "volume zero": {"volume_ml": 0},
    }[case]
    body = reading(running_batch, 7, **change)
    typed = _typed_refusal(technician, running_batch, body)
    r = keyed(instrument_key).post(URL, [reading(running_batch, 6), body], format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["items"] == {"1": {field: typed[field]}}
    assert CellCount.objects.count() == 0 and InstrumentReading.objects.count() == 0


def test_a_reading_on_a_batch_not_in_culture_is_refused_as_a_typed_count(
    instrument_key, planned_batch, technician
):
    body = reading(planned_batch, 7)
    typed = _typed_refusal(technician, planned_batch, body)
    r = keyed(instrument_key).post(URL, body, format="json")
    assert r.status_code == 400, r.json()
    # The batch comes from the sample ID, so the refusal is on the reading's sample_id.
    assert r.json()["items"] == {"0": {"sample_id": typed["batch"]}}
    assert "Counts are recorded during manufacturing" in typed["batch"][0]


def test_a_reading_without_volume_stores_the_concentration_only(instrument_key, running_batch):
    body = reading(running_batch, 5)
    del body["volume_ml"]
    r = keyed(instrument_key).post(URL, body, format="json")
    assert r.status_code == 201, r.json()
    count = CellCount.objects.get()
    assert count.volume_ml is None and count.total_viable_cells is None
    assert count.viable_cells_per_ml == 1.8e6 and float(count.viability_pct) == 90.0


def test_queries_do_not_grow_with_the_readings_in_a_request(instrument_key, running_batch):
    from django.test.utils import CaptureQueriesContext

    client = keyed(instrument_key)
    assert client.post(URL, reading(running_batch, 1), format="json").status_code == 201  # warm
    sizes = {}
    # One count per culture day: days 2-3, then 4-43 (day 1 was the warm-up).
    for n, first in ((2, 2), (40, 4)):
        with CaptureQueriesContext(connection) as queries:
            r = client.post(
                URL, [reading(running_batch, first + d) for d in range(n)], format="json"
            )
        assert r.status_code == 201, r.json()
        sizes[n] = len(queries)
    assert sizes[2] == sizes[40], sizes


# --- one count per batch and culture day ---


def test_several_counts_of_one_day_in_a_request_are_each_refused(instrument_key, running_batch):
    """1,000 day-13 counts in one request were once all taken: now each is refused, and
    nothing of the request is written."""
    others = [reading(running_batch, 13) for _ in range(3)]
    r = keyed(instrument_key).post(URL, [reading(running_batch, 12), *others], format="json")
    assert r.status_code == 400, r.json()
    items = r.json()["items"]
    assert sorted(items) == ["1", "2", "3"]
    assert "Items 1, 2, 3 are all day 13 counts" in items["1"]["sample_id"][0]
    assert InstrumentReading.objects.count() == 0 and CellCount.objects.count() == 0


def test_a_second_count_of_a_day_is_refused_and_a_resent_reading_still_answers_200(
    instrument_key, running_batch
):
    client = keyed(instrument_key)
    first = reading(running_batch, 13)
    assert client.post(URL, first, format="json").status_code == 201
    second = client.post(
        URL, [reading(running_batch, 14), reading(running_batch, 13)], format="json"
    )
    assert second.status_code == 400, second.json()
    (message,) = second.json()["items"]["1"]["sample_id"]
    assert message.startswith(f"Batch {running_batch.lot_number} already has a day 13 count")
    # The same reading sent again is the same reading, as before the rule.
    again = client.post(URL, first, format="json")
    assert again.status_code == 200 and again.json()["existing"] == [first["reading_id"]]
    assert CellCount.objects.count() == 1


def test_a_reading_may_correct_the_day_count_with_a_reason(instrument_key, running_batch):
    client = keyed(instrument_key)
    assert client.post(URL, reading(running_batch, 13), format="json").status_code == 201
    wrong = CellCount.objects.get()
    no_reason = reading(running_batch, 13, corrects=wrong.pk)
    r = client.post(URL, no_reason, format="json")
    assert r.status_code == 400 and list(r.json()["items"]["0"]) == ["correction_reason"]
    bad_id = reading(running_batch, 13, corrects="seven", correction_reason="recount")
    r = client.post(URL, bad_id, format="json")
    assert r.status_code == 400 and list(r.json()["items"]["0"]) == ["corrects"]
    fixed = reading(
        running_batch, 13, corrects=wrong.pk, correction_reason="Sample clumped: recounted"
    )
    r = client.post(URL, fixed, format="json")
    assert r.status_code == 201, r.json()
    correction = CellCount.objects.get(corrects=wrong)
    assert correction.correction_reason == "Sample clumped: recounted"
    assert correction.reading.reading_id == uuid.UUID(fixed["reading_id"])
