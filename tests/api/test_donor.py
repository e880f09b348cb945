"""Donor unit API: registration by DIN + check character, bad input, eligibility, allocation.
The rules themselves are proven in tests/services/test_donor.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import CordBloodUnit, UrgentMedicalNeed
from carnk_mfg.models import ElectronicSignature
from tests.factories import PASSWORD, CordBloodUnitFactory, check_char, make_din

pytestmark = pytest.mark.django_db
URL = "/api/v1/donor-units/"


def payload(**overrides):
    din = make_din(4242)
    collected = timezone.now() - timedelta(days=100)
    body = {
        "din": din,
        "check_character": check_char(din),
        "product_code": "S1145V00",
        "source_bank": "Lone Star",
        "collected_at": collected.isoformat(),
        "cryopreserved_at": (collected + timedelta(hours=30)).isoformat(),
        "volume_ml": "24.5",
        "tnc_count": 1.3e9,
        "cd34_count": 4e6,
        "nrbc_count": 9e7,
        "viability_pct": "91.5",
        "hla_a": "A*02:01",
        "kir_ligand_group": "C1/C2",
        "freezer": "LN2-01",
        "rack": "R1",
        "box": "B1",
        "position": "A1",
        "password": PASSWORD,
    }
    body.update(overrides)
    return body


def test_register_unit_signs_and_flags(api, technician):
    response = api.as_user(technician).post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "received" and body["eligibility"] == "pending"
    assert len(body["flags"]) == 2  # 30 h to cryopreservation, NRBC 9e7 > 8e7
    assert "30.0 h" in body["flags"][0]
    assert ElectronicSignature.objects.filter(meaning="performed").count() == 1
    assert "password" not in body


# The API's one proof that a service refusal is a 400 naming the field, with the service's
# message, and nothing written (the check-character rule itself: tests/services/test_donor.py).
def test_wrong_check_character_is_refused_and_says_so(api, technician):
    din = make_din(4242)
    wrong = "A" if check_char(din) != "A" else "B"
    response = api.as_user(technician).post(URL, payload(check_character=wrong), format="json")
    assert response.status_code == 400
    message = response.json()["check_character"][0]
    assert f"is {check_char(din)}, not {wrong}" in message
    assert CordBloodUnit.objects.count() == 0


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"volume_ml": "-3"}, "volume_ml"),
        ({"viability_pct": "100.5"}, "viability_pct"),
        ({"tnc_count": "lots"}, "tnc_count"),
        ({"collected_at": "yesterday"}, "collected_at"),
        ({"kir_ligand_group": "C3/C3"}, "kir_ligand_group"),
        ({"freezer": ""}, "freezer"),
        ({"cd34_count": None}, "cd34_count"),
    ],
)
def test_bad_input_gives_400_per_field_and_writes_nothing(api, technician, overrides, field):
    response = api.as_user(technician).post(URL, payload(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert CordBloodUnit.objects.count() == 0


def test_missing_fields_are_each_named(api, technician):
    response = api.as_user(technician).post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"din", "check_character", "volume_ml", "password"} <= set(response.json())


@pytest.mark.parametrize("body", ["not json", "[1,2]", "null", '{"din": {"a": 1}}'])
def test_malformed_bodies_are_400(api, technician, body):
    response = api.as_user(technician).post(URL, body, content_type="application/json")
    assert response.status_code == 400


def test_eligibility_then_allocation(api, qa, clinical):
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    r = api.as_user(qa).post(
        f"{URL}{unit.din}/eligibility/",
        {"eligibility": "eligible", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "available"
    r = api.as_user(clinical).post(
        f"{URL}{unit.din}/allocate/", {"reason": "Batch for CARNK-001"}, format="json"
    )
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "allocated"


def test_allocating_an_ineligible_unit_takes_the_urgent_need_record(api, clinical):
    unit = CordBloodUnitFactory.create(eligibility="incomplete", status="quarantined")
    r = api.as_user(clinical).post(
        f"{URL}{unit.din}/allocate/",
        {
            "reason": "Only match",
            "urgent_need_justification": "Relapsed, no alternative product",
            "urgent_need_physician": "Dr. K. Rezvani",
        },
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert UrgentMedicalNeed.objects.get().unit_id == unit.pk


def test_list_filters_and_search(api, qc_analyst):
    CordBloodUnitFactory.create(status="available", source_bank="Alpha")
    CordBloodUnitFactory.create(status="quarantined", source_bank="Beta")
    client = api.as_user(qc_analyst)
    assert client.get(URL, {"status": "quarantined"}).json()["count"] == 1
    assert client.get(URL, {"search": "Alpha"}).json()["count"] == 1
    assert client.get(URL, {"status": "nonsense"}).status_code == 400


@pytest.mark.clause("21 CFR 11.50")
def test_history_and_signatures_endpoints(api, qa):
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    api.as_user(qa).post(
        f"{URL}{unit.din}/eligibility/",
        {"eligibility": "eligible", "password": PASSWORD},
        format="json",
    )
    history = api.get(f"{URL}{unit.din}/history/").json()["results"]
    assert [h["label"] for h in history] == ["insert", "update"]
    assert history[-1]["context"]["reason"].startswith("Donor eligibility determined")
    assert history[-1]["diff"]["eligibility"] == ["pending", "eligible"]
    sigs = api.get(f"{URL}{unit.din}/signatures/").json()["results"]
    assert sigs[0]["meaning"] == "approved"


def test_list_query_count_does_not_grow(api, qc_analyst, django_assert_max_num_queries):
    client = api.as_user(qc_analyst)
    CordBloodUnitFactory.create()
    with django_assert_max_num_queries(8) as few:
        client.get(URL)
    CordBloodUnitFactory.create_batch(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(URL).json()["count"] == 31


# --- the donor test panel ---


def donor_test(unit, **overrides):
    return {
        "marker": "hcv_nat",
        "sample_date": timezone.localdate(unit.collected_at).isoformat(),
        "result": "reactive",
        "test_kit": "Procleix Ultrio Elite",
        "kit_lot": "UE-2407",
        "laboratory": "Creative Testing Solutions",
        **overrides,
    }


@pytest.mark.clause("21 CFR 1271.80")
def test_record_a_donor_test_and_read_the_panel(api, technician, qa):
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    url = f"{URL}{unit.din}/donor-tests/"
    r = api.as_user(technician).post(url, donor_test(unit), format="json")
    assert r.status_code == 201, r.json()
    assert (r.json()["marker"], r.json()["result"], r.json()["unit"]) == (
        "hcv_nat",
        "reactive",
        unit.din,
    )
    panel = api.as_user(qa).get(url).json()
    assert panel["reactive"] == ["HCV NAT"] and panel["suggested"] == "ineligible"
    assert panel["missing"] == [] and len(panel["tests"]) == 8
    r = api.as_user(qa).post(
        f"{URL}{unit.din}/eligibility/",
        {"eligibility": "eligible", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 400
    assert r.json()["eligibility"][0].startswith("Reactive: HCV NAT.")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"marker": "HCV"}, "marker"),
        ({"marker": None}, "marker"),
        ({"result": "positive"}, "result"),
        ({"sample_date": "last week"}, "sample_date"),
        ({"sample_date": "2999-01-01"}, "sample_date"),
        ({"test_kit": ""}, "test_kit"),
        ({"kit_lot": "L" * 41}, "kit_lot"),
        ({"laboratory": "Lab\x00"}, "laboratory"),
        ({"reason": " "}, "reason"),
        ({"marker": "hbsag"}, "marker"),  # already recorded for this unit: not replaced
    ],
)
def test_a_bad_donor_test_is_400_per_field_and_writes_nothing(api, technician, overrides, field):
    unit = CordBloodUnitFactory.create()
    before = unit.donor_tests.count()
    r = api.as_user(technician).post(
        f"{URL}{unit.din}/donor-tests/", donor_test(unit, **overrides), format="json"
    )
    assert r.status_code == 400, r.content
    assert field in r.json(), r.json()
    assert unit.donor_tests.count() == before


def test_a_donor_test_of_an_unknown_unit_is_404(api, technician):
    r = api.as_user(technician).post(f"{URL}{make_din(77)}/donor-tests/", {}, format="json")
    assert r.status_code == 404
