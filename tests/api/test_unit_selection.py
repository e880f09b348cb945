"""Unit selection over the API: the match of a unit to a recipient, donor-specific antibodies,
allocation for a recipient with its rationale, and typing refused per field. The rules are
proven in tests/test_hla.py and tests/services/test_unit_selection.py."""

import pytest
from django.utils import timezone

from batches.models import CordBloodUnit, DonorSpecificAntibody, UnitSelection
from tests.api.test_donor import URL, payload
from tests.factories import CordBloodUnitFactory, RecipientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(db):
    unit = CordBloodUnitFactory.create()  # C*05:01 (C2), C*07:02 (C1); B*44 (Bw4)
    recipient = RecipientFactory.create(
        hla_a="A*02:01, A*24:02",
        hla_b="B*07:02, B*08:01",
        hla_c="C*07:01, C*07:02",
        hla_drb1="DRB1*04:01, DRB1*15:01",
    )
    return unit, recipient


def test_match_shows_grade_kir_ligands_mismatch_and_dsa(api, clinical, pair):
    unit, recipient = pair
    client = api.as_user(clinical)
    r = client.post(
        f"{URL}{unit.din}/dsa/",
        {
            "recipient": recipient.subject_id,
            "present": True,
            "mfi": 3200,
            "tested_on": str(timezone.localdate()),
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = client.get(f"{URL}{unit.din}/match/?recipient={recipient.subject_id}").json()
    assert (body["match_grade"], body["matches"], body["out_of"]) == ("5/6", 5, 6)
    assert body["unit_kir_ligands"]["c_group"] == "C1/C2"
    assert body["recipient_kir_ligands"]["bw4"] is True  # A*24 carries Bw4
    assert body["kir_ligand_mismatch"] is True
    assert body["kir_ligands_recipient_lacks"] == ["C2"]
    assert (body["dsa"]["present"], body["dsa"]["mfi"]) == (True, 3200)


@pytest.mark.parametrize("query", ["", "?recipient=NOBODY"])
def test_match_without_a_known_recipient_is_400(api, clinical, pair, query):
    unit, _ = pair
    r = api.as_user(clinical).get(f"{URL}{unit.din}/match/{query}")
    assert r.status_code == 400
    assert "recipient" in r.json()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"mfi": None}, "mfi"),  # present needs its MFI
        ({"mfi": -5}, "mfi"),
        ({"tested_on": "last week"}, "tested_on"),
        ({"tested_on": "2999-01-01"}, "tested_on"),
        ({"present": "perhaps"}, "present"),
        ({"recipient": "NOBODY"}, "recipient"),
    ],
)
def test_dsa_bad_input_is_400_per_field(api, clinical, pair, overrides, field):
    unit, recipient = pair
    body = {
        "recipient": recipient.subject_id,
        "present": True,
        "mfi": 1000,
        "tested_on": str(timezone.localdate()),
        **overrides,
    }
    r = api.as_user(clinical).post(f"{URL}{unit.din}/dsa/", body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json(), r.json()
    assert not DonorSpecificAntibody.objects.exists()


def test_allocation_for_a_recipient_records_the_selection(api, clinical, pair):
    unit, recipient = pair
    client = api.as_user(clinical)
    r = client.post(
        f"{URL}{unit.din}/allocate/",
        {"reason": "For CARNK", "recipient": recipient.subject_id},
        format="json",
    )
    assert r.status_code == 400 and "selection_rationale" in r.json(), r.json()
    assert CordBloodUnit.objects.get(pk=unit.pk).status == "available"
    r = client.post(
        f"{URL}{unit.din}/allocate/",
        {
            "reason": "For CARNK",
            "recipient": recipient.subject_id,
            "selection_rationale": "5/6, C2 mismatch in GvH direction, no DSA above cut-off",
        },
        format="json",
    )
    assert r.status_code == 200, r.json()
    selection = UnitSelection.objects.get()
    assert (selection.recipient, selection.match_grade) == (recipient, "5/6")


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"hla_a": "A2, A3"}, "hla_a"),
        ({"hla_b": "B*07:02, DRB1*04:01"}, "hla_b"),
        ({"hla_drb1": "DRB1*04:01, DRB1*15:01, DRB1*01:01"}, "hla_drb1"),
    ],
)
def test_unreadable_typing_is_400_per_field(api, technician, overrides, field):
    r = api.as_user(technician).post(URL, payload(**overrides), format="json")
    assert r.status_code == 400, r.content
    assert list(r.json()) == [field], r.json()
    assert not CordBloodUnit.objects.exists()


def test_recipient_typing_is_400_per_field(api, clinical, pair):
    _, recipient = pair
    r = api.as_user(clinical).patch(
        f"/api/v1/recipients/{recipient.subject_id}/",
        {"hla_c": "Cw7", "reason": "Retyped"},
        format="json",
    )
    assert r.status_code == 400 and "hla_c" in r.json(), r.content
