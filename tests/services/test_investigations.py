"""Phase I OOS investigations (qc/services/investigations.py): opened with the result, one
per result; completed by the analyst, approved by QA (signed, not by the analyst); and the
acceptance rule, a retest without an approved investigation refused, at the service, the API,
the web form and the database (as the application's own role)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from psycopg2 import errors

from carnk_mfg.signatures import signatures_for
from qc.models import OosInvestigation, QcTest, QcTestDefinition
from qc.services import investigations, results
from tests.db.test_app_role import app_db  # noqa: F401  (the fixture: a connection as the app role)
from tests.factories import PASSWORD
from tests.oos import approve_investigation
from tests.services.trail import assert_trailed

pytestmark = pytest.mark.django_db


def a_test(batch, code="endotoxin"):
    definition = QcTestDefinition.objects.get(spec_set__status="approved", code=code)
    at = timezone.now() - timedelta(hours=1)
    return QcTest.objects.create(
        batch=batch, definition=definition, triggered_at=at, sample_due_at=at, due_at=at
    )


@pytest.fixture
def out_of_spec(running_batch, approved_spec_set, qc_analyst):
    test = a_test(running_batch)
    return results.qc_result_enter(actor=qc_analyst, test=test, value="9.0", unit="EU/mL")


def complete(investigation, analyst, **changes):
    fields = {
        "checks_done": "Calculation and pipettes checked",
        "assignable_cause_found": False,
        "conclusion": "No laboratory error found",
        **changes,
    }
    return investigations.oos_investigation_complete(
        actor=analyst, investigation=investigation, **fields
    )


def test_an_out_of_spec_result_opens_its_investigation_with_it(out_of_spec):
    investigation = OosInvestigation.objects.get(test=out_of_spec)
    assert investigation.state == "open"
    assert out_of_spec.batch.deviations.filter(kind="out_of_spec").count() == 1


def test_an_in_spec_result_opens_none(running_batch, approved_spec_set, qc_analyst):
    test = results.qc_result_enter(
        actor=qc_analyst, test=a_test(running_batch), value="1.0", unit="EU/mL"
    )
    assert not OosInvestigation.objects.filter(test=test).exists()
    assert investigations.retest_blocker(test) == ""


def test_completing_needs_checks_conclusion_and_a_named_cause(out_of_spec, qc_analyst):
    investigation = out_of_spec.oos_investigation
    with pytest.raises(ValidationError) as refused:
        complete(
            investigation, qc_analyst, checks_done=" ", assignable_cause_found=True, conclusion=""
        )
    assert set(refused.value.message_dict) == {"checks_done", "assignable_cause", "conclusion"}
    done = complete(
        investigation, qc_analyst, assignable_cause_found=True, assignable_cause="Pipette"
    )
    assert (done.state, done.assignable_cause, done.completed_by) == (
        "completed",
        "Pipette",
        qc_analyst,
    )
    assert_trailed(done, actor=qc_analyst, reason=f"Phase I OOS investigation {done.pk} completed")


def test_qa_approves_signed_but_not_the_analyst(out_of_spec, qc_analyst, qa):
    investigation = complete(out_of_spec.oos_investigation, qc_analyst)
    with pytest.raises(ValidationError, match="other than its analyst"):
        investigations.oos_investigation_approve(
            actor=qc_analyst, password=PASSWORD, investigation=investigation
        )
    approved = investigations.oos_investigation_approve(
        actor=qa, password=PASSWORD, investigation=investigation
    )
    assert (approved.state, approved.approved_by) == ("approved", qa)
    assert [s.meaning for s in signatures_for(approved)] == ["approved"]


def test_an_open_investigation_is_not_approved(out_of_spec, qa):
    with pytest.raises(ValidationError, match="Only a completed investigation"):
        investigations.oos_investigation_approve(
            actor=qa, password=PASSWORD, investigation=out_of_spec.oos_investigation
        )


# --- acceptance: a retest without an approved investigation is refused ---


def test_retest_refused_until_the_investigation_is_approved(out_of_spec, qc_analyst, qa):
    with pytest.raises(ValidationError, match="waits for QA's approval"):
        results.qc_retest(actor=qc_analyst, test=out_of_spec, reason="r")
    complete(out_of_spec.oos_investigation, qc_analyst)
    with pytest.raises(ValidationError, match="Completed, awaiting QA approval"):
        results.qc_retest(actor=qc_analyst, test=out_of_spec, reason="r")
    assert not QcTest.objects.filter(retest_of=out_of_spec).exists()
    investigations.oos_investigation_approve(
        actor=qa, password=PASSWORD, investigation=out_of_spec.oos_investigation
    )
    retest = results.qc_retest(actor=qc_analyst, test=out_of_spec, reason="after phase I")
    assert retest.retest_of_id == out_of_spec.pk


def test_api_refuses_the_retest_with_400(out_of_spec, qc_analyst, qa, api):
    url = f"/api/v1/qc-tests/{out_of_spec.pk}/retest/"
    r = api.as_user(qc_analyst).post(url, {"reason": "r"}, format="json")
    assert r.status_code == 400, r.content
    assert "phase I investigation" in str(r.json())
    investigation = out_of_spec.oos_investigation
    base = f"/api/v1/oos-investigations/{investigation.pk}/"
    r = api.post(
        base + "complete/",
        {"checks_done": "Checked", "assignable_cause_found": False, "conclusion": "None found"},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "completed"
    r = api.as_user(qa).post(base + "approve/", {"password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["approved_by"] == qa.username
    r = api.as_user(qc_analyst).post(url, {"reason": "r"}, format="json")
    assert r.status_code == 201, r.content


def test_api_complete_refusal_is_400_per_field(out_of_spec, qc_analyst, api):
    base = f"/api/v1/oos-investigations/{out_of_spec.oos_investigation.pk}/"
    r = api.as_user(qc_analyst).post(
        base + "complete/",
        {"checks_done": "x", "assignable_cause_found": True, "conclusion": "c"},
        format="json",
    )
    assert r.status_code == 400
    assert "assignable_cause" in r.json()


def test_web_retest_form_says_why(out_of_spec, qc_analyst, client):
    client.force_login(qc_analyst)
    response = client.post(reverse("qc-retest", args=[out_of_spec.pk]), {"reason": "r"})
    assert response.status_code == 200
    assert "phase I investigation" in response.content.decode()
    assert not QcTest.objects.filter(retest_of=out_of_spec).exists()


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_retest_row_as_the_app_role(out_of_spec, qc_analyst, qa, app_db):  # noqa: F811
    insert = (
        "INSERT INTO qc_qctest (batch_id, definition_id, retest_of_id, state, triggered_at,"
        " sample_due_at, due_at, result_text, result_unit, evaluation, result_source)"
        " VALUES (%s, %s, %s, 'planned', now(), now(), now(), '', '', '', 'manual')",
        [out_of_spec.batch_id, out_of_spec.definition_id, out_of_spec.pk],
    )
    with pytest.raises(errors.RaiseException, match="retested only once"):
        app_db(insert)
    approve_investigation(out_of_spec, analyst=qc_analyst, qa=qa)
    app_db(insert)
    assert QcTest.objects.filter(retest_of=out_of_spec).count() == 1


def test_web_investigation_page_completed_then_approved(out_of_spec, qc_analyst, qa, client):
    investigation = out_of_spec.oos_investigation
    client.force_login(qc_analyst)
    test_page = client.get(reverse("qc-test", args=[out_of_spec.pk])).content.decode()
    assert reverse("qc-investigation", args=[investigation.pk]) in test_page
    url = reverse("qc-investigation-complete", args=[investigation.pk])
    refused = client.post(
        url, {"checks_done": "x", "assignable_cause_found": "yes", "conclusion": "c"}
    )
    assert refused.status_code == 200 and "Name the assignable cause" in refused.content.decode()
    done = client.post(
        url, {"checks_done": "Pipettes", "assignable_cause_found": "no", "conclusion": "None"}
    )
    assert done.status_code == 302
    client.force_login(qa)
    page = client.get(reverse("qc-investigation", args=[investigation.pk])).content.decode()
    assert 'id="approve-form"' in page
    approved = client.post(
        reverse("qc-investigation-approve", args=[investigation.pk]), {"password": PASSWORD}
    )
    assert approved.status_code == 302
    investigation.refresh_from_db()
    assert investigation.state == "approved"


def test_api_lists_investigations_by_batch_and_test_code(out_of_spec, qc_analyst, api):
    client = api.as_user(qc_analyst)
    lot, code = out_of_spec.batch.lot_number, out_of_spec.definition.code
    listed = client.get("/api/v1/oos-investigations/", {"batch": lot, "code": code}).json()
    assert [i["id"] for i in listed["results"]] == [out_of_spec.oos_investigation.pk]
    # Unknown names are no error: nothing matches.
    for query in ({"batch": "CNK-NONE"}, {"code": "no-such-test"}):
        answer = client.get("/api/v1/oos-investigations/", query)
        assert answer.status_code == 200 and answer.json()["count"] == 0
