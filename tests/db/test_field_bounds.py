"""Numeric bounds live on the model field (carnk_mfg.fields): the API, the web forms, the
services and the database constraint all refuse a value just outside and take one at the
bound."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from batches.models import CellCount, CordBloodUnit, CustodyEvent, WeightMeasurement
from batches.services.batch_record import custody_record
from carnk_mfg.fields import bounds
from tests.api.test_donor import payload as unit_payload
from tests.factories import RecipientFactory
from tests.web.test_donor import register_data as unit_form_data

pytestmark = pytest.mark.django_db

TEMPERATURE = [("-200.1", False), ("-200.0", True), ("60.0", True), ("60.1", False)]
WEIGHT = [("0.0", False), ("0.1", True), ("400.0", True), ("400.1", False)]
VIABILITY = [("-0.01", False), ("0.00", True), ("100.00", True), ("100.01", False)]


def test_bounds_are_read_off_the_model_field():
    assert bounds(CustodyEvent, "temperature_c") == (-200, 60)
    assert bounds(WeightMeasurement, "weight_kg") == (0, 400)
    assert bounds(CordBloodUnit, "viability_pct") == (0, 100)
    assert bounds(CellCount, "day") == (0, 60)


# --- custody temperature: API, web form, service, database ---


def _handoff(technician, qa, temperature):
    return {
        "released_by": technician.username,
        "received_by": qa.username,
        "from_location": "LN2-01",
        "to_location": "Cleanroom B",
        "occurred_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "temperature_c": temperature,
    }


@pytest.mark.parametrize("value, taken", TEMPERATURE)
def test_custody_temperature_through_the_api(api, technician, qa, running_batch, value, taken):
    r = api.as_user(technician).post(
        f"/api/v1/batches/{running_batch.lot_number}/custody/",
        _handoff(technician, qa, value),
        format="json",
    )
    if taken:
        assert r.status_code == 201, r.json()
        assert CustodyEvent.objects.get().temperature_c == Decimal(value)
    else:
        assert r.status_code == 400 and list(r.json()) == ["temperature_c"], r.json()
        assert not CustodyEvent.objects.exists()


@pytest.mark.parametrize("value, taken", TEMPERATURE)
def test_custody_temperature_on_the_batch_page(client, technician, qa, running_batch, value, taken):
    client.force_login(technician)
    data = {**_handoff(technician, qa, value), "subject": "batch"}
    data["occurred_at"] = timezone.localtime(timezone.now() - timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    response = client.post(reverse("batch-handoff", args=[running_batch.lot_number]), data)
    if taken:
        assert response.status_code == 302
        assert CustodyEvent.objects.count() == 1
    else:
        assert response.status_code == 200
        assert list(response.context["custody_form"].errors) == ["temperature_c"]
        assert not CustodyEvent.objects.exists()


def test_custody_service_refuses_what_the_model_refuses(technician, qa, running_batch):
    with pytest.raises(ValidationError) as refused:
        custody_record(
            actor=technician,
            released_by=technician.username,
            received_by=qa.username,
            from_location="LN2-01",
            to_location="Cleanroom B",
            occurred_at=timezone.now() - timedelta(minutes=5),
            batch=running_batch,
            temperature_c=Decimal("60.1"),
        )
    assert refused.value.message_dict == {
        "temperature_c": ["Ensure this value is less than or equal to 60."]
    }


def test_the_database_constraint_holds_the_same_bound(technician, qa, running_batch):
    event = custody_record(
        actor=technician,
        released_by=technician.username,
        received_by=qa.username,
        from_location="LN2-01",
        to_location="Cleanroom B",
        occurred_at=timezone.now() - timedelta(minutes=5),
        batch=running_batch,
        temperature_c=Decimal("60"),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CustodyEvent.objects.filter(pk=event.pk).update(temperature_c=Decimal("60.1"))


# --- body weight: API and web form ---


@pytest.mark.parametrize("value, taken", WEIGHT)
def test_weight_through_the_api(api, clinical, value, taken):
    recipient = RecipientFactory.create()
    r = api.as_user(clinical).post(
        f"/api/v1/recipients/{recipient.subject_id}/weights/",
        {"weight_kg": value, "measured_on": timezone.localdate().isoformat()},
        format="json",
    )
    if taken:
        assert r.status_code == 201, r.json()
        assert recipient.weights.count() == 2
    else:
        assert r.status_code == 400 and list(r.json()) == ["weight_kg"], r.json()
        assert recipient.weights.count() == 1


@pytest.mark.parametrize("value, taken", WEIGHT)
def test_weight_on_the_recipient_page(client, clinical, value, taken):
    recipient = RecipientFactory.create()
    client.force_login(clinical)
    response = client.post(
        recipient.get_absolute_url(),
        {"weight_kg": value, "measured_on": timezone.localdate().isoformat()},
    )
    if taken:
        assert response.status_code == 302
        assert recipient.weights.count() == 2
    else:
        assert response.status_code == 200
        assert list(response.context["form"].errors) == ["weight_kg"]
        assert recipient.weights.count() == 1


# --- viability of a cord blood unit: API and web form ---


@pytest.mark.parametrize("value, taken", VIABILITY)
def test_unit_viability_through_the_api(api, technician, value, taken):
    r = api.as_user(technician).post(
        "/api/v1/donor-units/", unit_payload(viability_pct=value), format="json"
    )
    if taken:
        assert r.status_code == 201, r.json()
    else:
        assert r.status_code == 400 and list(r.json()) == ["viability_pct"], r.json()
        assert not CordBloodUnit.objects.exists()


@pytest.mark.parametrize("value, taken", VIABILITY)
def test_unit_viability_on_the_register_page(client, technician, value, taken):
    client.force_login(technician)
    response = client.post(reverse("cbu-register"), unit_form_data(viability_pct=value))
    if taken:
        assert response.status_code == 302
        assert CordBloodUnit.objects.count() == 1
    else:
        assert response.status_code == 200
        assert list(response.context["form"].errors) == ["viability_pct"]
        assert not CordBloodUnit.objects.exists()


# --- culture day of a count: API ---


@pytest.mark.parametrize("day, taken", [(-1, False), (0, True), (60, True), (61, False)])
def test_count_day_through_the_api(api, technician, running_batch, day, taken):
    r = api.as_user(technician).post(
        f"/api/v1/batches/{running_batch.lot_number}/counts/",
        {
            "day": day,
            "measured_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "total_cells_per_ml": 2.0e6,
            "viable_cells_per_ml": 1.8e6,
            "volume_ml": "100",
        },
        format="json",
    )
    if taken:
        assert r.status_code == 201, r.json()
    else:
        assert r.status_code == 400 and list(r.json()) == ["day"], r.json()
        assert not CellCount.objects.exists()
