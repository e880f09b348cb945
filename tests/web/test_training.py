"""Training pages: who is current on each procedure, a person's training, QA's signed form
(its refusals shown on their fields)."""

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


def test_qa_records_a_training_and_the_pages_show_it(client, qa, technician, version):
    trainer = UserFactory.create(username="trainer", role="technician")
    client.force_login(qa)
    form = {
        "procedure_version": version.pk,
        "trainee": technician.pk,
        "trained_by": trainer.pk,
        "trained_on": str(timezone.localdate() - timedelta(days=1)),
        "assessment": "passed",
        "password": PASSWORD,
    }
    r = client.post("/training/record/", {**form, "trained_by": technician.pk})
    assert r.status_code == 200
    assert "The trainer cannot be the trainee." in r.content.decode()
    r = client.post("/training/record/", form)
    assert r.status_code == 302 and r["Location"] == f"/training/people/{technician.username}/"
    page = client.get("/training/").content.decode()
    assert "SOP-MFG-012" in page and "Current" in page
    person = client.get(r["Location"]).content.decode()
    assert "Current on every procedure in effect." in person


def test_the_person_page_names_what_they_are_not_current_on(client, technician, version):
    client.force_login(technician)
    page = client.get(f"/training/people/{technician.username}/").content.decode()
    assert "SOP-MFG-012 v1: never trained" in page


def test_a_technician_may_not_open_the_training_form(client, technician):
    client.force_login(technician)
    assert client.get("/training/record/").status_code == 403


def _supervision_of(person):
    from batches.selectors.training import supervisor_of

    found = supervisor_of(person)
    return found.username if found else None


def test_qa_names_a_supervisor_on_the_person_page(client, qa, technician):
    lead = UserFactory.create(username="floor-lead", role="technician", first_name="Lena")
    client.force_login(qa)
    url = f"/training/people/{technician.username}/"
    page = client.get(url).content.decode()
    assert "No supervisor named" in page and 'id="supervisor-form"' in page
    r = client.post(url, {"supervisor": "floor-lead", "reason": "New floor lead"})
    assert r.status_code == 302 and r["Location"] == url
    assert _supervision_of(technician) == "floor-lead"
    assert "(floor-lead), told with them" in client.get(url).content.decode()
    assert lead.is_active


def test_a_technician_sees_no_supervisor_form_and_may_not_post_one(client, qa, technician):
    client.force_login(technician)
    url = f"/training/people/{technician.username}/"
    assert 'id="supervisor-form"' not in client.get(url).content.decode()
    r = client.post(url, {"supervisor": qa.username, "reason": "Mine"})
    assert r.status_code == 403
    assert _supervision_of(technician) is None


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"supervisor": "nobody", "reason": "New lead"}, "No active person with that user name."),
        ({"supervisor": "SELF", "reason": "New lead"}, "A person does not supervise themselves."),
        ({"supervisor": "QA", "reason": ""}, "This field is required."),
    ],
)
def test_a_bad_supervisor_is_a_form_error_and_nothing_changes(client, qa, technician, form, error):
    names = {"SELF": technician.username, "QA": qa.username}
    form = {k: names.get(v, v) for k, v in form.items()}
    client.force_login(qa)
    r = client.post(f"/training/people/{technician.username}/", form)
    assert r.status_code == 200
    assert error in r.content.decode()
    assert _supervision_of(technician) is None


# --- refusing an untrained operator on the step form ---


def test_the_step_form_names_the_procedure_an_untrained_operator_lacks(
    client, qa, version, started
):
    from batches.models import ExecutedStep
    from tests.batch_steps import step_payloads
    from tests.web.batch_pages import day0, html, post_step

    thaw = started.template.steps.get(code="thaw_isolation")
    training.step_qualification_require(
        actor=qa, template_step=thaw, procedure=version.procedure, purpose="perform"
    )
    response = post_step(client, started, step_payloads(day0(), din=started.source_unit.din)[0])
    assert response.status_code == 200
    page = html(response)
    assert "is not current on the training to perform step" in page
    assert "SOP-MFG-012 v1: never trained" in page
    assert not ExecutedStep.objects.filter(batch=started).exists()
