"""The training API: procedures with the version in effect, training records listed and
recorded (QA, signed), each refusal a 400 naming its field."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from batches.services import training
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.clause("21 CFR 11.10(i)")]


@pytest.fixture
def version(qa):
    procedure = training.procedure_create(actor=qa, code="SOP-MFG-012", title="Thaw")
    return training.procedure_version_issue(
        actor=qa, procedure=procedure, effective_on=date(2020, 1, 1), document_reference="DMS-12"
    )


@pytest.fixture
def body(version, technician):
    trainer = UserFactory.create(username="trainer", role="technician")
    return {
        "procedure_version": version.pk,
        "trainee": technician.username,
        "trained_by": trainer.username,
        "trained_on": str(timezone.localdate() - timedelta(days=1)),
        "assessment": "passed",
        "password": PASSWORD,
    }


def test_procedures_list_their_versions_and_the_one_in_effect(api, technician, version):
    r = api.as_user(technician).get("/api/v1/procedures/")
    assert r.status_code == 200
    (procedure,) = r.json()["results"]
    assert procedure["code"] == "SOP-MFG-012" and procedure["version_in_effect"] == 1
    assert procedure["versions"][0]["document_reference"] == "DMS-12"
    assert api.get("/api/v1/procedures/SOP-MFG-012/").status_code == 200


def test_qa_records_a_training_and_it_is_listed(api, qa, technician, body):
    r = api.as_user(qa).post("/api/v1/training-records/", body, format="json")
    assert r.status_code == 201, r.json()
    record = r.json()
    assert (record["procedure"], record["version"], record["trainee"]) == (
        "SOP-MFG-012",
        1,
        technician.username,
    )
    listed = api.as_user(technician).get(
        "/api/v1/training-records/", {"trainee__username": technician.username}
    )
    assert [row["id"] for row in listed.json()["results"]] == [record["id"]]
    signatures = api.get(f"/api/v1/training-records/{record['id']}/signatures/").json()
    assert signatures["results"][0]["meaning"] == "approved"


def test_a_technician_may_not_record_training(api, technician, body):
    r = api.as_user(technician).post("/api/v1/training-records/", body, format="json")
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trained_by": "TRAINEE"}, "trained_by"),
        ({"trained_on": "2999-01-01"}, "trained_on"),
        ({"expires_on": "2001-01-01"}, "expires_on"),
        ({"assessment": "maybe"}, "assessment"),
        ({"procedure_version": 999999}, "procedure_version"),
        ({"trainee": "nobody"}, "trainee"),
        ({"password": "wrong"}, "password"),
    ],
)
def test_each_refusal_is_a_400_naming_its_field(api, qa, technician, body, change, field):
    change = {k: technician.username if v == "TRAINEE" else v for k, v in change.items()}
    r = api.as_user(qa).post("/api/v1/training-records/", {**body, **change}, format="json")
    assert r.status_code == 400, r.json()
    assert field in r.json(), r.json()
