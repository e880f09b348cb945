"""POST /api/v1/batches/{lot}/counts/: one count per culture day, a correction with
`corrects` and `correction_reason`, and two simultaneous posts of a day giving 201 and 400
(never a 500). The rule itself is proven in tests/services/test_count_rule.py."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from batches.models import CellCount
from tests.conftest import TokenClient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def body(day=13, viable=1.8e6, **extra):
    return {
        "day": day,
        "measured_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "total_cells_per_ml": viable * 1.1,
        "viable_cells_per_ml": viable,
        "volume_ml": "50",
        **extra,
    }


def url(batch):
    return f"/api/v1/batches/{batch.lot_number}/counts/"


def test_a_second_count_is_400_and_a_correction_201(api, technician, running_batch):
    client = api.as_user(technician)
    assert client.post(url(running_batch), body(), format="json").status_code == 201
    first = CellCount.objects.get()
    again = client.post(url(running_batch), body(viable=2e6), format="json")
    assert again.status_code == 400
    assert list(again.json()) == ["day"]
    assert f"already has a day 13 count (count {first.pk}" in again.json()["day"][0]

    no_reason = client.post(url(running_batch), body(corrects=first.pk), format="json")
    assert no_reason.status_code == 400 and list(no_reason.json()) == ["correction_reason"]
    bad = client.post(url(running_batch), body(corrects=0, correction_reason="x"), format="json")
    assert bad.status_code == 400 and list(bad.json()) == ["corrects"]

    fixed = client.post(
        url(running_batch),
        body(viable=1.5e6, corrects=first.pk, correction_reason="Typed the wrong flask"),
        format="json",
    )
    assert fixed.status_code == 201, fixed.json()
    # The record lists both counts of the day, the first marked as corrected by the second.
    first_out, day13 = [c for c in fixed.json()["counts"] if c["day"] == 13]
    assert first_out["id"] == first.pk and first_out["corrected_by"] == day13["id"]
    assert day13["corrects"] == first.pk and day13["correction_reason"] == "Typed the wrong flask"
    assert day13["corrected_by"] is None and day13["viable_cells_per_ml"] == 1.5e6


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_of_a_day_give_201_and_400(technician, running_batch):
    other = UserFactory.create(username="tech-b", role="technician")
    barrier = threading.Barrier(2)
    codes = []

    def post(user, viable):
        client = TokenClient().as_user(user)
        barrier.wait()
        codes.append(
            client.post(url(running_batch), body(viable=viable), format="json").status_code
        )
        connection.close()

    threads = [
        threading.Thread(target=post, args=args) for args in ((technician, 1.6e6), (other, 1.7e6))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201, 400], codes
    assert CellCount.objects.filter(batch=running_batch).count() == 1


def test_the_schema_documents_the_correction_fields():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    count_in = schema["components"]["schemas"]["CountInRequest"]["properties"]
    assert "one count per culture day" in count_in["corrects"]["description"]
    assert "required with `corrects`" in count_in["correction_reason"]["description"]
    reading_in = schema["components"]["schemas"]["ReadingInRequest"]["properties"]
    assert set(reading_in) >= {"corrects", "correction_reason"}
