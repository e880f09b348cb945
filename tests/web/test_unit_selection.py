"""Web UI: unit selection on the cord blood unit page: the match to a recipient, DSA recorded,
allocation for a recipient with its rationale, and typing refused per field."""

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import CordBloodUnit, DonorSpecificAntibody, UnitSelection, UnitStatus
from tests.factories import RecipientFactory
from tests.web.test_donor import register_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def recipient(db):
    return RecipientFactory.create(
        hla_a="A*02:01, A*24:02",
        hla_b="B*07:02, B*08:01",
        hla_c="C*07:01, C*07:02",
        hla_drb1="DRB1*04:01, DRB1*15:01",
    )


def test_unit_page_shows_the_match_to_the_recipient_considered(
    client, clinical, eligible_unit, recipient
):
    client.force_login(clinical)
    url = f"{eligible_unit.get_absolute_url()}?recipient={recipient.subject_id}"
    response = client.get(url)
    match = response.context["match"]
    assert str(match.grade) == "5/6"
    html = response.content.decode()
    assert '<td id="match-grade">5/6</td>' in html
    assert "recipient lacks C2" in html
    # The allocation form offers the recipient being considered.
    assert response.context["allocate_form"].initial["recipient"] == recipient


def test_allocation_for_a_recipient_needs_a_rationale_then_records_it(
    client, clinical, eligible_unit, recipient
):
    client.force_login(clinical)
    url = reverse("cbu-allocate", args=[eligible_unit.din])
    response = client.post(url, {"reason": "For CARNK", "recipient": recipient.subject_id})
    assert response.status_code == 200
    assert "selection_rationale" in response.context["allocate_form"].errors
    assert CordBloodUnit.objects.get(pk=eligible_unit.pk).status == UnitStatus.AVAILABLE
    response = client.post(
        url,
        {
            "reason": "For CARNK",
            "recipient": recipient.subject_id,
            "selection_rationale": "Best grade; C2 KIR-ligand mismatch",
        },
    )
    assert response.status_code == 302
    selection = UnitSelection.objects.get()
    assert selection.rationale == "Best grade; C2 KIR-ligand mismatch"
    html = client.get(eligible_unit.get_absolute_url()).content.decode()
    assert "Best grade; C2 KIR-ligand mismatch" in html and "5/6" in html


def test_unknown_recipient_is_a_form_error(client, clinical, eligible_unit):
    client.force_login(clinical)
    url = reverse("cbu-allocate", args=[eligible_unit.din])
    response = client.post(url, {"reason": "r", "recipient": "NOBODY", "selection_rationale": "x"})
    assert response.status_code == 200
    assert "recipient" in response.context["allocate_form"].errors


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"present": "true", "mfi": ""}, "mfi"),
        ({"mfi": "-1"}, "mfi"),
        ({"tested_on": "soon"}, "tested_on"),
    ],
)
def test_dsa_bad_input_is_a_form_error(
    client, clinical, eligible_unit, recipient, overrides, field
):
    client.force_login(clinical)
    data = {
        "recipient": recipient.subject_id,
        "present": "false",
        "mfi": "",
        "tested_on": str(timezone.localdate()),
        "reason": "Single antigen beads",
        **overrides,
    }
    response = client.post(reverse("cbu-dsa", args=[eligible_unit.din]), data)
    assert response.status_code == 200
    assert field in response.context["dsa_form"].errors
    assert not DonorSpecificAntibody.objects.exists()


def test_dsa_recorded_shows_in_the_match(client, clinical, eligible_unit, recipient):
    client.force_login(clinical)
    data = {
        "recipient": recipient.subject_id,
        "present": "true",
        "mfi": "2500",
        "tested_on": str(timezone.localdate()),
        "reason": "Single antigen beads",
    }
    assert client.post(reverse("cbu-dsa", args=[eligible_unit.din]), data).status_code == 302
    url = f"{eligible_unit.get_absolute_url()}?recipient={recipient.subject_id}"
    assert "present, MFI 2500" in client.get(url).content.decode()


@pytest.mark.parametrize(
    "overrides, field",
    [({"hla_b": "B*07:02, DRB1*04:01"}, "hla_b"), ({"hla_drb1": "DR4"}, "hla_drb1")],
)
def test_unreadable_typing_is_a_form_error(client, technician, overrides, field):
    client.force_login(technician)
    response = client.post(reverse("cbu-register"), register_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not CordBloodUnit.objects.exists()
