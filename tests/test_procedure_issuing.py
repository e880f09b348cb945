"""QA issues the training matrix through the API and the web: a procedure, its next version
(never effective before the one it supersedes) and the template steps that ask for it; every
refusal names its field, and only QA may issue."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import Procedure, StepQualification, TemplateStep
from batches.services import training
from batches.services.training import step_training_blocker

pytestmark = [pytest.mark.django_db, pytest.mark.clause("21 CFR 1271.170")]


def test_qa_issues_a_procedure_its_version_and_a_step_that_asks_for_it(
    api, qa, technician, approved_template
):
    client = api.as_user(qa)
    created = client.post(
        "/api/v1/procedures/",
        {"code": "SOP-MFG-030", "title": "Transduction", "training_valid_days": 365},
        format="json",
    )
    assert created.status_code == 201, created.json()
    today = timezone.localdate()
    issued = client.post(
        "/api/v1/procedures/SOP-MFG-030/versions/",
        {"effective_on": str(today), "document_reference": "DMS-30 rev A"},
        format="json",
    )
    assert issued.status_code == 201, issued.json()
    assert issued.json()["version_in_effect"] == 1
    step = TemplateStep.objects.get(template=approved_template, code="transduction")
    required = client.post(
        "/api/v1/procedures/SOP-MFG-030/qualifications/",
        {"template_step": step.pk, "purpose": "perform"},
        format="json",
    )
    assert required.status_code == 201, required.json()
    listed = client.get("/api/v1/procedures/SOP-MFG-030/qualifications/").json()
    assert [(q["step"], q["purpose"]) for q in listed["results"]] == [("transduction", "perform")]
    # From now on the untrained technician may not perform the step.
    assert "SOP-MFG-030 v1: never trained" in step_training_blocker(step, technician, on=today)


def test_issuing_refusals_name_their_field(api, qa):
    client = api.as_user(qa)
    client.post("/api/v1/procedures/", {"code": "SOP-QA-001", "title": "Release"}, format="json")
    again = client.post(
        "/api/v1/procedures/", {"code": "SOP-QA-001", "title": "Again"}, format="json"
    )
    blank = client.post("/api/v1/procedures/", {"code": "", "title": ""}, format="json")
    procedure = Procedure.objects.get(code="SOP-QA-001")
    training.procedure_version_issue(
        actor=qa, procedure=procedure, effective_on=date(2026, 1, 1), document_reference="D1"
    )
    earlier = client.post(
        "/api/v1/procedures/SOP-QA-001/versions/",
        {"effective_on": "2025-12-31", "document_reference": "D2"},
        format="json",
    )
    no_step = client.post(
        "/api/v1/procedures/SOP-QA-001/qualifications/",
        {"template_step": 999999, "purpose": "sign"},
        format="json",
    )

    assert again.status_code == 400 and "code" in again.json()
    assert blank.status_code == 400 and {"code", "title"} <= blank.json().keys()
    assert earlier.status_code == 400 and "effective_on" in earlier.json()
    assert no_step.status_code == 400 and {"template_step", "purpose"} <= no_step.json().keys()
    assert procedure.versions.count() == 1


def test_only_qa_issues(api, technician, qa, approved_template):
    training.procedure_create(actor=qa, code="SOP-MFG-031", title="Harvest")
    client = api.as_user(technician)
    step = TemplateStep.objects.get(template=approved_template, code="harvest")

    assert client.post("/api/v1/procedures/", {"code": "X-1", "title": "x"}).status_code == 403
    assert (
        client.post(
            "/api/v1/procedures/SOP-MFG-031/versions/",
            {"effective_on": "2026-01-01", "document_reference": "D"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/procedures/SOP-MFG-031/qualifications/",
            {"template_step": step.pk, "purpose": "perform"},
        ).status_code
        == 403
    )
    assert client.get("/api/v1/procedures/SOP-MFG-031/qualifications/").status_code == 200
    assert not Procedure.objects.filter(code="X-1").exists()


def test_qa_issues_from_the_web_and_errors_show_on_the_form(client, qa, approved_template):
    client.force_login(qa)
    created = client.post(
        reverse("procedure-new"), {"code": "SOP-MFG-040", "title": "Cryopreservation"}
    )
    assert created.status_code == 302
    detail = reverse("procedure-detail", args=["SOP-MFG-040"])
    tomorrow = timezone.localdate() + timedelta(days=1)
    version = client.post(
        reverse("procedure-version-issue", args=["SOP-MFG-040"]),
        {"effective_on": tomorrow, "document_reference": "DMS-40"},
    )
    assert version.status_code == 302
    same_day = client.post(
        reverse("procedure-version-issue", args=["SOP-MFG-040"]),
        {"effective_on": tomorrow, "document_reference": "DMS-40 rev B"},
    )
    assert same_day.status_code == 200 and b"takes effect after it" in same_day.content
    step = TemplateStep.objects.get(template=approved_template, code="harvest")
    required = client.post(
        reverse("procedure-qualification-add", args=["SOP-MFG-040"]),
        {"template_step": step.pk, "purpose": "review"},
    )
    assert required.status_code == 302
    page = client.get(detail).content.decode()
    assert "v1" in page and "to review" in page
    assert StepQualification.objects.filter(procedure__code="SOP-MFG-040").count() == 1
    duplicate = client.post(reverse("procedure-new"), {"code": "SOP-MFG-040", "title": "x"})
    assert duplicate.status_code == 200 and b"errorlist" in duplicate.content


def test_a_technician_reads_procedures_but_may_not_issue_from_the_web(client, technician, qa):
    training.procedure_create(actor=qa, code="SOP-MFG-041", title="Thaw")
    client.force_login(technician)

    page = client.get(reverse("procedure-detail", args=["SOP-MFG-041"]))

    assert page.status_code == 200 and b"version-form" not in page.content
    assert client.get(reverse("procedure-new")).status_code == 403
    refused = client.post(
        reverse("procedure-version-issue", args=["SOP-MFG-041"]),
        {"effective_on": "2026-01-01", "document_reference": "D"},
    )
    assert refused.status_code == 403
