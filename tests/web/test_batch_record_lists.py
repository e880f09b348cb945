"""The batch page stays bounded: with thousands of counts (and so thousands of trail events)
it reads a fixed number of queries and shows the latest BATCH_PAGE_LATEST of each list, each
with a link to the list's own page, which shows it a page at a time."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import CellCount
from tests.factories import UserFactory
from tests.web.batch_pages import html

pytestmark = pytest.mark.django_db

DAYS = 60
ROUNDS = 50  # 3,000 counts: each round corrects every day's count of the round before


@pytest.fixture
def crowded(started, technician):
    """The started batch with ROUNDS x DAYS counts, written in bulk (benchmark-style data:
    the service would refuse nothing here, but it would take minutes)."""
    now = timezone.now()
    previous: dict[int, CellCount] = {}
    for round_ in range(ROUNDS):
        made = CellCount.objects.bulk_create(
            [
                CellCount(
                    batch=started,
                    day=day,
                    measured_at=now - timedelta(hours=2, minutes=ROUNDS - round_),
                    total_cells_per_ml=2e6,
                    viable_cells_per_ml=1.8e6,
                    viability_pct=Decimal("90.00"),
                    volume_ml=Decimal("10"),
                    total_viable_cells=1.8e7,
                    recorded_by=technician,
                    recorded_at=now,
                    corrects=previous.get(day),
                    correction_reason="recount" if day in previous else "",
                )
                for day in range(DAYS)
            ]
        )
        previous = {c.day: c for c in made}
    return started


def rows_in(page, table_id, row_mark="<tr"):
    table = page[page.index(f'id="{table_id}"') :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return body.count(row_mark)


def test_the_batch_page_shows_the_latest_of_each_list_in_bounded_queries(
    client, crowded, settings, django_assert_max_num_queries
):
    total = ROUNDS * DAYS
    start = time.perf_counter()
    with django_assert_max_num_queries(70):
        response = client.get(crowded.get_absolute_url())
    seconds = time.perf_counter() - start
    assert response.status_code == 200
    page = html(response)
    assert rows_in(page, "counts-table", 'class="count-row') == 10
    assert f"All {total:,} counts" in page
    assert rows_in(page, "history") == 10
    assert "trail events</a>" in page  # the trail runs far beyond 10 events
    # The growth reads the current count of each day, one per day.
    assert rows_in(page, "expansion-table") == DAYS
    print(f"batch page with {total:,} counts: {seconds:.2f} s")

    settings.BATCH_PAGE_LATEST = 3
    page = html(client.get(crowded.get_absolute_url()))
    assert rows_in(page, "counts-table", 'class="count-row') == 3


def test_each_list_has_its_own_page_a_page_at_a_time(client, crowded):
    url = reverse("batch-list-page", args=[crowded.lot_number, "counts"])
    first = html(client.get(url))
    assert rows_in(first, "counts-table", 'class="count-row') == 50
    assert f"{ROUNDS * DAYS:,}" in first or f"{ROUNDS * DAYS}" in first
    assert f"Page 1 of {ROUNDS * DAYS // 50}" in first
    # Newest first: page 1 holds the current counts, the last page the first, corrected ones.
    assert first.count('class="count-row corrected"') == 0
    last = html(client.get(url, {"page": ROUNDS * DAYS // 50}))
    assert last.count('class="count-row corrected"') == 50
    for key in ("history", "signatures", "steps", "custody", "deviations"):
        response = client.get(reverse("batch-list-page", args=[crowded.lot_number, key]))
        assert response.status_code == 200, key
    missing = client.get(reverse("batch-list-page", args=[crowded.lot_number, "nonsense"]))
    assert missing.status_code == 404


def test_a_list_page_needs_the_batch_view_permission(client, started):
    client.force_login(UserFactory.create(username="no-role"))  # in no group
    url = reverse("batch-list-page", args=[started.lot_number, "counts"])
    assert client.get(url).status_code == 403
