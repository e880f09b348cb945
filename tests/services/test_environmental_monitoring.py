"""Environmental monitoring: an action-level result opens a deviation on exactly the batches
open in the room during the sampling period (not on batches in other rooms, finished before
or started after); an alert-level result tells QA and opens none; each result is judged
against the one limits table."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import BatchState, Deviation, DeviationKind
from batches.selectors.facility import batches_open_in_room
from batches.services import facility, lifecycle
from batches.services.batch_record import batch_create
from qc.models import EmExcursionDeviation, EmLevel, EmLimit, Notification
from qc.selectors.environment import em_evaluation
from qc.services import environment
from tests.batch_steps import planned_days_ago, record_steps
from tests.factories import PASSWORD, CordBloodUnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rooms(qa):
    return {
        "cr1": facility.room_create(actor=qa, identifier="CR-1", name="Suite 1", grade="B"),
        "cr2": facility.room_create(actor=qa, identifier="CR-2", name="Suite 2", grade="B"),
    }


@pytest.fixture
def point(rooms, qc_analyst):
    return environment.sampling_point_create(
        actor=qc_analyst, room=rooms["cr1"], code="BSC-1", description="Cabinet 1 work surface"
    )


def started_batch(technician, template, room, *, day0, first=None, harvest=False, lot=""):
    """A batch made in `room` from `day0`, its first steps (or all) recorded."""
    with planned_days_ago(40):
        batch = batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=template,
            unit_fraction_used_pct=Decimal("100"),
            room=room,
            lot_number=lot,
        )
    batch = lifecycle.batch_transition(
        actor=technician, batch=batch, to_state="in_process", reason="go"
    )
    batch = record_steps(batch, technician, day0=day0, first=first)
    if harvest:
        batch = lifecycle.batch_transition(
            actor=technician, batch=batch, to_state="harvested", reason="h", password=PASSWORD
        )
    return batch


@pytest.fixture
def window():
    """A four-hour settle plate ten days ago."""
    start = timezone.now() - timedelta(days=10)
    return start, start + timedelta(hours=4)


@pytest.fixture
def batches(technician, approved_template, lots, rooms, window):
    start, _end = window
    now = timezone.now()
    # Harvest (the last step) is fourteen days after day 0 (tests.batch_steps).
    return {
        "open": started_batch(
            technician,
            approved_template,
            rooms["cr1"],
            day0=now - timedelta(days=12),
            first=2,
            lot="EM-OPEN",
        ),
        "harvested_in_window": started_batch(
            technician,
            approved_template,
            rooms["cr1"],
            day0=start + timedelta(hours=1) - timedelta(days=14),
            harvest=True,
            lot="EM-HARV",
        ),
        "finished_before": started_batch(
            technician,
            approved_template,
            rooms["cr1"],
            day0=now - timedelta(days=30),
            harvest=True,
            lot="EM-DONE",
        ),
        "started_after": started_batch(
            technician,
            approved_template,
            rooms["cr1"],
            day0=now - timedelta(days=5),
            first=1,
            lot="EM-LATER",
        ),
        "other_room": started_batch(
            technician,
            approved_template,
            rooms["cr2"],
            day0=now - timedelta(days=12),
            first=1,
            lot="EM-OTHER",
        ),
    }


def settle_plate(point, analyst, window):
    start, end = window
    return environment.em_sample_record(
        actor=analyst,
        sampling_point=point,
        sample_type="air_settle",
        sampling_started_at=start,
        sampling_ended_at=end,
    )


def test_the_batches_open_in_a_room_are_those_in_it_during_the_window(batches, rooms, window):
    start, end = window
    found = {b.lot_number for b in batches_open_in_room(rooms["cr1"], start=start, end=end)}
    assert found == {"EM-OPEN", "EM-HARV"}


def test_an_action_level_result_opens_a_deviation_on_exactly_the_batches_open_then(
    batches, point, qc_analyst, qa, window
):
    sample = settle_plate(point, qc_analyst, window)
    read = environment.em_result_read(actor=qc_analyst, sample=sample, cfu=6)  # B settle: >5

    assert read.level == EmLevel.ACTION
    assert (read.alert_limit, read.action_limit) == (3, 5)
    deviations = Deviation.objects.filter(kind=DeviationKind.ENVIRONMENTAL)
    assert {d.batch.lot_number for d in deviations} == {"EM-OPEN", "EM-HARV"}
    assert set(
        EmExcursionDeviation.objects.filter(sample=read).values_list("deviation", flat=True)
    ) == {d.pk for d in deviations}
    assert all("CR-1" in d.what and "6 CFU" in d.what for d in deviations)
    # Both were in manufacture or QC: held until QA dispositions the deviation.
    held = {b: batches[b].__class__.objects.get(pk=batches[b].pk).state for b in batches}
    assert held["open"] == held["harvested_in_window"] == BatchState.ON_HOLD
    assert held["finished_before"] == BatchState.HARVESTED
    assert held["started_after"] == held["other_room"] == BatchState.IN_PROCESS
    # QA is told as well.
    assert Notification.objects.filter(em_sample=read, recipient=qa).count() == 2


def test_an_alert_level_result_tells_qa_and_opens_no_deviation(
    batches, point, qc_analyst, qa, window
):
    sample = settle_plate(point, qc_analyst, window)
    read = environment.em_result_read(actor=qc_analyst, sample=sample, cfu=4)  # 3 < 4 <= 5

    assert read.level == EmLevel.ALERT
    assert not Deviation.objects.filter(kind=DeviationKind.ENVIRONMENTAL).exists()
    assert not EmExcursionDeviation.objects.exists()
    notices = Notification.objects.filter(em_sample=read, recipient=qa)
    assert {n.channel for n in notices} == {"email", "in_app"}
    assert "EM alert" in notices[0].subject


def test_a_result_within_limits_tells_nobody(point, qc_analyst, window):
    read = environment.em_result_read(
        actor=qc_analyst, sample=settle_plate(point, qc_analyst, window), cfu=3
    )
    assert read.level == EmLevel.WITHIN
    assert not Notification.objects.filter(em_sample=read).exists()


def test_an_excursion_with_no_batch_in_the_room_opens_nothing(point, qc_analyst, window):
    read = environment.em_result_read(
        actor=qc_analyst, sample=settle_plate(point, qc_analyst, window), cfu=50
    )
    assert read.level == EmLevel.ACTION
    assert not Deviation.objects.exists()


@pytest.mark.parametrize(
    ("grade", "sample_type", "cfu", "level"),
    [
        ("A", "air_active", 0, EmLevel.WITHIN),
        ("A", "air_active", 1, EmLevel.ACTION),  # grade A: any growth
        ("B", "contact", 3, EmLevel.WITHIN),
        ("B", "contact", 4, EmLevel.ALERT),
        ("B", "contact", 6, EmLevel.ACTION),
        ("C", "air_active", 100, EmLevel.ALERT),
        ("C", "air_active", 101, EmLevel.ACTION),
        ("D", "contact", 50, EmLevel.ALERT),
        ("D", "contact", 51, EmLevel.ACTION),
    ],
)
def test_results_are_judged_against_the_annex_1_limits(grade, sample_type, cfu, level):
    limit = EmLimit.objects.get(grade=grade, sample_type=sample_type)
    assert em_evaluation(cfu, limit) == level


def test_a_result_is_read_once(point, qc_analyst, window):
    sample = settle_plate(point, qc_analyst, window)
    environment.em_result_read(actor=qc_analyst, sample=sample, cfu=0)
    with pytest.raises(ValidationError, match="was read on"):
        environment.em_result_read(actor=qc_analyst, sample=sample, cfu=9)


@pytest.mark.parametrize("cfu", [-1, 10001, 2.5, "3", True])
def test_a_count_is_a_whole_number_in_range(point, qc_analyst, window, cfu):
    with pytest.raises(ValidationError) as caught:
        environment.em_result_read(
            actor=qc_analyst, sample=settle_plate(point, qc_analyst, window), cfu=cfu
        )
    assert "cfu" in caught.value.message_dict


def test_glove_prints_name_the_person_and_are_not_taken_in_grade_c(rooms, qc_analyst, qa, window):
    start, end = window
    cr3 = facility.room_create(actor=qa, identifier="CR-3", name="Prep", grade="C")
    point_c = environment.sampling_point_create(
        actor=qc_analyst, room=cr3, code="BENCH", description="Bench"
    )
    with pytest.raises(ValidationError) as caught:
        environment.em_sample_record(
            actor=qc_analyst,
            sampling_point=point_c,
            sample_type="glove",
            sampling_started_at=start,
            sampling_ended_at=end,
        )
    assert set(caught.value.message_dict) == {"sample_type", "person_sampled"}
    assert "not taken in grade C" in caught.value.message_dict["sample_type"][0]


def test_the_period_ends_after_it_starts_not_in_the_future_and_within_a_shift(point, qc_analyst):
    now = timezone.now()
    for start, end in [
        (now, now - timedelta(hours=1)),
        (now, now + timedelta(hours=1)),
        # Weeks long, it would tie one excursion to every batch of those weeks.
        (now - timedelta(days=30), now),
    ]:
        with pytest.raises(ValidationError) as caught:
            environment.em_sample_record(
                actor=qc_analyst,
                sampling_point=point,
                sample_type="contact",
                sampling_started_at=start,
                sampling_ended_at=end,
            )
        assert "sampling_ended_at" in caught.value.message_dict


def test_only_qc_reads_plates_and_only_qa_registers_rooms(point, technician, clinical, window):
    sample = settle_plate(point, technician, window)  # operators take plates
    with pytest.raises(PermissionDenied):
        environment.em_result_read(actor=technician, sample=sample, cfu=0)
    with pytest.raises(PermissionDenied):
        facility.room_create(actor=technician, identifier="CR-9", name="x", grade="A")
    with pytest.raises(PermissionDenied):
        settle_plate(point, clinical, window)


def test_a_batch_room_is_set_before_day_0_only(technician, approved_template, lots, rooms):
    batch = started_batch(
        technician, approved_template, None, day0=timezone.now() - timedelta(days=1), first=1
    )
    with pytest.raises(ValidationError, match="part of its record from day 0"):
        facility.batch_room_set(actor=technician, batch=batch, room=rooms["cr1"])
    with planned_days_ago(1):
        planned = batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=approved_template,
            unit_fraction_used_pct=Decimal("100"),
        )
    assert (
        facility.batch_room_set(actor=technician, batch=planned, room=rooms["cr2"]).room
        == rooms["cr2"]
    )


def test_room_identifiers_are_unique(rooms, qa):
    with pytest.raises(ValidationError) as caught:
        facility.room_create(actor=qa, identifier="CR-1", name="Again", grade="B")
    assert "identifier" in caught.value.message_dict
