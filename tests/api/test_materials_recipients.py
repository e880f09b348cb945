"""Material lot and recipient API, token auth, schema, probes. The usability rule and the
registration rules are proven in tests/services/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import VectorLot
from tests.factories import PASSWORD, RecipientFactory, UserFactory, certificate_for

pytestmark = pytest.mark.django_db


def vector_body(**overrides):
    today = timezone.localdate()
    body = {
        "lot_number": "RV-77",
        "manufacturer": "Vector Core",
        "received_on": today.isoformat(),
        "expiry_date": (today + timedelta(days=200)).isoformat(),
        "titer_iu_per_ml": 2e7,
        "rcr_result": "negative",
        "quantity_received": "40",
        "unit": "ml",
    }
    body.update(overrides)
    return body


def test_lot_registered_quarantined_then_released_by_qa(api, technician, qa):
    r = api.as_user(technician).post("/api/v1/vector-lots/", vector_body(), format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["status"] == "quarantined" and r.json()["usable"] is False
    assert "quarantined" in r.json()["unusable_reason"]
    certificate_for(VectorLot.objects.get(lot_number="RV-77"), technician)
    r = api.as_user(qa).post(
        "/api/v1/vector-lots/RV-77/disposition/",
        {"status": "released", "reason": "CoA reviewed", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["usable"] is True


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"titer_iu_per_ml": -5}, "titer_iu_per_ml"),
        ({"expiry_date": "2020-13-45"}, "expiry_date"),
        ({"rcr_result": "maybe"}, "rcr_result"),
        ({"lot_number": ""}, "lot_number"),
    ],
)
def test_bad_lot_input(api, technician, overrides, field):
    r = api.as_user(technician).post(
        "/api/v1/vector-lots/", vector_body(**overrides), format="json"
    )
    assert r.status_code == 400
    assert field in r.json()
    assert VectorLot.objects.count() == 0


def test_unknown_lot_is_404(api, qa):
    assert api.as_user(qa).get("/api/v1/feeder-lots/NOPE/").status_code == 404
    r = api.post(
        "/api/v1/feeder-lots/NOPE/disposition/",
        {"status": "released", "reason": "x", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 404


def test_recipient_register_update_weight(api, clinical):
    client = api.as_user(clinical)
    today = timezone.localdate()
    r = client.post(
        "/api/v1/recipients/",
        {
            "subject_id": "CARNK-900",
            "diagnosis": "CLL",
            "dose_level": "DL1",
            "date_of_birth": "1975-02-03",
            "medical_record_number": "MRN-1",
            "weight_kg": "70.5",
            "weight_measured_on": (today - timedelta(days=3)).isoformat(),
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert (r.json()["date_of_birth"], r.json()["medical_record_number"]) == ("1975-02-03", "MRN-1")
    future = (today + timedelta(days=1)).isoformat()
    r = client.patch(
        "/api/v1/recipients/CARNK-900/",
        {"date_of_birth": future, "reason": "Typo"},
        format="json",
    )
    assert r.status_code == 400 and "date_of_birth" in r.json(), r.content
    r = client.post(
        "/api/v1/recipients/CARNK-900/weights/",
        {"weight_kg": "69.0", "measured_on": today.isoformat()},
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert [w["weight_kg"] for w in r.json()["weights"]] == ["69.0", "70.5"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"weight_kg": "-1", "measured_on": "2026-01-01"}, "weight_kg"),
        ({"weight_kg": "abc", "measured_on": "2026-01-01"}, "weight_kg"),
        ({"weight_kg": "70"}, "measured_on"),
    ],
)
def test_bad_weights(api, clinical, body, field):
    recipient = RecipientFactory.create()
    r = api.as_user(clinical).post(
        f"/api/v1/recipients/{recipient.subject_id}/weights/", body, format="json"
    )
    assert r.status_code == 400, r.content
    assert field in r.json()
    assert recipient.weights.count() == 1


def test_token_endpoint(api, technician):
    r = api.post(
        "/api/v1/auth/token/",
        {"username": technician.username, "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 200
    token = r.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/donor-units/").status_code == 200
    bad = api.post(
        "/api/v1/auth/token/", {"username": technician.username, "password": "no"}, format="json"
    )
    assert bad.status_code == 400


def test_schema_and_docs_are_served_without_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/donor-units/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_health_probes(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json()
    assert ready.json()["database"] == "ok" and ready.json()["broker"] == "ok"


def test_openapi_schema_is_valid_and_warning_free(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "instrumentKey" in text and "/api/v1/readings/" in text and "/api/v1/imports/" in text
    assert "Vi-CELL BLU summary, queued for parsing" in text  # the import endpoint's example


def test_recipient_treating_clinician_by_username(api, clinical, qa):
    client = api.as_user(clinical)
    body = {
        "subject_id": "CARNK-901",
        "diagnosis": "NHL",
        "weight_kg": "70.5",
        "weight_measured_on": timezone.localdate().isoformat(),
    }
    for who in (qa.username, "nobody"):
        r = client.post("/api/v1/recipients/", {**body, "treating_clinician": who}, format="json")
        assert r.status_code == 400
        assert r.json()["treating_clinician"] == [f"{who} is not active clinical staff."]
    r = client.post("/api/v1/recipients/", body, format="json")
    assert r.status_code == 201 and r.json()["treating_clinician"] == clinical.username
    colleague = UserFactory.create(username="clinic-b", role="clinical")
    url = "/api/v1/recipients/CARNK-901/clinician/"
    r = client.post(url, {"treating_clinician": colleague.username}, format="json")
    assert r.status_code == 400 and "reason" in r.json()
    r = client.post(url, {"treating_clinician": qa.username, "reason": "x"}, format="json")
    assert r.status_code == 400 and "treating_clinician" in r.json()
    r = client.post(
        url, {"treating_clinician": colleague.username, "reason": "On leave"}, format="json"
    )
    assert r.status_code == 200 and r.json()["treating_clinician"] == "clinic-b"
    r = api.as_user(qa).post(url, {"treating_clinician": clinical.username, "reason": "x"})
    assert r.status_code == 403
