"""Deviations classified and CAPAs through the API alone: QA classifies a deviation with its
root cause, raises a CAPA on a major one, the owner completes it and QA verifies it, signed.
A deviation closes only once classified and, when major or critical, with a CAPA; each
refusal is a 400 naming its field, with nothing written. Who may call each operation is
tests/api/test_permission_matrix.py; the rules themselves are proven in tests/services/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import Capa, Deviation
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def deviation(api, technician, running_batch):
    """A deviation the floor opened on the running batch (holding it)."""
    r = api.as_user(technician).post(
        f"/api/v1/batches/{running_batch.lot_number}/deviations/",
        {
            "kind": "other",
            "what": "Incubator door left ajar for 10 minutes",
            "why": "Door latch worn",
            "impact": "Culture temperature dipped to 35.8 °C",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    return Deviation.objects.get(pk=r.json()["id"])


def _path(deviation, action):
    return f"/api/v1/batches/{deviation.batch.lot_number}/deviations/{deviation.pk}/{action}/"


def classify(client, deviation, classification, root_cause="Door latch worn out"):
    return client.post(
        _path(deviation, "classify"),
        {"classification": classification, "root_cause": root_cause},
        format="json",
    )


def close(client, deviation, **extra):
    return client.post(
        _path(deviation, "disposition"),
        {"disposition": "accept", "notes": "No impact on product", "password": PASSWORD, **extra},
        format="json",
    )


def capa_body(deviation, owner, change=None):
    today = timezone.localdate()
    return {
        "deviations": [deviation.pk],
        "action": "Replace the incubator latch; add a door check to the shift log",
        "owner": owner.username,
        "due_on": str(today + timedelta(days=14)),
        "effectiveness_check_on": str(today + timedelta(days=60)),
        **(change or {}),
    }


# --- the whole path ---


def test_a_major_deviation_closes_once_its_capa_is_raised_done_and_verified(
    api, qa, technician, deviation
):
    r = classify(api.as_user(qa), deviation, "major")
    assert r.status_code == 200, r.json()
    classified = r.json()
    assert (classified["classification"], classified["root_cause"]) == (
        "major",
        "Door latch worn out",
    )
    assert classified["state"] == "open" and classified["classified_at"]

    # Major: not closed without a CAPA.
    r = close(api, deviation)
    assert r.status_code == 400 and "capa" in r.json(), r.json()
    deviation.refresh_from_db()
    assert deviation.state == "open"

    r = api.post("/api/v1/capas/", capa_body(deviation, technician), format="json")
    assert r.status_code == 201, r.json()
    capa = r.json()
    assert (capa["state"], capa["owner"], capa["deviations"]) == (
        "open",
        technician.username,
        [deviation.pk],
    )
    assert capa["raised_by"] == qa.username and capa["overdue"] is False
    url = f"/api/v1/capas/{capa['id']}/"

    # Only its owner records it done.
    r = api.post(f"{url}complete/", {"notes": "Latch replaced"}, format="json")
    assert r.status_code == 400 and "owner" in r.json(), r.json()
    r = api.as_user(technician).post(f"{url}complete/", {"notes": "Latch replaced"}, format="json")
    assert r.status_code == 200, r.json()
    assert (r.json()["state"], r.json()["completed_by"]) == ("done", technician.username)

    r = api.as_user(qa).post(
        f"{url}verify/",
        {"effective": True, "result": "No door alarms in 30 days", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert (r.json()["state"], r.json()["verified_by"]) == ("effective", qa.username)
    signatures = api.get(f"{url}signatures/").json()["results"]
    assert [s["meaning"] for s in signatures] == ["approved"]

    r = close(api, deviation)
    assert r.status_code == 200, r.json()
    assert (r.json()["state"], r.json()["capas"]) == ("closed", [capa["id"]])
    listed = api.get("/api/v1/capas/", {"owner": technician.username}).json()["results"]
    assert [row["id"] for row in listed] == [capa["id"]]


def test_a_minor_deviation_closes_without_a_capa(api, qa, deviation):
    assert classify(api.as_user(qa), deviation, "minor").status_code == 200
    r = close(api, deviation)
    assert r.status_code == 200, r.json()
    assert (r.json()["state"], r.json()["classification"]) == ("closed", "minor")


def test_an_unclassified_deviation_does_not_close(api, qa, deviation):
    r = close(api.as_user(qa), deviation)
    assert r.status_code == 400
    assert {"classification", "root_cause"} <= set(r.json()), r.json()
    deviation.refresh_from_db()
    assert (deviation.state, deviation.classification) == ("open", "")


def test_a_critical_deviation_classified_on_closing_still_needs_a_capa(api, qa, deviation):
    r = close(api.as_user(qa), deviation, classification="critical", root_cause="Worn latch")
    assert r.status_code == 400 and "capa" in r.json(), r.json()
    deviation.refresh_from_db()
    assert (deviation.state, deviation.classification) == ("open", "")


# --- refusals ---


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"classification": "trivial", "root_cause": "x"}, "classification"),
        ({"classification": "", "root_cause": "x"}, "classification"),
        ({"root_cause": "x"}, "classification"),
        ({"classification": "minor", "root_cause": "bad\x00text"}, "root_cause"),
    ],
)
def test_a_bad_classification_is_a_400_naming_its_field(api, qa, deviation, body, field):
    r = api.as_user(qa).post(_path(deviation, "classify"), body, format="json")
    assert r.status_code == 400, r.json()
    assert field in r.json(), r.json()
    deviation.refresh_from_db()
    assert (deviation.classification, deviation.root_cause) == ("", "")


def test_the_floor_may_not_classify_nor_raise_a_capa(api, technician, deviation):
    client = api.as_user(technician)
    assert classify(client, deviation, "minor").status_code == 403
    r = client.post("/api/v1/capas/", capa_body(deviation, technician), format="json")
    assert r.status_code == 403
    assert Capa.objects.count() == 0


def test_a_closed_deviation_is_not_classified_again(api, qa, deviation):
    assert classify(api.as_user(qa), deviation, "minor").status_code == 200
    assert close(api, deviation).status_code == 200
    r = classify(api, deviation, "major")
    assert r.status_code == 400 and "classification" in r.json(), r.json()
    deviation.refresh_from_db()
    assert deviation.classification == "minor"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"due_on": "2001-01-01"}, "due_on"),
        ({"due_on": "next week"}, "due_on"),
        ({"due_on": "2999-01-01"}, "due_on"),
        ({"effectiveness_check_on": "2001-01-01"}, "effectiveness_check_on"),
        ({"owner": "nobody"}, "owner"),
        ({"deviations": [999999]}, "deviations"),
        ({"deviations": []}, "deviations"),
        ({"action": ""}, "action"),
    ],
)
def test_a_bad_capa_is_a_400_naming_its_field_and_nothing_is_raised(
    api, qa, technician, deviation, change, field
):
    r = api.as_user(qa).post(
        "/api/v1/capas/", capa_body(deviation, technician, change), format="json"
    )
    assert r.status_code == 400, r.json()
    assert field in r.json(), r.json()
    assert Capa.objects.count() == 0


def test_verifying_with_a_wrong_password_leaves_the_capa_done(api, qa, technician, deviation):
    r = api.as_user(qa).post("/api/v1/capas/", capa_body(deviation, technician), format="json")
    url = f"/api/v1/capas/{r.json()['id']}/"
    r = api.as_user(technician).post(f"{url}complete/", {"notes": "Latch replaced"}, format="json")
    assert r.status_code == 200, r.json()
    r = api.as_user(qa).post(
        f"{url}verify/",
        {"effective": True, "result": "No alarms", "password": "wrong"},
        format="json",
    )
    assert r.status_code == 400 and "password" in r.json(), r.json()
    assert api.get(url).json()["state"] == "done"
    assert api.get(f"{url}signatures/").json()["results"] == []
