"""QC API: worklist filters, result entry with clear errors, review by a second person."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from qc.models import QcTest, QcTestDefinition
from qc.services.overdue import scan_overdue
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def make_test(batch, code="endotoxin", at=None, due_in=timedelta(hours=24)):
    at = at or timezone.now() - timedelta(hours=1)
    return QcTest.objects.create(
        batch=batch,
        definition=QcTestDefinition.objects.get(spec_set__status="approved", code=code),
        triggered_at=at,
        sample_due_at=at,
        due_at=at + due_in,
    )


def test_overdue_and_due_before_filters(api, qc_analyst, planned_batch, approved_spec_set):
    late = make_test(planned_batch, at=timezone.now() - timedelta(hours=30))
    soon = make_test(planned_batch, due_in=timedelta(hours=3))
    scan_overdue()
    client = api.as_user(qc_analyst)
    flagged = client.get("/api/v1/qc-tests/", {"overdue": "true"}).json()
    assert [t["id"] for t in flagged["results"]] == [late.pk]
    assert flagged["results"][0]["overdue"] is True
    before = (timezone.now() + timedelta(hours=4)).isoformat()
    coming = client.get("/api/v1/qc-tests/", {"due_before": before, "overdue": "false"}).json()
    assert [t["id"] for t in coming["results"]] == [soon.pk]
    assert client.get("/api/v1/qc-tests/", {"batch": planned_batch.lot_number}).json()["count"] == 2
    assert client.get("/api/v1/qc-tests/", {"due_before": "tuesday"}).status_code == 400


def test_result_then_review_through_the_api(api, qc_analyst, planned_batch, approved_spec_set):
    test = make_test(planned_batch)
    client = api.as_user(qc_analyst)
    r = client.post(
        f"/api/v1/qc-tests/{test.pk}/result/", {"value": 0.8, "unit": "EU/mL"}, format="json"
    )
    assert r.status_code == 200, r.json()
    assert r.json()["in_spec"] is True and r.json()["state"] == "resulted"
    other = UserFactory.create(username="qc-second", role="qc_analyst")
    r = api.as_user(other).post(
        f"/api/v1/qc-tests/{test.pk}/review/", {"password": PASSWORD}, format="json"
    )
    assert r.status_code == 200 and r.json()["state"] == "reviewed"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"value": [1, 2], "unit": "EU/mL"}, "value"),
        ({"unit": "EU/mL"}, "value"),
    ],
)
def test_bad_results_are_400(api, qc_analyst, planned_batch, approved_spec_set, body, field):
    test = make_test(planned_batch)
    r = api.as_user(qc_analyst).post(f"/api/v1/qc-tests/{test.pk}/result/", body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    test.refresh_from_db()
    assert test.state == "planned"


@pytest.mark.parametrize(
    "role, code", [("technician", 403), ("clinical", 403), ("qa", 403), ("qc_analyst", 200)]
)
def test_who_may_enter_results(api, users_by_role, planned_batch, approved_spec_set, role, code):
    test = make_test(planned_batch)
    r = api.as_user(users_by_role[role]).post(
        f"/api/v1/qc-tests/{test.pk}/result/", {"value": 1, "unit": "EU/mL"}, format="json"
    )
    assert r.status_code == code


def test_scan_command(planned_batch, approved_spec_set, qc_analyst):
    from io import StringIO

    from django.core.management import call_command

    make_test(planned_batch, at=timezone.now() - timedelta(hours=30))
    out = StringIO()
    with time_machine.travel(timezone.now(), tick=False):
        call_command("scan_overdue_qc", stdout=out)
    assert "overdue: 1" in out.getvalue()


@pytest.mark.parametrize("value", ["0174-04-27T19:02:37-18:00", "2026-01-01T00:00:00+23:00"])
def test_impossible_offsets_are_400_not_500(api, qc_analyst, value):
    r = api.as_user(qc_analyst).get("/api/v1/qc-tests/", {"due_before": value})
    assert r.status_code == 400
    assert api.get("/api/v1/qc-tests/").status_code == 200  # the connection is still usable


def _ids(response):
    assert response.status_code == 200, response.content
    return {t["id"]: t["overdue"] for t in response.json()["results"]}


def test_overdue_is_open_and_past_due_whether_flagged_or_not(
    api, client, qc_analyst, planned_batch, approved_spec_set
):
    from django.urls import reverse

    from qc.services import results

    now = timezone.now().replace(microsecond=0)
    reviewer = UserFactory.create(username="qc-second", role="qc_analyst")
    with time_machine.travel(now, tick=False):
        reviewed = make_test(planned_batch, at=now - timedelta(hours=30))
        scan_overdue()
        results.qc_result_enter(actor=qc_analyst, test=reviewed, value="1.0", unit="EU/mL")
        results.qc_result_review(actor=reviewer, password=PASSWORD, test=reviewed)
        not_yet_flagged = make_test(planned_batch, code="viability", at=now - timedelta(hours=26))
        at_due = make_test(planned_batch, code="sterility", at=now - timedelta(hours=24))
        future = make_test(planned_batch, code="mycoplasma", at=now - timedelta(hours=1))
        reviewed.refresh_from_db()
        assert reviewed.overdue_flagged_at is not None and reviewed.state == "reviewed"
        assert QcTest.objects.get(pk=not_yet_flagged.pk).overdue_flagged_at is None

        api_client = api.as_user(qc_analyst)
        overdue = _ids(api_client.get("/api/v1/qc-tests/", {"overdue": "true"}))
        on_time = _ids(api_client.get("/api/v1/qc-tests/", {"overdue": "false"}))
        every = _ids(api_client.get("/api/v1/qc-tests/"))
        detail = api_client.get(f"/api/v1/qc-tests/{not_yet_flagged.pk}/").json()

        client.force_login(qc_analyst)
        page = client.get(reverse("qc-worklist")).content.decode()

    assert overdue == {not_yet_flagged.pk: True}
    assert detail["overdue"] is True
    # At due_at exactly it is not yet overdue; reviewed or due later, it is not overdue.
    assert on_time == {reviewed.pk: False, at_due.pk: False, future.pk: False}
    assert every == {**overdue, **on_time}
    start = page.index('id="overdue"')
    block = page[start : page.index("</section>", start)]
    listed = {
        t.pk
        for t in (reviewed, not_yet_flagged, at_due, future)
        if f'href="{reverse("qc-test", args=[t.pk])}"' in block
    }
    assert listed == set(overdue)


def test_overdue_filter_refuses_what_is_not_a_yes_or_no(api, qc_analyst):
    r = api.as_user(qc_analyst).get("/api/v1/qc-tests/", {"overdue": "maybe"})
    assert r.status_code == 400 and "overdue" in r.json()


def test_the_overdue_claim_reads_its_partial_index(planned_batch, approved_spec_set):
    from django.db import connection

    from qc.selectors import overdue_q
    from qc.services.overdue import CLAIM_LIMIT, unflagged

    # A backlog of open tests already flagged lies in the worklists' index of open tests but
    # not in the scan's: with the table's statistics the planner sees which index holds only
    # what the claim asks for.
    backlog = [make_test(planned_batch, at=timezone.now() - timedelta(hours=40)) for _ in range(50)]
    QcTest.objects.filter(pk__in=[t.pk for t in backlog]).update(overdue_flagged_at=timezone.now())
    make_test(planned_batch, at=timezone.now() - timedelta(hours=30))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE qc_qctest")
        # A nearly empty table is cheaper to read whole; ask whether the index *can* serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
    claim = unflagged(flag_field="overdue_flagged_at", selects=overdue_q(now=timezone.now()))
    claimed = claim.select_for_update(skip_locked=True, of=("self",)).values_list("id")
    plan = claimed[:CLAIM_LIMIT].explain()
    assert "qctest_overdue_scan" in plan, plan


def test_several_reviews_under_one_signature(api, qc_analyst, planned_batch, approved_spec_set):
    """POST /qc-tests/reviews/: each result reviewed and signed; one refused, none recorded."""
    client = api.as_user(qc_analyst)
    tests = [make_test(planned_batch), make_test(planned_batch, "identity_nk")]
    for test, value in zip(tests, (0.8, 85), strict=True):
        client.post(f"/api/v1/qc-tests/{test.pk}/result/", {"value": value}, format="json")
    other = UserFactory.create(username="qc-second", role="qc_analyst")
    own = make_test(planned_batch, "car_positive")
    api.as_user(other).post(f"/api/v1/qc-tests/{own.pk}/result/", {"value": 40}, format="json")
    reviewer = api.as_user(other)
    ids = [t.pk for t in tests]
    r = reviewer.post(
        "/api/v1/qc-tests/reviews/", {"tests": [*ids, own.pk], "password": PASSWORD}, format="json"
    )
    assert r.status_code == 400
    assert "different person" in str(r.json()) and "CAR+" in str(r.json())
    assert QcTest.objects.filter(pk__in=ids, state="resulted").count() == 2
    r = reviewer.post(
        "/api/v1/qc-tests/reviews/", {"tests": [*ids, 99999999], "password": PASSWORD}
    )
    assert r.status_code == 400 and "No QC test 99999999." in str(r.json())
    r = reviewer.post(
        "/api/v1/qc-tests/reviews/", {"tests": ids, "password": PASSWORD}, format="json"
    )
    assert r.status_code == 200, r.json()
    assert sorted(t["id"] for t in r.json()) == sorted(ids)
    assert {t["state"] for t in r.json()} == {"reviewed"}
