"""Instrument readings: sample IDs and the idempotent, all-or-nothing submission
(qc/services/readings.py), called directly."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import CellCount
from carnk_mfg.audit import audit_history
from carnk_mfg.fields import IDENTIFIER_MESSAGE
from qc.models import Instrument, InstrumentReading, QcTest, QcTestDefinition
from qc.services import readings
from tests.factories import EquipmentFactory
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(instrument):
    """The instrument's account as its key signs it in (qc.authentication)."""
    account = instrument.user
    account.is_instrument, account.instrument = True, instrument
    return account


def reading(batch, day=7, **changes):
    return {
        "reading_id": str(uuid.uuid4()),
        "sample_id": readings.count_sample_id(batch.lot_number, day),
        "measured_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "total_cells_per_ml": 2.0e6,
        "viable_cells_per_ml": 1.8e6,
        "viability_pct": 90.0,
        "volume_ml": 100,
        **changes,
    }


def submit(actor, instrument, payload):
    return readings.readings_submit(actor=actor, payload=payload, instrument=instrument)


# --- sample IDs ---


def test_count_sample_id_reads_back_as_lot_and_day():
    sample = readings.count_sample_id("CNK-26000001", 7)
    assert sample == "CNK-26000001-D07"
    match = readings.COUNT_SAMPLE.match(sample)
    assert match is not None
    assert (match["lot"], int(match["day"])) == ("CNK-26000001", 7)
    assert readings.QC_SAMPLE.match(sample) is None


def test_qc_sample_id_reads_back_as_lot_and_test():
    sample = readings.qc_sample_id("CNK-26000001", 42)
    assert sample == "CNK-26000001-QC42"
    match = readings.QC_SAMPLE.match(sample)
    assert match is not None
    assert (match["lot"], int(match["test"])) == ("CNK-26000001", 42)
    assert readings.COUNT_SAMPLE.match(sample) is None


# --- submission ---


def test_submit_makes_counts_with_the_instrument_as_actor(device, instrument, running_batch):
    items = [reading(running_batch, 0), reading(running_batch, 3)]
    result = submit(device, instrument, items)
    assert sorted(result.created) == sorted(i["reading_id"] for i in items)
    assert result.existing == []
    counts = CellCount.objects.filter(batch=running_batch).order_by("day")
    assert [(c.day, c.source, c.recorded_by) for c in counts] == [
        (0, "instrument", device),
        (3, "instrument", device),
    ]
    assert counts[0].total_viable_cells == pytest.approx(1.8e8)
    stored = InstrumentReading.objects.get(reading_id=items[0]["reading_id"])
    assert (stored.cell_count, stored.instrument) == (counts[0], instrument)
    event = audit_history(counts[0]).get()
    assert event.pgh_context["actor_name"] == "instrument VCB-0042"
    assert event.pgh_context["reason"] == "Readings from VCB-0042"


def test_submit_a_qc_sample_enters_its_result(device, instrument, running_batch, approved_spec_set):
    at = timezone.now() - timedelta(hours=2)
    test = QcTest.objects.create(
        batch=running_batch,
        definition=QcTestDefinition.objects.get(spec_set__status="approved", code="car_positive"),
        triggered_at=at,
        sample_due_at=at,
        due_at=at + timedelta(hours=8),
    )
    item = {
        "reading_id": str(uuid.uuid4()),
        "sample_id": readings.qc_sample_id(running_batch.lot_number, test.pk),
        "measured_at": (at + timedelta(hours=1)).isoformat(),
        "result": 48.2,
        "unit": "%",
    }
    submit(device, instrument, item)
    test.refresh_from_db()
    assert (test.state, test.result_numeric, test.result_source) == ("resulted", 48.2, "instrument")
    assert test.resulted_by == device
    assert_trailed(test, actor=device, reason=f"QC result: {test.evaluation}", label="update")


def test_submit_again_creates_nothing(device, instrument, running_batch):
    items = [reading(running_batch, 1), reading(running_batch, 2)]
    submit(device, instrument, items)
    with unchanged(running_batch):
        again = submit(device, instrument, items)
    assert again.created == []
    assert sorted(again.existing) == sorted(i["reading_id"] for i in items)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"reading_id": "not-a-uuid"}, "reading_id"),
        ({"sample_id": "XYZ"}, "sample_id"),
        ({"sample_id": "NOPE-1-D03"}, "sample_id"),
        ({"sample_id": "CNK-X-QC99", "result": 1}, "sample_id"),
        ({"measured_at": "2026-01-01T10:00:00"}, "measured_at"),
        ({"total_cells_per_ml": "lots"}, "total_cells_per_ml"),
        ({"viable_cells_per_ml": None}, "viable_cells_per_ml"),
        ({"viable_cells_per_ml": 9e9}, "viable_cells_per_ml"),
        ({"viability_pct": 50}, "viability_pct"),
        ({"volume_ml": -1}, "volume_ml"),
    ],
)
def test_one_bad_item_rejects_them_all(device, instrument, running_batch, changes, field):
    good, bad = reading(running_batch, 1), reading(running_batch, 2, **changes)
    with unchanged(running_batch), pytest.raises(readings.ReadingsRejected) as exc:
        submit(device, instrument, [good, bad])
    assert list(exc.value.errors) == ["1"]
    assert field in exc.value.errors["1"]


def test_a_count_rule_about_the_day_lands_on_the_sample_id(device, instrument, planned_batch):
    """The batch (planned, not in culture) is named by the sample ID: that is the field."""
    with unchanged(planned_batch), pytest.raises(readings.ReadingsRejected) as exc:
        submit(device, instrument, reading(planned_batch, 1))
    assert "sample_id" in exc.value.errors["0"]


def test_one_reading_id_with_two_values_is_refused(device, instrument, running_batch):
    first = reading(running_batch, 1)
    clash = {**first, "viable_cells_per_ml": 1.7e6}
    with unchanged(running_batch), pytest.raises(readings.ReadingsRejected) as exc:
        submit(device, instrument, [first, clash])
    assert "Also used by item 0" in exc.value.errors["1"]["reading_id"][0]


@pytest.mark.parametrize(
    "change, says",
    [
        ({"retired": True}, "is retired"),
        ({"calibration_due": timezone.localdate() - timedelta(days=1)}, "calibration lapsed"),
    ],
)
def test_submit_refuses_an_instrument_that_may_not_send(
    device, instrument, running_batch, change, says
):
    Instrument.objects.filter(pk=instrument.pk).update(**change)
    instrument.refresh_from_db()
    with unchanged(running_batch), pytest.raises(ValidationError, match=says):
        submit(device, instrument, reading(running_batch))


@pytest.mark.parametrize(
    "change, says",
    [
        ({"status": "out_of_service", "status_reason": "Laser fault"}, "is out of service"),
        ({"calibrated": False}, "has no calibration on record"),
    ],
)
def test_submit_refuses_a_counter_whose_bench_equipment_may_not_be_used(
    device, instrument, running_batch, change, says
):
    """A counter that is also bench equipment sends only while a step could use it."""
    counter = EquipmentFactory.create(kind="cell_counter", name="Vi-CELL BLU", **change)
    Instrument.objects.filter(pk=instrument.pk).update(equipment=counter)
    instrument.refresh_from_db()
    with unchanged(running_batch), pytest.raises(ValidationError, match=says):
        submit(device, instrument, reading(running_batch))


def test_a_counter_on_usable_bench_equipment_sends(device, instrument, running_batch):
    Instrument.objects.filter(pk=instrument.pk).update(
        equipment=EquipmentFactory.create(kind="cell_counter", name="Vi-CELL BLU")
    )
    instrument.refresh_from_db()
    assert len(submit(device, instrument, reading(running_batch)).created) == 1


@pytest.mark.parametrize("count", [0, 3])
def test_submit_takes_one_to_the_limit(device, instrument, running_batch, settings, count):
    settings.READINGS_PER_REQUEST_MAX = 2
    items = [reading(running_batch, d) for d in range(count)]
    with unchanged(running_batch), pytest.raises(ValidationError) as exc:
        submit(device, instrument, items)
    assert "non_field_errors" in exc.value.message_dict


def test_submit_needs_the_permission(qa, instrument, running_batch):
    with unchanged(running_batch), pytest.raises(PermissionDenied):
        submit(qa, instrument, reading(running_batch))


# --- more refused items ---


@pytest.mark.parametrize(
    "changes, field",
    [({"viability_pct": 150}, "viability_pct"), ({"measured_at": "2026-13-40"}, "measured_at")],
    ids=["viability-over-100", "not-a-date"],
)
def test_an_impossible_value_rejects_them_all(device, instrument, running_batch, changes, field):
    good, bad = reading(running_batch, 1), reading(running_batch, 2, **changes)
    with unchanged(running_batch), pytest.raises(readings.ReadingsRejected) as exc:
        submit(device, instrument, [good, bad])
    assert list(exc.value.errors) == ["1"]
    assert field in exc.value.errors["1"]


# --- a sample ID is an identifier ---


@pytest.mark.parametrize(
    "inserted", ["\u202e", " ", "<b>", "\u0085"], ids=["bidi", "space", "markup", "c1"]
)
def test_a_sample_id_outside_the_identifier_pattern_is_refused(
    device, instrument, running_batch, inserted
):
    item = reading(running_batch, 1)
    item["sample_id"] = f"{item['sample_id'][:3]}{inserted}{item['sample_id'][3:]}"
    with unchanged(running_batch), pytest.raises(readings.ReadingsRejected) as exc:
        submit(device, instrument, [item])
    assert exc.value.errors["0"]["sample_id"] == [IDENTIFIER_MESSAGE]
