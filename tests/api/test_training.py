"""The training API: procedures with the version in effect, training records listed and
recorded (QA, signed), each refusal a 400 naming its field."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from batches.models import Supervision
from batches.services import training
from carnk_mfg.audit import audit_history
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


def _supervision_of(person):
    from batches.selectors.training import supervisor_of

    found = supervisor_of(person)
    return found.username if found else None


def test_qa_names_a_persons_supervisor_with_a_reason(api, qa, technician):
    lead = UserFactory.create(username="floor-lead", role="technician")
    body = {"person": technician.username, "supervisor": lead.username, "reason": "New lead"}
    r = api.as_user(qa).post("/api/v1/training-records/supervisor/", body, format="json")
    assert r.status_code == 200, r.json()
    assert r.json() == {"person": technician.username, "supervisor": "floor-lead"}
    assert _supervision_of(technician) == "floor-lead"
    trail = [e.pgh_context for e in audit_history(Supervision.objects.get(person=technician))]
    assert [(c["actor_name"], c["reason"]) for c in trail] == [(qa.username, "New lead")]
    # Naming another replaces the one before.
    body = {**body, "supervisor": qa.username, "reason": "Lead on leave"}
    r = api.as_user(qa).post("/api/v1/training-records/supervisor/", body, format="json")
    assert r.status_code == 200 and _supervision_of(technician) == qa.username


def test_a_technician_may_not_name_a_supervisor(api, qa, technician):
    body = {"person": technician.username, "supervisor": qa.username, "reason": "Mine"}
    r = api.as_user(technician).post("/api/v1/training-records/supervisor/", body, format="json")
    assert r.status_code == 403
    assert _supervision_of(technician) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"supervisor": "nobody"}, "supervisor"),
        ({"person": "nobody"}, "person"),
        ({"supervisor": "SELF"}, "supervisor"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
    ],
)
def test_a_bad_supervisor_is_a_400_naming_its_field_and_nothing_changes(
    api, qa, technician, change, field
):
    body = {"person": technician.username, "supervisor": qa.username, "reason": "New lead"}
    change = {k: technician.username if v == "SELF" else v for k, v in change.items()}
    r = api.as_user(qa).post(
        "/api/v1/training-records/supervisor/", {**body, **change}, format="json"
    )
    assert r.status_code == 400, r.json()
    assert field in r.json(), r.json()
    assert _supervision_of(technician) is None


# --- refusing an untrained operator through the API ---


def test_a_step_by_an_untrained_operator_is_a_400_naming_the_procedure(
    api, qa, technician, version, running_batch
):
    from batches.models import ExecutedStep
    from carnk_mfg.models import ElectronicSignature
    from tests.batch_steps import step_payloads

    thaw = running_batch.template.steps.get(code="thaw_isolation")
    training.step_qualification_require(
        actor=qa, template_step=thaw, procedure=version.procedure, purpose="perform"
    )
    code, at, values, materials = step_payloads(
        timezone.now() - timedelta(days=1), din=running_batch.source_unit.din
    )[0]
    signatures = ElectronicSignature.objects.count()
    r = api.as_user(technician).post(
        f"/api/v1/batches/{running_batch.lot_number}/steps/",
        {
            "step": code,
            "performed_at": at.isoformat(),
            "values": values,
            "materials": materials,
            "password": PASSWORD,
        },
        format="json",
    )
    assert r.status_code == 400, r.json()
    assert "SOP-MFG-012 v1: never trained" in r.json()["step"][0]
    assert not ExecutedStep.objects.filter(batch=running_batch).exists()
    assert ElectronicSignature.objects.count() == signatures
