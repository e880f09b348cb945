"""Web UI around the batch record: the growth curve, query counts that do not grow, the
list's due work, template approval, and refusals of forms a page no longer offers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from batches import selectors
from batches.models import Batch, CellCount, ExecutedStep
from batches.selectors.sublists import trail_newest_first
from batches.services import batch_record, lifecycle
from tests import batch_steps
from tests.batch_steps import planned_days_ago, step_payloads
from tests.factories import PASSWORD, CordBloodUnitFactory
from tests.web.batch_pages import count_data, day0, html, plan_batch, post_step

pytestmark = pytest.mark.django_db


# --- the growth curve ---


def test_growth_curve_is_an_inline_svg_of_the_counts(client, started):
    start = day0()
    points = ((0, 2e5), (4, 3e6), (7, 2e7), (14, 3e8))
    for day, viable in points:
        client.post(
            reverse("batch-count", args=[started.lot_number]),
            count_data(start + timedelta(days=day), day, viable),
        )
    page = html(client.get(started.get_absolute_url()))
    svg = page[page.index('<svg id="growth-curve"') : page.index("</svg>")]
    assert svg.count("<circle") == len(points)  # one point per count, viable cells
    assert svg.count("<rect") == len(points)  # and one per count, viability
    assert "Culture day" in svg and "Total viable cells (log scale)" in svg
    assert "Viability (%)" in svg
    assert "Day 14 (" in svg and "3 × 10⁹ total viable cells" in svg
    assert "1,500-fold since day 0" in svg
    assert "<script" not in page.split("</svg>")[0].split('<svg id="growth-curve"')[1]
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    table = page[page.index('id="expansion-table"') :]
    assert "1,500.0x" in table


def test_low_expansion_is_flagged_prominently(client, started):
    start = day0()
    for day, viable in ((0, 1e6), (14, 5e7)):
        client.post(
            reverse("batch-count", args=[started.lot_number]),
            count_data(start + timedelta(days=day), day, viable),
        )
    page = html(client.get(started.get_absolute_url()))
    flags = page[page.index('id="batch-flags"') :]
    assert "Fold expansion 50x on day 14 is outside the expected 300–20000x" in flags


# --- query counts ---


def _queries(client, url):
    # The query log is a bounded deque shared by all captures: clear it, count right away.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _full_batch(technician, qa, template, n_counts, n_deviations, n_custody):
    with planned_days_ago(30):
        batch = batch_record.batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=template,
            unit_fraction_used_pct=Decimal(100),
        )
    lifecycle.batch_transition(actor=technician, batch=batch, to_state="in_process", reason="go")
    start = day0()
    batch_steps.record_steps(batch, technician, day0=start)
    # One count per culture day (days 0-14); beyond 15, each corrects its day's count.
    for i in range(n_counts):
        current = selectors.current_counts_of_days([(batch.pk, i % 15)]).get((batch.pk, i % 15))
        batch_record.cell_count_record(
            actor=technician,
            batch=batch,
            day=i % 15,
            measured_at=start + timedelta(hours=i),
            total_cells_per_ml=1e6 + i,
            viable_cells_per_ml=9e5,
            volume_ml=Decimal(10),
            corrects=current.pk if current else None,
            correction_reason="Recounted" if current else "",
        )
    for _ in range(n_deviations):
        deviation = batch_record.deviation_open(
            actor=technician, batch=batch, kind="other", what="w", why="y", impact="i"
        )
        batch_record.deviation_disposition(
            classification="minor",
            root_cause="Assessed by QA",
            actor=qa,
            password=PASSWORD,
            deviation=deviation,
            disposition="accept",
            notes="ok",
        )
    for i in range(n_custody):
        for subject in ({"unit": batch.source_unit}, {"batch": batch}):
            batch_record.custody_record(
                actor=technician,
                released_by=technician.username,
                received_by=qa.username,
                from_location=f"A{i}",
                to_location="B",
                occurred_at=timezone.now(),
                **subject,
            )
    return batch


def test_batch_detail_queries_do_not_grow(
    client, technician, qa, approved_template, lots, approved_spec_set
):
    small = _full_batch(technician, qa, approved_template, 1, 1, 1)
    big = _full_batch(technician, qa, approved_template, 50, 3, 3)
    client.force_login(technician)
    client.get(small.get_absolute_url())  # warm the content type cache
    one = _queries(client, small.get_absolute_url())
    fifty = _queries(client, big.get_absolute_url())
    page = html(client.get(big.get_absolute_url()))
    assert page.count("Cell count, day") == 15  # the current count of each day
    # Fixed, but for the trail: its latest events are read with one query per event table
    # they come from, and which tables those are varies (never more than there are).
    tables = len(trail_newest_first(big).sources)
    assert max(one, fifty) <= min(one, fifty) + tables, (one, fifty, tables)
    print(f"QUERIES web batch detail: 1 count={one}, 50 counts={fifty}")


def test_batch_list_queries_do_not_grow(client, technician, qa, approved_template, lots):
    client.force_login(technician)
    _full_batch(technician, qa, approved_template, 2, 1, 0)
    client.get(reverse("batch-list"))
    one = _queries(client, reverse("batch-list"))
    for _ in range(49):
        batch_record.batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=approved_template,
            unit_fraction_used_pct=Decimal(100),
        )
    fifty = _queries(client, reverse("batch-list"))
    assert Batch.objects.count() == 50
    assert fifty == one, (one, fifty)
    print(f"QUERIES web batch list: 1 batch={one}, 50 batches={fifty}")


def test_due_work_column_marks_late_steps(client, started, technician):
    # Day 0 three weeks ago and only step 1 done: step 2 (day 0) is long late.
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(days=21)
    assert post_step(client, started, step_payloads(start)[0]).status_code == 302
    page = html(client.get(reverse("batch-list")))
    row = page[page.index(started.lot_number) :]
    assert "Stimulation with irradiated uAPC feeders" in row
    assert "LATE: planned for day 0" in row
    page = html(client.get(reverse("batch-list"), {"state": "released"}))
    assert started.lot_number not in page
    page = html(client.get(reverse("batch-list"), {"q": started.source_unit.din}))
    assert started.lot_number in page


def test_template_approval_is_signed_on_its_page(client, qa, technician):
    from batches.models import ProcessTemplate

    template = ProcessTemplate.objects.get(code="CB-CAR-NK", version=1)
    client.force_login(technician)
    page = html(client.get(reverse("template-detail", args=[template.pk])))
    assert 'id="approve-form"' not in page
    url = reverse("template-detail", args=[template.pk])
    assert client.post(url, {"reason": "x", "password": PASSWORD}).status_code == 403
    client.force_login(qa)
    page = html(client.get(url))
    assert 'id="approve-form"' in page and 'data-esign="Approved"' in page
    response = client.post(url, {"reason": "ok", "password": "wrong"})
    assert "The password is not correct" in html(response)
    assert client.post(url, {"reason": "Approved for use", "password": PASSWORD}).status_code == 302
    template.refresh_from_db()
    assert template.status == "approved"
    assert client.get(reverse("template-list")).status_code == 200


def test_refusal_of_a_form_the_page_no_longer_offers_is_still_shown(
    client, technician, approved_template, unit, lots
):
    client.force_login(technician)
    batch = plan_batch(client, unit, approved_template)  # planned: no counts, no steps yet
    response = client.post(
        reverse("batch-count", args=[batch.lot_number]), count_data(timezone.now(), 0, 1e6)
    )
    refused = html(response)[html(response).index('id="refused"') :]
    assert "Counts are recorded during manufacturing; the batch is planned." in refused
    response = post_step(client, batch, step_payloads(day0())[0])
    assert "Steps are recorded while the batch is in process" in html(response)
    assert CellCount.objects.count() == 0 and ExecutedStep.objects.count() == 0


def test_the_batch_list_counts_and_pages_without_grouping_every_batch(
    client, technician, qa, approved_template, lots
):
    """Its totals (steps done, open deviations) are counted for the page's rows only, and
    the paginator's count reads the batches alone: no GROUP BY over steps and deviations."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _full_batch(technician, qa, approved_template, 2, 1, 0)
    client.force_login(technician)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("batch-list"), {"state": "in_process"})
    assert page.status_code == 200
    batch_queries = [q["sql"] for q in captured.captured_queries if '"batches_batch"' in q["sql"]]
    assert batch_queries
    assert not [sql for sql in batch_queries if "GROUP BY" in sql.split("(SELECT")[0]]
    (count,) = [sql for sql in batch_queries if sql.startswith("SELECT COUNT(*)")]
    assert "batches_executedstep" not in count and "batches_deviation" not in count
