"""The batch record through the API alone: planned to harvested with the default template,
a deviation and its disposition, malformed input, concurrency and query counts. The rules
themselves (step order, lots, ranges, gates) are proven in tests/services/."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batches.models import Batch, Deviation, ExecutedStep
from batches.services import lifecycle
from tests.batch_steps import planned_days_ago, step_payloads
from tests.factories import PASSWORD, CordBloodUnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(db):
    return CordBloodUnitFactory.create(din="G123498654321")


@pytest.fixture
def batch(api, technician, approved_template, unit, lots):
    with planned_days_ago(30):
        r = api.as_user(technician).post(
            "/api/v1/batches/",
            {
                "source_unit": unit.din,
                "template": approved_template.pk,
                "unit_fraction_used_pct": "50",
            },
            format="json",
        )
    assert r.status_code == 201, r.json()
    return Batch.objects.get(lot_number=r.json()["lot_number"])


def post_step(client, batch, code, at, values, materials, **extra):
    return client.post(
        f"/api/v1/batches/{batch.lot_number}/steps/",
        {
            "step": code,
            "performed_at": at.isoformat(),
            "values": values,
            "materials": materials,
            "password": PASSWORD,
            **extra,
        },
        format="json",
    )


def start(client, batch):
    r = client.post(
        f"/api/v1/batches/{batch.lot_number}/transitions/",
        {"to_state": "in_process", "reason": "Thaw scheduled"},
        format="json",
    )
    assert r.status_code == 200, r.json()


def test_planned_to_harvested_through_the_api(api, technician, batch):
    client = api.as_user(technician)
    day0 = timezone.now() - timedelta(days=15)
    start(client, batch)
    for day, viable in ((0, 2e5), (7, 2e7), (14, 3e8)):
        r = client.post(
            f"/api/v1/batches/{batch.lot_number}/counts/",
            {
                "day": day,
                "measured_at": (day0 + timedelta(days=day, hours=1)).isoformat(),
                "total_cells_per_ml": viable * 1.1,
                "viable_cells_per_ml": viable,
                "volume_ml": "10",
            },
            format="json",
        )
        assert r.status_code == 201, r.json()
    for code, at, values, materials in step_payloads(day0):
        r = post_step(client, batch, code, at, values, materials)
        assert r.status_code == 201, (code, r.json())
    r = client.post(
        f"/api/v1/batches/{batch.lot_number}/transitions/",
        {"to_state": "harvested", "reason": "Harvest complete", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["state"] == "harvested"
    assert [s["code"] for s in body["steps"]] == [p[0] for p in step_payloads(day0)]
    assert body["counts"][-1]["fold_expansion"] == pytest.approx(1500)
    assert body["counts"][-1]["population_doublings"] == pytest.approx(10.55, abs=0.01)
    assert body["expansion_flag"] == ""
    history = client.get(f"/api/v1/batches/{batch.lot_number}/history/").json()["results"]
    states = [h["diff"]["state"] for h in history if "state" in (h["diff"] or {})]
    assert states == [["planned", "in_process"], ["in_process", "harvested"]]
    assert all(h["context"].get("actor_name") == technician.username for h in history)


def test_a_step_with_its_deviation_holds_the_batch_until_qa_dispositions_it(
    api, technician, qa, batch
):
    client = api.as_user(technician)
    start(client, batch)
    code, at, values, materials = step_payloads(timezone.now() - timedelta(days=15))[0]
    r = post_step(
        client,
        batch,
        code,
        at,
        {**values, "nk_purity_pct": 55},
        materials,
        deviation={"why": "Low-purity isolation", "impact": "Expansion should enrich NK cells"},
    )
    assert r.status_code == 201, r.json()
    assert r.json()["state"] == "on_hold"
    deviation = Deviation.objects.get()
    url = f"/api/v1/batches/{batch.lot_number}/deviations/{deviation.pk}/disposition/"
    body = {
        "disposition": "accept",
        "classification": "minor",
        "root_cause": "Assessed by QA",
        "notes": "Within validated experience",
        "password": PASSWORD,
    }
    assert client.post(url, body, format="json").status_code == 403
    r = api.as_user(qa).post(url, body, format="json")
    assert r.status_code == 200, r.json()
    batch.refresh_from_db()
    assert batch.state == "in_process"


def test_raw_sql_state_jump_is_refused_by_the_database(batch):
    with pytest.raises(DatabaseError, match="Invalid transition"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE batches_batch SET state = 'harvested' WHERE id = %s", [batch.pk])
    batch.refresh_from_db()
    assert batch.state == "planned"


@pytest.mark.parametrize(
    "body",
    [
        {"step": "thaw_isolation"},
        {"step": "nope", "performed_at": "2026-01-01T00:00:00Z", "password": "x"},
        {"step": "thaw_isolation", "performed_at": "not a date", "password": "x"},
        {
            "step": "thaw_isolation",
            "performed_at": "2026-01-01T00:00:00Z",
            "values": [1],
            "password": "x",
        },
        {
            "step": "thaw_isolation",
            "performed_at": "2026-01-01T00:00:00Z",
            "values": {"nk_purity_pct": "abc"},
            "password": PASSWORD,
        },
        {
            "step": "thaw_isolation",
            "performed_at": "2026-01-01T00:00:00Z",
            "materials": [{"kind": "x"}],
            "password": "x",
        },
        {
            "step": "thaw_isolation",
            "performed_at": "2026-01-01T00:00:00Z",
            "materials": "RV-1",
            "password": "x",
        },
        {
            "step": "thaw_isolation",
            "performed_at": "2999-01-01T00:00:00Z",
            "values": {},
            "password": PASSWORD,
        },
    ],
)
def test_malformed_step_input_is_400(api, technician, batch, body):
    client = api.as_user(technician)
    start(client, batch)
    r = client.post(f"/api/v1/batches/{batch.lot_number}/steps/", body, format="json")
    assert r.status_code == 400, r.content
    assert ExecutedStep.objects.count() == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"day": -1}, "day"),
        ({"viability_pct": "101"}, "viability_pct"),
        ({"volume_ml": "-1"}, "volume_ml"),
        ({"total_cells_per_ml": "many"}, "total_cells_per_ml"),
    ],
)
def test_bad_counts_are_400(api, technician, batch, body, field):
    client = api.as_user(technician)
    start(client, batch)
    payload = {
        "day": 3,
        "measured_at": timezone.now().isoformat(),
        "total_cells_per_ml": 1e6,
        "viable_cells_per_ml": 9e5,
        "volume_ml": "10",
        **body,
    }
    r = client.post(f"/api/v1/batches/{batch.lot_number}/counts/", payload, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()


def test_expansion_outside_the_template_range_is_flagged(api, technician, batch):
    client = api.as_user(technician)
    start(client, batch)
    for day, viable in ((0, 1e6), (14, 5e7)):
        client.post(
            f"/api/v1/batches/{batch.lot_number}/counts/",
            {
                "day": day,
                "measured_at": (timezone.now() - timedelta(days=15 - day)).isoformat(),
                "total_cells_per_ml": viable,
                "viable_cells_per_ml": viable,
                "volume_ml": "10",
            },
            format="json",
        )
    flag = client.get(f"/api/v1/batches/{batch.lot_number}/").json()["expansion_flag"]
    assert "Fold expansion 50x on day 14 is outside the expected 300–20000x" in flag


def test_custody_of_unit_and_batch(api, technician, qa, batch):
    client = api.as_user(technician)
    for subject in ("unit", "batch"):
        r = client.post(
            f"/api/v1/batches/{batch.lot_number}/custody/",
            {
                "subject": subject,
                "released_by": technician.username,
                "received_by": qa.username,
                "from_location": "LN2-01",
                "to_location": "Cleanroom B",
                "temperature_c": "-150",
                "occurred_at": timezone.now().isoformat(),
            },
            format="json",
        )
        assert r.status_code == 201, r.json()
    custody = client.get(f"/api/v1/batches/{batch.lot_number}/custody/").json()
    assert custody["count"] == 2 and len(custody["results"]) == 2


def test_approved_template_cannot_change(approved_template):
    step = approved_template.steps.first()
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            type(step).objects.filter(pk=step.pk).update(planned_day=3)
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            type(approved_template).objects.filter(pk=approved_template.pk).update(
                expected_fold_min=1
            )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transitions_one_wins_one_409(
    api, technician, approved_template, unit, lots
):
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    first = api.as_user(technician).post(
        "/api/v1/batches/",
        {"source_unit": unit.din, "template": approved_template.pk, "unit_fraction_used_pct": "50"},
        format="json",
    )
    lot = first.json()["lot_number"]
    token = AuthToken.objects.create(user=technician)[1]
    barrier = threading.Barrier(2)
    results = []

    def move():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        response = client.post(
            f"/api/v1/batches/{lot}/transitions/",
            {"to_state": "in_process", "expected_state": "planned", "reason": "go"},
            format="json",
        )
        results.append((response.status_code, response.json()))
        connection.close()

    threads = [threading.Thread(target=move) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(code for code, _ in results)
    assert codes == [200, 409], results
    conflict = next(body for code, body in results if code == 409)
    assert "someone else changed it first" in conflict["detail"]
    assert Batch.objects.get(lot_number=lot).state == "in_process"


def make_batch_through_the_api(client, template, n_counts, with_steps=True):
    """A batch planned (and, with steps, started, every step and `n_counts` counts recorded)
    through the API; its lot number."""
    unit = CordBloodUnitFactory.create()
    with planned_days_ago(30):
        r = client.post(
            "/api/v1/batches/",
            {"source_unit": unit.din, "template": template.pk, "unit_fraction_used_pct": "100"},
            format="json",
        )
    lot = r.json()["lot_number"]
    batch = Batch.objects.get(lot_number=lot)
    if not with_steps:
        return lot
    start(client, batch)
    day0 = timezone.now() - timedelta(days=15)
    for code, at, values, materials in step_payloads(day0, din=unit.din):
        post_step(client, batch, code, at, values, materials)
    # One count per culture day (days 0-14); beyond 15 counts, each corrects its day's count.
    current: dict[int, int] = {}
    for i in range(n_counts):
        count = {
            "day": i % 15,
            "measured_at": (day0 + timedelta(hours=i)).isoformat(),
            "total_cells_per_ml": 1e6 + i,
            "viable_cells_per_ml": 9e5,
            "volume_ml": "10",
        }
        if i % 15 in current:
            count.update(corrects=current[i % 15], correction_reason="Recounted: clumped sample")
        r = client.post(f"/api/v1/batches/{lot}/counts/", count, format="json")
        assert r.status_code == 201, r.json()
        current = {c["day"]: c["id"] for c in r.json()["counts"]}
    return lot


def count_queries(client, url):
    """The queries one GET of `url` makes, and its answer."""
    # The query log is a bounded deque shared by all captures: count right away.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()


def test_detail_and_list_query_counts_do_not_grow(api, technician, approved_template, lots):
    client = api.as_user(technician)
    small = make_batch_through_the_api(client, approved_template, 1)
    one, _ = count_queries(client, f"/api/v1/batches/{small}/")
    big = make_batch_through_the_api(client, approved_template, 50)
    fifty, body = count_queries(client, f"/api/v1/batches/{big}/")
    # The newest BATCH_DETAIL_LATEST of each sub-list, the totals, and where the rest are.
    assert len(body["counts"]) == settings.BATCH_DETAIL_LATEST == 20 and len(body["steps"]) == 5
    assert body["sub_lists"]["counts"] == {
        "total": 50,
        "shown": 20,
        "path": f"/api/v1/batches/{big}/counts/",
    }
    assert [c["total_cells_per_ml"] for c in body["counts"]][-1] == 1e6 + 49
    assert fifty == one, (one, fifty)
    list_two, body = count_queries(client, "/api/v1/batches/")
    assert body["count"] == 2
    for _ in range(48):
        make_batch_through_the_api(client, approved_template, 0, with_steps=False)
    list_fifty, body = count_queries(client, "/api/v1/batches/")
    assert body["count"] == 50
    assert list_fifty == list_two, (list_two, list_fifty)
    print(f"QUERIES batch detail={one} list={list_two}")


def test_a_reason_with_a_control_character_is_refused_and_nothing_moves(api, technician, batch):
    """A reason is kept only in the audit trail, yet it is free text like any other."""
    r = api.as_user(technician).post(
        f"/api/v1/batches/{batch.lot_number}/transitions/",
        {"to_state": "in_process", "reason": "Thaw \u202escheduled"},
        format="json",
    )
    assert r.status_code == 400 and list(r.json()) == ["reason"], r.json()
    batch.refresh_from_db()
    assert batch.state == "planned"


# --- which moves need a reason ---


def test_a_routine_forward_move_needs_no_reason_a_termination_does(api, technician, qa, batch):
    client = api.as_user(technician)
    url = f"/api/v1/batches/{batch.lot_number}/transitions/"
    r = client.post(url, {"to_state": "in_process"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "in_process"
    history = client.get(f"/api/v1/batches/{batch.lot_number}/history/").json()["results"]
    (start,) = [h for h in history if (h["diff"] or {}).get("state") == ["planned", "in_process"]]
    assert start["context"]["reason"] == lifecycle.ROUTINE_FORWARD_REASON

    r = api.as_user(qa).post(
        url, {"to_state": "terminated", "reason": "", "password": PASSWORD}, format="json"
    )
    assert r.status_code == 400, r.json()
    assert r.json()["reason"] == [lifecycle.REASON_NEEDED]
    batch.refresh_from_db()
    assert batch.state == "in_process"
