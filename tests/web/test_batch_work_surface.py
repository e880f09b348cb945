"""The batch page as a work surface: the next action first; actions the batch does not allow
now shown disabled with the refusing rule's own words; the record folded away; numbers and
times as the lab writes them; routine forward moves asked for without a reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from batches.models import Batch
from batches.services import batch_record, lifecycle
from tests.batch_steps import step_payloads
from tests.factories import PASSWORD
from tests.services.trail import assert_trailed
from tests.web.batch_pages import count_data, day0, field_block, html, post_step

pytestmark = pytest.mark.django_db


def next_action(page):
    """The markup of the next-action card."""
    start = page.index('id="next-action"')
    return page[start : page.index("</section>", start)]


def before(page, first, then):
    return page.index(first) < page.index(then)


def record_steps(client, batch, n):
    for payload in step_payloads(day0())[:n]:
        assert post_step(client, batch, payload).status_code == 302


def test_mid_process_the_next_step_comes_first_and_harvest_says_why_not(client, started):
    record_steps(client, started, 2)
    for day, viable in ((0, 2e5), (4, 2.2e8)):
        client.post(
            reverse("batch-count", args=[started.lot_number]),
            count_data(day0() + timedelta(days=day, hours=1), day, viable),
        )
    page = html(client.get(started.get_absolute_url()))
    card = next_action(page)
    assert "Record step 3: Day 4 – Retroviral transduction" in card
    assert 'id="step-form"' in card
    assert before(page, 'id="next-action"', "<h2>Identity</h2>")
    # Harvest is offered disabled, with the words the service refuses it with.
    started.refresh_from_db()
    blocker = lifecycle.transition_blocker(started, "harvested")
    assert blocker.startswith("Record every step first: step 3 (")
    off = page[page.index('id="lifecycle-harvested"') :]
    assert "disabled" in off[: off.index(blocker)] and 'id="transition-harvested-form"' not in page
    # The record is folded: closed sections, each still there to open.
    for fold in ("timeline", "expansion", "deviations", "custody", "qc"):
        tag = page[page.index(f'<details class="card fold" id="{fold}"') :]
        assert tag[: tag.index(">")].endswith(f'id="{fold}"'), fold  # not open
    assert 'id="signatures-fold"' in page and 'id="history-fold"' in page
    # Lab notation, never e-notation; times in 24-hour ISO form with the zone.
    assert "2.2 × 10<sup>8</sup>" in page
    assert "e+0" not in page
    assert " UTC" in page[page.index('id="timeline"') :]


def test_once_every_step_is_done_harvest_then_qc_follow_without_a_reason(client, started):
    record_steps(client, started, 5)
    card = next_action(html(client.get(started.get_absolute_url())))
    assert "Record harvest complete" in card and 'id="transition-harvested-form"' in card
    assert 'name="reason"' not in card  # a routine step forward asks for no reason
    url = reverse("batch-transition", args=[started.lot_number])
    body = {"to_state": "harvested", "expected_state": "in_process", "password": PASSWORD}
    assert client.post(url, body).status_code == 302
    started.refresh_from_db()
    assert started.state == "harvested"
    assert_trailed(started, actor=started.created_by, reason=lifecycle.ROUTINE_FORWARD_REASON)

    card = next_action(html(client.get(started.get_absolute_url())))
    assert "Send to QC" in card and 'id="transition-in_qc-form"' in card
    assert client.post(url, {"to_state": "in_qc", "expected_state": "harvested"}).status_code == 302
    started.refresh_from_db()
    assert started.state == "in_qc"
    card = next_action(html(client.get(started.get_absolute_url())))
    assert "QC testing, then QA&#x27;s release decision" in card or "QC testing" in card


def test_a_termination_without_a_reason_is_refused_on_its_field(client, started, qa):
    client.force_login(qa)
    response = client.post(
        reverse("batch-transition", args=[started.lot_number]),
        {"to_state": "terminated", "expected_state": "in_process", "password": PASSWORD},
    )
    assert response.status_code == 200
    assert lifecycle.REASON_NEEDED in field_block(html(response), "reason")
    assert Batch.objects.get(pk=started.pk).state == "in_process"
    # The termination form asks for the reason up front.
    page = html(client.get(started.get_absolute_url()))
    form = page[page.index('id="transition-terminated-form"') :]
    assert 'name="reason"' in form[: form.index("</form>")]


def test_on_hold_the_technician_sees_whose_move_it_is(client, started, technician, qa):
    batch_record.deviation_open(
        actor=technician, batch=started, kind="other", what="Spill", why="y", impact="i"
    )
    card = next_action(html(client.get(started.get_absolute_url())))
    assert "QA disposition of the open deviation" in card
    assert "Done by a QA reviewer" in card
    assert "The batch is on hold" in card and "Spill" in card
    assert "-form" not in card  # no disposition form for the technician
    client.force_login(qa)
    card = next_action(html(client.get(started.get_absolute_url())))
    assert 'data-esign="Approved"' in card and "Done by" not in card


def test_a_planned_batch_offers_start_and_shows_why_no_count_yet(client, technician, started):
    planned = batch_record.batch_create(
        actor=technician,
        source_unit=started.source_unit,
        template=started.template,
        unit_fraction_used_pct=Decimal(10),
    )
    page = html(client.get(planned.get_absolute_url()))
    card = next_action(page)
    assert "Start manufacturing" in card and 'id="transition-in_process-form"' in card
    assert 'name="reason"' not in card
    blocker = batch_record.count_blocker(planned)
    off = page[page.index('id="count-why"') - 200 :]
    assert "disabled" in off[:200] and blocker in off
    assert 'id="count-form"' not in page


def test_the_page_reads_in_a_bounded_number_of_queries(
    client, started, django_assert_max_num_queries
):
    record_steps(client, started, 4)
    for day in range(12):
        client.post(
            reverse("batch-count", args=[started.lot_number]),
            count_data(day0() + timedelta(days=day, hours=2), day, 1e6 * (day + 1)),
        )
    client.get(started.get_absolute_url())  # warm the content type cache
    with django_assert_max_num_queries(60):
        response = client.get(started.get_absolute_url())
    assert response.status_code == 200
