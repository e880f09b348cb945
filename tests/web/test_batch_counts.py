"""Counts on the batch pages: a second count of a day is refused on the form, a correction
has its own page with a required reason, and the batch page stays bounded however many
counts (or trail events) a batch has: it shows the latest few of each list, and each list
has its own page, a page at a time."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from batches import selectors
from batches.models import CellCount
from tests.web.batch_pages import count_data, field_block, html

pytestmark = pytest.mark.django_db


def post_count(client, batch, day=3, viable=1e6, **extra):
    moment = timezone.now() - timedelta(hours=1)
    return client.post(
        reverse("batch-count", args=[batch.lot_number]), count_data(moment, day, viable, **extra)
    )


def correct_url(batch, count):
    return reverse("batch-count-correct", args=[batch.lot_number, count.pk])


def correction_data(viable=1.2e6, reason="Recounted: the first sample had clumps"):
    moment = timezone.now() - timedelta(minutes=30)
    data = count_data(moment, 3, viable, correction_reason=reason)
    del data["day"]  # the day is the corrected count's
    return data


def test_a_second_count_of_a_day_is_refused_on_the_day_field(client, started):
    assert post_count(client, started).status_code == 302
    first = CellCount.objects.get()
    response = post_count(client, started, viable=2e6)
    assert response.status_code == 200
    day = field_block(html(response), "day")
    assert f"already has a day 3 count (count {first.pk}" in day
    assert "record a correction with a reason" in day
    assert CellCount.objects.count() == 1


def test_a_correction_needs_a_reason_then_replaces_the_count(client, started):
    assert post_count(client, started).status_code == 302
    first = CellCount.objects.get()
    page = html(client.get(correct_url(started, first)))
    assert 'id="correction-form"' in page and f"Count {first.pk}, to be replaced" in page

    response = client.post(correct_url(started, first), correction_data(reason="  "))
    assert response.status_code == 200
    assert "This field is required." in field_block(html(response), "correction_reason")
    assert CellCount.objects.count() == 1

    response = client.post(correct_url(started, first), correction_data())
    assert response.status_code == 302, html(response)
    correction = CellCount.objects.get(corrects=first)
    assert correction.day == 3 and correction.viable_cells_per_ml == 1.2e6
    assert correction.correction_reason == "Recounted: the first sample had clumps"
    assert [c.pk for c in selectors.current_counts(started)] == [correction.pk]

    page = html(client.get(started.get_absolute_url()))
    counts = page[page.index('id="counts-table"') :]
    counts = counts[: counts.index("</table>")]
    assert counts.count('class="count-row corrected"') == 1 and "Current" in counts
    assert f"Corrects count {first.pk}: Recounted" in counts
    timeline = page[page.index('id="timeline"') : page.index('id="expansion"')]
    assert timeline.count("Cell count, day 3") == 1  # the current one alone
    assert f"corrects count {first.pk}" in timeline


def test_a_count_already_corrected_cannot_be_corrected_again(client, started):
    assert post_count(client, started).status_code == 302
    first = CellCount.objects.get()
    assert client.post(correct_url(started, first), correction_data()).status_code == 302
    page = html(client.get(correct_url(started, first)))
    assert "Already corrected by count" in page
    response = client.post(correct_url(started, first), correction_data(viable=1.3e6))
    assert response.status_code == 200
    assert "is not the current day 3 count" in html(response)
    assert CellCount.objects.count() == 2


def test_correcting_needs_the_count_permission(client, started, clinical):
    assert post_count(client, started).status_code == 302
    client.force_login(clinical)
    assert client.get(correct_url(started, CellCount.objects.get())).status_code == 403


def test_a_count_of_another_batch_is_not_found(client, started):
    assert (
        client.get(reverse("batch-count-correct", args=[started.lot_number, 999999])).status_code
        == 404
    )
