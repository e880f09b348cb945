"""Reported times: nothing may have happened later than now (with a small allowance for
clocks that run ahead, settings.CLOCK_SKEW_ALLOWANCE_SECONDS), and no step, count or custody
hand-off of a batch before the batch was planned. Refused through the API, nothing saved."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from batches.models import CellCount, CordBloodUnit, CustodyEvent, ExecutedStep, Infusion
from batches.services import bedside
from carnk_mfg.models import ElectronicSignature
from tests.batch_steps import bedside_scans, step_payloads
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def post_thaw(api, user, batch, at):
    code, _at, values, materials = step_payloads(at, din=batch.source_unit.din)[0]
    return api.as_user(user).post(
        f"/api/v1/batches/{batch.lot_number}/steps/",
        {
            "step": code,
            "performed_at": at.isoformat(),
            "values": values,
            "materials": materials,
            "password": PASSWORD,
        },
        format="json",
    )


def post_count(api, user, batch, at):
    return api.as_user(user).post(
        f"/api/v1/batches/{batch.lot_number}/counts/",
        {
            "day": 0,
            "measured_at": at.isoformat(),
            "total_cells_per_ml": 2.2e5,
            "viable_cells_per_ml": 2e5,
            "volume_ml": "10",
        },
        format="json",
    )


def post_custody(api, user, batch, at, receiver):
    return api.as_user(user).post(
        f"/api/v1/batches/{batch.lot_number}/custody/",
        {
            "subject": "batch",
            "released_by": user.username,
            "received_by": receiver.username,
            "from_location": "Cleanroom 2",
            "to_location": "Incubator 4",
            "occurred_at": at.isoformat(),
        },
        format="json",
    )


@pytest.mark.parametrize("minutes_ahead", [5, 60 * 24 * 365])
def test_a_step_count_or_hand_off_in_the_future_is_refused(
    api, technician, qc_analyst, running_batch, minutes_ahead
):
    later = timezone.now() + timedelta(minutes=minutes_ahead)
    response = post_thaw(api, technician, running_batch, later)
    assert response.status_code == 400
    assert "cannot be in the future" in response.json()["performed_at"][0]
    response = post_count(api, technician, running_batch, later)
    assert response.status_code == 400
    assert "cannot be in the future" in response.json()["measured_at"][0]
    response = post_custody(api, technician, running_batch, later, qc_analyst)
    assert response.status_code == 400
    assert "cannot be in the future" in response.json()["occurred_at"][0]
    assert not ExecutedStep.objects.exists() and not CellCount.objects.exists()
    assert not CustodyEvent.objects.filter(batch=running_batch).exists()
    assert not ElectronicSignature.objects.filter(meaning="performed").exists()


def test_a_clock_a_little_ahead_is_allowed(api, technician, running_batch, settings):
    settings.CLOCK_SKEW_ALLOWANCE_SECONDS = 120
    response = post_count(api, technician, running_batch, timezone.now() + timedelta(seconds=90))
    assert response.status_code == 201, response.json()
    settings.CLOCK_SKEW_ALLOWANCE_SECONDS = 30
    response = post_count(api, technician, running_batch, timezone.now() + timedelta(seconds=90))
    assert response.status_code == 400


def test_nothing_of_a_batch_before_it_was_planned(api, technician, qc_analyst, running_batch):
    before = running_batch.created_at - timedelta(days=2)
    response = post_thaw(api, technician, running_batch, before)
    assert response.status_code == 400
    message = response.json()["performed_at"][0]
    assert f"batch {running_batch.lot_number} was planned" in message
    response = post_count(api, technician, running_batch, before)
    assert response.status_code == 400 and "was planned" in response.json()["measured_at"][0]
    response = post_custody(api, technician, running_batch, before, qc_analyst)
    assert response.status_code == 400 and "was planned" in response.json()["occurred_at"][0]
    assert not ExecutedStep.objects.exists() and not CellCount.objects.exists()
    # The same day, after planning, is fine.
    after = running_batch.created_at + timedelta(hours=1)
    assert post_thaw(api, technician, running_batch, after).status_code == 201


def _infuse(api, user, check, started_at, ended_at):
    return api.as_user(user).post(
        "/api/v1/infusions/",
        {
            "bedside_check": check.pk,
            "started_at": started_at.isoformat(),
            "ended_at": ended_at.isoformat(),
            "volume_ml": "4.4",
            "vitals": {"pre": {"hr": 80}},
            "password": PASSWORD,
        },
        format="json",
    )


def _check(issued_bag, clinical, minutes_ago):
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes_ago), tick=True):
        return bedside.bedside_verify(actor=clinical, **bedside_scans(issued_bag))


def test_an_infusion_ending_in_half_an_hour_is_refused_and_not_signed(api, issued_bag, clinical):
    check = _check(issued_bag, clinical, minutes_ago=10)
    now = timezone.now()
    response = _infuse(
        api, clinical, check, now - timedelta(minutes=5), now + timedelta(minutes=30)
    )
    assert response.status_code == 400
    assert "cannot be in the future" in response.json()["ended_at"][0]
    assert not Infusion.objects.exists()
    assert not ElectronicSignature.objects.filter(record_label__startswith="Infusion").exists()
    issued_bag.refresh_from_db()
    assert issued_bag.status == "issued"


def test_an_infusion_starts_after_its_bedside_check_and_within_its_validity(
    api, issued_bag, clinical
):
    check = _check(issued_bag, clinical, minutes_ago=50)
    now = timezone.now()
    before = _infuse(api, clinical, check, check.checked_at - timedelta(minutes=5), now)
    assert before.status_code == 400
    assert "cannot be before the bedside check" in before.json()["started_at"][0]
    late = _infuse(api, clinical, check, check.checked_at + timedelta(minutes=40), now)
    assert late.status_code == 400 and "too old" in late.json()["bedside_check"][0]
    ok = _infuse(api, clinical, check, check.checked_at + timedelta(minutes=10), now)
    assert ok.status_code == 201, ok.json()


def test_adverse_event_and_follow_up_in_the_future_are_refused(api, infusion, clinical):
    later = timezone.now() + timedelta(hours=3)
    response = api.as_user(clinical).post(
        "/api/v1/adverse-events/",
        {
            "infusion": infusion.pk,
            "kind": "crs",
            "grade": 1,
            "onset_at": later.isoformat(),
            "description": "Fever",
        },
        format="json",
    )
    assert response.status_code == 400 and "future" in response.json()["onset_at"][0]
    visit = infusion.visits.order_by("day").first()
    response = api.as_user(clinical).post(
        f"/api/v1/follow-ups/{visit.pk}/record/",
        {"done_at": later.isoformat(), "response": "CR"},
        format="json",
    )
    assert response.status_code == 400 and "future" in response.json()["done_at"][0]
    visit.refresh_from_db()
    assert visit.done_at is None


def test_a_unit_collected_in_the_future_is_refused(api, technician):
    from tests.factories import check_char, make_din

    din = make_din(4242)
    later = timezone.now() + timedelta(days=2)
    response = api.as_user(technician).post(
        "/api/v1/donor-units/",
        {
            "din": din,
            "check_character": check_char(din),
            "product_code": "S1145V00",
            "source_bank": "Bank",
            "collected_at": later.isoformat(),
            "cryopreserved_at": (later + timedelta(hours=2)).isoformat(),
            "volume_ml": "20",
            "tnc_count": 1e9,
            "cd34_count": 1e6,
            "nrbc_count": 1e7,
            "viability_pct": "90",
            "freezer": "F",
            "rack": "R",
            "box": "B",
            "position": "P",
            "password": PASSWORD,
        },
        format="json",
    )
    assert response.status_code == 400 and "future" in str(response.json()["collected_at"])
    assert not CordBloodUnit.objects.filter(din=din).exists()
