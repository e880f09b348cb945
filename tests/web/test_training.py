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
