"""Release at a dose level through the API alone, with the CoA and the bag label read back."""

import io

import pytest
from pypdf import PdfReader

from batches.models import DoseUnit
from tests.batch_steps import result_all
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# Kept in one piece: the bags go from formulation through record review, QA release and the
# dose assignment to the printed label and CoA, each step needing the one before.
def test_formulate_review_release_assign_and_documents(
    api, in_qc_batch, technician, qc_analyst, qa, clinical
):
    lot = in_qc_batch.lot_number
    result_all(in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    r = api.as_user(technician).post(
        f"/api/v1/batches/{lot}/formulate/",
        {
            "bags": [
                {"division": "A0", "presentation": "cryopreserved", "volume_ml": "40"},
                {"division": "B0", "presentation": "cryopreserved", "volume_ml": "40"},
            ],
            "password": PASSWORD,
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = {"decision": "release", "reason": "All release tests in spec", "password": PASSWORD}
    r = api.as_user(qa).post(f"/api/v1/batches/{lot}/release/", body, format="json")
    assert r.status_code == 400 and "not been reviewed" in r.json()["decision"][0]
    assert (
        api.as_user(technician)
        .post(f"/api/v1/batches/{lot}/record-review/", {"password": PASSWORD}, format="json")
        .status_code
        == 403
    )
    assert (
        api.as_user(qa)
        .post(f"/api/v1/batches/{lot}/record-review/", {"password": PASSWORD}, format="json")
        .status_code
        == 201
    )
    r = api.as_user(qa).post(f"/api/v1/batches/{lot}/release/", body, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "released"
    again = api.post(f"/api/v1/batches/{lot}/release/", body, format="json")
    assert again.status_code in (400, 409)

    bag = DoseUnit.objects.get(division="A0")
    client = api.as_user(clinical)
    calc = client.get(
        f"/api/v1/doses/{bag.pk}/calculation/", {"recipient": "CARNK-QC", "dose_level": "DL2"}
    ).json()
    assert calc["refusals"] == [] and calc["arithmetic"][0].startswith("Dose = 1 × 10⁶")
    wrong = client.get(
        f"/api/v1/doses/{bag.pk}/calculation/", {"recipient": "CARNK-QC", "dose_level": "DL3"}
    ).json()
    assert any("is assigned DL2, not DL3" in x for x in wrong["refusals"])
    r = client.post(
        f"/api/v1/doses/{bag.pk}/assign/",
        {"recipient": "CARNK-QC", "dose_level": "DL2"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "assigned" and r.json()["recipient"] == "CARNK-QC"

    label = client.get(f"/api/v1/doses/{bag.pk}/label/")
    assert label.status_code == 200 and label["Content-Type"] == "application/pdf"
    text = pdf_text(label.content)
    din = in_qc_batch.din
    assert din[:5] in text and "CARNK-QC" in text and "DL2" in text
    assert "Advise patient" not in text  # eligible donor: no 21 CFR 1271 warnings

    coa = api.as_user(qa).get(f"/api/v1/batches/{lot}/coa/")
    assert coa.status_code == 200
    text = pdf_text(coa.content)
    assert lot in text and "Endotoxin" in text and "Certificate of Analysis" in text
    assert "Vector copy" in text and "Released" in text


def test_bad_formulation_input_is_400(api, in_qc_batch, technician):
    r = api.as_user(technician).post(
        f"/api/v1/batches/{in_qc_batch.lot_number}/formulate/",
        {
            "bags": [{"division": "a", "presentation": "frozen", "volume_ml": "-1"}],
            "password": PASSWORD,
        },
        format="json",
    )
    assert r.status_code == 400
    assert DoseUnit.objects.count() == 0


def test_dose_endpoints_refuse_unknown_recipient_and_level(api, in_qc_batch, technician, clinical):
    from decimal import Decimal

    from batches.services.release import dose_units_formulate

    bag = dose_units_formulate(
        actor=technician,
        password=PASSWORD,
        batch=in_qc_batch,
        bags=[{"division": "A0", "presentation": "fresh", "volume_ml": Decimal("10")}],
    )[0]
    r = api.as_user(clinical).get(
        f"/api/v1/doses/{bag.pk}/calculation/", {"recipient": "nobody", "dose_level": "DL9"}
    )
    assert r.status_code == 400 and {"recipient", "dose_level"} <= set(r.json())


def test_coa_prints_the_username_of_people_without_a_name(api, in_qc_batch, qc_analyst, qa):
    from batches.services.batch_record import deviation_open

    reviewer = UserFactory(username="qc-noname", role="qc_analyst", first_name="", last_name="")
    opener = UserFactory.create(
        username="tech-noname", role="technician", first_name="", last_name=""
    )
    result_all(in_qc_batch, qc_analyst, reviewer)
    deviation_open(
        actor=opener,
        batch=in_qc_batch,
        kind="other",
        what="Label reprinted",
        why="Smudged",
        impact="None",
    )
    r = api.as_user(qa).get(f"/api/v1/batches/{in_qc_batch.lot_number}/coa/")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    text = pdf_text(b"".join(r.streaming_content) if r.streaming else r.content)
    assert "qc-noname" in text and "tech-noname" in text


def test_pages_print_the_username_of_people_without_a_name(client, qa):
    from django.urls import reverse

    nameless = UserFactory(username="qa-noname", role="qa", first_name="", last_name="")
    client.force_login(nameless)
    page = client.get(reverse("home")).content.decode()
    assert "<strong>qa-noname</strong>" in page
    client.force_login(qa)
    page = client.get(reverse("home")).content.decode()
    assert f"<strong>{qa.get_full_name()}</strong>" in page


def test_no_coa_before_day_0(api, planned_batch, qa):
    r = api.as_user(qa).get(f"/api/v1/batches/{planned_batch.lot_number}/coa/")
    assert r.status_code == 409
    assert "before the batch has started" in r.json()["detail"]
