"""An off-the-shelf batch (made for no recipient) is released on its own QC; the CD3+ T cells
per kg limit is a property of a dose, checked when a bag is assigned to a recipient."""

import pytest

from batches.models import Batch, DoseUnit, ProtocolDoseLevel
from qc.models import QcTest
from tests.batch_steps import result_all
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def off_the_shelf(in_qc_batch):
    Batch.objects.filter(pk=in_qc_batch.pk).update(intended_recipient=None)
    in_qc_batch.refresh_from_db()
    return in_qc_batch


def release_through_the_api(api, batch, technician, qa):
    lot = batch.lot_number
    r = api.as_user(technician).post(
        f"/api/v1/batches/{lot}/formulate/",
        {
            "bags": [{"division": "A0", "presentation": "cryopreserved", "volume_ml": "40"}],
            "password": PASSWORD,
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    r = api.as_user(qa).post(
        f"/api/v1/batches/{lot}/record-review/", {"password": PASSWORD}, format="json"
    )
    assert r.status_code == 201, r.json()
    return api.as_user(qa).post(
        f"/api/v1/batches/{lot}/release/",
        {"decision": "release", "reason": "Stock for the trial", "password": PASSWORD},
        format="json",
    )


def test_a_batch_for_no_recipient_is_released_through_the_api(
    api, off_the_shelf, technician, qc_analyst, qa
):
    result_all(off_the_shelf, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    codes = set(
        QcTest.objects.filter(batch=off_the_shelf).values_list("definition__code", flat=True)
    )
    assert "cd3_pct" in codes and "cd3_per_kg" not in codes
    response = release_through_the_api(api, off_the_shelf, technician, qa)
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "released"
    assert response.json()["intended_recipient"] is None


def test_the_cd3_limit_of_the_dose_level_refuses_the_assignment(
    api, off_the_shelf, technician, qc_analyst, qa, clinical
):
    from tests.factories import RecipientFactory

    result_all(off_the_shelf, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    assert release_through_the_api(api, off_the_shelf, technician, qa).status_code == 200
    bag = DoseUnit.objects.get(batch=off_the_shelf)
    RecipientFactory(subject_id="CARNK-077")  # 72.5 kg, DL2
    client = api.as_user(clinical)
    url = f"/api/v1/doses/{bag.pk}/calculation/"
    calc = client.get(url, {"recipient": "CARNK-077", "dose_level": "DL2"}).json()
    # DL2 for 72.5 kg from this bag: about 1.3e3 CD3+ cells per kg, far below 2e5.
    assert calc["cd3_limit_per_kg"] == 2e5 and calc["refusals"] == []
    ProtocolDoseLevel.objects.filter(code="DL2").update(max_cd3_cells_per_kg=1e3)
    calc = client.get(url, {"recipient": "CARNK-077", "dose_level": "DL2"}).json()
    assert calc["cd3_limit_per_kg"] == 1e3
    assert any("at or above the limit of 1000 per kg" in r for r in calc["refusals"])
    response = client.post(
        f"/api/v1/doses/{bag.pk}/assign/",
        {"recipient": "CARNK-077", "dose_level": "DL2"},
        format="json",
    )
    assert response.status_code == 400 and "CD3+ T cells would be" in str(response.json())
    bag.refresh_from_db()
    assert bag.status == "released" and bag.recipient is None
