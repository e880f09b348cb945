"""The infusion through the API in two signed parts (start, then `complete/`), the one-call
infusion, and a bag's hand-off confirmed by both parties' passwords; bad input is a 400 per
field, never a 500."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import CustodyEvent, DoseUnit, Infusion
from batches.services import bedside
from carnk_mfg.models import ElectronicSignature
from tests.batch_steps import bedside_scans
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def check(issued_bag, clinical):
    return bedside.bedside_verify(actor=clinical, **bedside_scans(issued_bag))


def test_start_then_complete(api, check, clinical):
    client = api.as_user(clinical)
    started = client.post(
        "/api/v1/infusions/",
        {
            "bedside_check": check.pk,
            "started_at": check.checked_at.isoformat(),
            "vitals": {"pre": {"hr": 80}},
            "password": PASSWORD,
        },
        format="json",
    )
    assert started.status_code == 201, started.json()
    body = started.json()
    assert body["in_progress"] is True and body["ended_at"] is None and body["volume_ml"] is None
    url = f"/api/v1/infusions/{body['id']}/complete/"
    early = (check.checked_at - timedelta(minutes=1)).isoformat()
    refused = client.post(
        url, {"ended_at": early, "volume_ml": "4.4", "password": PASSWORD}, format="json"
    )
    assert refused.status_code == 400 and "ended_at" in refused.json()
    assert client.post(url, {"volume_ml": "x"}, format="json").status_code == 400
    done = client.post(
        url,
        {
            "ended_at": timezone.now().isoformat(),
            "volume_ml": "4.4",
            "vitals": {"post": {"hr": 84}},
            "reactions": "none",
            "password": PASSWORD,
        },
        format="json",
    )
    assert done.status_code == 200, done.json()
    assert done.json()["in_progress"] is False
    assert done.json()["vitals"] == {"pre": {"hr": 80}, "post": {"hr": 84}}
    again = client.post(
        url,
        {"ended_at": timezone.now().isoformat(), "volume_ml": "4.4", "password": PASSWORD},
        format="json",
    )
    assert again.status_code == 400 and "completed at" in str(again.json())
    signatures = client.get(f"/api/v1/infusions/{body['id']}/signatures/").json()
    assert len(signatures.get("results", signatures)) == 2


def test_the_one_call_infusion_half_given_is_refused_whole(api, check, clinical):
    response = api.as_user(clinical).post(
        "/api/v1/infusions/",
        {
            "bedside_check": check.pk,
            "started_at": check.checked_at.isoformat(),
            "ended_at": timezone.now().isoformat(),
            "password": PASSWORD,
        },
        format="json",
    )
    assert response.status_code == 400 and "volume_ml" in response.json()
    assert not Infusion.objects.exists()


def test_custody_needs_both_passwords(api, issued_bag, clinical, courier):
    client = api.as_user(courier)
    data = {
        "kind": "ship",
        "released_by": clinical.username,
        "released_by_password": PASSWORD,
        "received_by": courier.username,
        "received_by_password": "wrong",
        "from_location": "Lab",
        "to_location": "Courier",
        "occurred_at": timezone.now().isoformat(),
    }
    url = f"/api/v1/doses/{issued_bag.pk}/custody/"
    signatures = ElectronicSignature.objects.count()
    response = client.post(url, data, format="json")
    assert response.status_code == 400 and list(response.json()) == ["received_by_password"]
    assert ElectronicSignature.objects.count() == signatures
    assert not CustodyEvent.objects.filter(kind="ship").exists()
    response = client.post(url, {**data, "received_by_password": PASSWORD}, format="json")
    assert response.status_code == 201, response.json()
    assert ElectronicSignature.objects.count() == signatures + 2
    # A courier does not issue: that is clinical staff's.
    other = DoseUnit.objects.get(batch=issued_bag.batch, division="B0")
    response = client.post(
        f"/api/v1/doses/{other.pk}/custody/",
        {**data, "kind": "issue", "received_by_password": PASSWORD},
        format="json",
    )
    assert response.status_code == 403
