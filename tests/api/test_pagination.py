"""Every list and sub-list answers one page in the same envelope, sliced in SQL, and a bad
`limit` or `offset` is refused by name; the batch's own answer stays small however long its
sub-lists grow."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batches.models import CellCount
from tests.factories import CordBloodUnitFactory

ENVELOPE = {"count", "count_exact", "next", "previous", "results"}


@pytest.fixture
def unit_with_history(qa):
    """A cord blood unit with five audit events."""
    unit = CordBloodUnitFactory.create()
    for n in range(4):
        unit.freezer = f"F{n}"
        unit.save()
    return unit


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=-1", "limit", "limit must be a whole number of at least 1."),
        ("limit=0", "limit", "limit must be at least 1."),
        ("limit=abc", "limit", "limit must be a whole number of at least 1."),
        ("limit=1.5", "limit", "limit must be a whole number of at least 1."),
        ("limit=", "limit", "limit must be a whole number of at least 1."),
        ("limit=501", "limit", "limit may be at most 500."),
        ("limit=" + "9" * 5000, "limit", "limit may be at most 500."),
        ("limit=1&limit=2", "limit", "Give limit once."),
        ("offset=-5", "offset", "offset must be a whole number of at least 0."),
        ("offset=x", "offset", "offset must be a whole number of at least 0."),
        ("offset=10000000000000000", "offset", "offset may be at most 1000000000000000."),
    ],
)
def test_a_bad_limit_or_offset_is_refused_by_name(
    api, qa, unit_with_history, query, field, message
):
    client = api.as_user(qa)
    for url in ("/api/v1/donor-units/", f"/api/v1/donor-units/{unit_with_history.din}/history/"):
        answer = client.get(f"{url}?{query}")
        assert answer.status_code == 400, (url, answer.content)
        assert answer.json() == {field: [message]}


def test_both_bad_are_both_named(api, qa):
    answer = api.as_user(qa).get("/api/v1/donor-units/?limit=0&offset=-1")
    assert answer.status_code == 400
    assert set(answer.json()) == {"limit", "offset"}


def test_history_and_signatures_page_like_the_lists(api, qa, unit_with_history):
    client = api.as_user(qa)
    url = f"/api/v1/donor-units/{unit_with_history.din}/history/"
    first = client.get(f"{url}?limit=2").json()
    assert set(first) == ENVELOPE and first["count"] == 5 and len(first["results"]) == 2
    assert first["previous"] is None and "offset=2" in first["next"]
    last = client.get(f"{url}?limit=2&offset=4").json()
    assert len(last["results"]) == 1 and last["next"] is None
    pages = [client.get(f"{url}?limit=1&offset={n}").json()["results"][0] for n in range(5)]
    assert [p["diff"] for p in pages] == [e["diff"] for e in client.get(url).json()["results"]]
    signatures = client.get(f"/api/v1/donor-units/{unit_with_history.din}/signatures/").json()
    assert set(signatures) == ENVELOPE and signatures["count"] == 0


def test_a_long_list_is_counted_only_so_far_past_the_page(api, qa, unit_with_history, settings):
    """The count stops API_COUNT_AHEAD rows past the page: exact below, a bound above."""
    client = api.as_user(qa)
    url = f"/api/v1/donor-units/{unit_with_history.din}/history/"
    settings.API_COUNT_AHEAD = 10
    whole = client.get(f"{url}?limit=2").json()
    assert whole["count"] == 5 and whole["count_exact"] is True
    settings.API_COUNT_AHEAD = 1
    with CaptureQueriesContext(connection) as queries:
        bounded = client.get(f"{url}?limit=2").json()
    assert bounded["count"] == 3 and bounded["count_exact"] is False
    assert "offset=2" in bounded["next"]
    counted = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert counted and all("LIMIT 4" in sql for sql in counted), counted
    # Further on, the bound moves with the page; at the end the count is exact again.
    last = client.get(f"{url}?limit=2&offset=4").json()
    assert last["count"] == 5 and last["count_exact"] is True and last["next"] is None


def test_a_batchs_sub_lists_are_paged_in_sql(api, technician, running_batch):
    """1,000 counts: the counts page is 50 rows read with LIMIT, the batch's answer embeds
    the newest BATCH_DETAIL_LATEST with the total and where the rest are."""
    batch = running_batch
    now = timezone.now()
    # One count per culture day: each later count of a day corrects the one before it.
    previous: dict[int, CellCount] = {}
    for first in range(0, 1000, 15):
        made = CellCount.objects.bulk_create(
            CellCount(
                batch=batch,
                day=n % 15,
                measured_at=now - timedelta(minutes=1000 - n),
                total_cells_per_ml=1e6 + n,
                viable_cells_per_ml=9e5,
                viability_pct=90,
                volume_ml=10,
                total_viable_cells=9e6,
                recorded_by=technician,
                recorded_at=now,
                corrects=previous.get(n % 15),
                correction_reason="Counted again" if n % 15 in previous else "",
            )
            for n in range(first, min(first + 15, 1000))
        )
        previous.update({c.day: c for c in made})
    client = api.as_user(technician)
    lot = batch.lot_number
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/api/v1/batches/{lot}/counts/?offset=990").json()
    assert page["count"] == 1000 and len(page["results"]) == 10
    assert page["results"][-1]["total_cells_per_ml"] == 1e6 + 999
    assert page["results"][0]["fold_expansion"] is not None
    counts_read = [q["sql"] for q in queries.captured_queries if '"batches_cellcount"' in q["sql"]]
    assert counts_read and all("LIMIT" in sql or "COUNT(" in sql for sql in counts_read), (
        counts_read
    )
    detail = client.get(f"/api/v1/batches/{lot}/").json()
    assert len(detail["counts"]) == 20
    assert detail["counts"][-1]["total_cells_per_ml"] == 1e6 + 999
    assert detail["sub_lists"]["counts"] == {
        "total": 1000,
        "shown": 20,
        "path": f"/api/v1/batches/{lot}/counts/",
    }
    for name in ("steps", "deviations", "custody"):
        sub_list = client.get(detail["sub_lists"][name]["path"]).json()
        assert set(sub_list) == ENVELOPE
        assert sub_list["count"] == detail["sub_lists"][name]["total"]


def test_a_deviation_opened_on_the_batch_answers_step_null(api, technician, running_batch):
    batch = running_batch
    client = api.as_user(technician)
    opened = client.post(
        f"/api/v1/batches/{batch.lot_number}/deviations/",
        {"kind": "other", "what": "Door ajar", "why": "Latch", "impact": "None"},
    )
    assert opened.status_code == 201, opened.json()
    listed = client.get(f"/api/v1/batches/{batch.lot_number}/deviations/").json()
    assert listed["results"][0]["step"] is None


def test_a_nul_in_a_search_or_text_filter_finds_nothing(api, technician, running_batch):
    """No stored text holds a NUL: such a search or filter is an empty page, not an error."""
    client = api.as_user(technician)
    for query in ("search=CNK%00", "source_unit=G%00"):
        r = client.get(f"/api/v1/batches/?{query}")
        assert r.status_code == 200 and r.json()["count"] == 0, (query, r.content)
    assert client.get("/api/v1/batches/").json()["count"] == 1
