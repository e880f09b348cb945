"""Web UI of the batch record: a batch from planned to harvested through the pages
alone, the refusals of the step form, deviations and their QA disposition, what each role
sees, and garbage input (the growth curve, lists and query counts: test_batch_pages.py)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import Batch, CellCount, CustodyEvent, Deviation, ExecutedStep
from batches.services import batch_record
from batches.services import capa as capa_services
from carnk_mfg.models import ElectronicSignature
from tests.batch_steps import step_payloads
from tests.factories import PASSWORD, CordBloodUnitFactory
from tests.web.batch_pages import (
    STEP_NAMES,
    count_data,
    day0,
    field_block,
    forms_on,
    html,
    local,
    plan_batch,
    post_step,
    step_data,
    transition,
)

pytestmark = pytest.mark.django_db


# --- the whole flow ---


def test_planned_to_harvested_through_the_pages(
    client, technician, approved_template, unit, lots, approved_spec_set
):
    client.force_login(technician)
    page = html(client.get(reverse("batch-new")))
    assert unit.din in page and "urgent medical need" in page
    batch = plan_batch(client, unit, approved_template)
    assert batch.state == "planned" and batch.unit_fraction_used_pct == 50
    response = transition(client, batch, "in_process", "planned")
    assert response.status_code == 302 and response.url == batch.get_absolute_url()
    start = day0()
    for day, viable in ((0, 2e5), (7, 2e7), (14, 3e8)):
        response = client.post(
            reverse("batch-count", args=[batch.lot_number]),
            count_data(start + timedelta(days=day, hours=1), day, viable),
        )
        assert response.status_code == 302, html(response)
    for payload in step_payloads(start, din=unit.din):
        response = post_step(client, batch, payload)
        assert response.status_code == 302, (payload[0], html(response))
    page = html(client.get(batch.get_absolute_url()))
    assert 'id="step-form"' not in page  # every step recorded
    assert 'id="transition-harvested-form"' in page
    response = transition(client, batch, "harvested", "in_process", password=PASSWORD)
    assert response.status_code == 302, html(response)
    batch.refresh_from_db()
    assert batch.state == "harvested"
    assert ExecutedStep.objects.filter(batch=batch).count() == 5
    assert ElectronicSignature.objects.filter(meaning="performed").count() == 6  # 5 steps + harvest

    page = html(client.get(batch.get_absolute_url()))
    timeline = page[page.index('id="timeline"') : page.index('id="expansion"')]
    positions = [timeline.index(name) for name in STEP_NAMES]
    assert positions == sorted(positions)  # in the order they were performed
    assert "NK purity (CD56+CD3-)" in timeline and "92 %" in timeline
    assert "reagent ISO-1" in timeline and "feeder FD-1" in timeline and "vector RV-1" in timeline
    assert timeline.count("Performed</strong> by") == 5
    assert "Cell count, day 14" in timeline
    assert "State: Planned → In process" in timeline
    assert "State: In process → Harvested" in timeline
    history = page[page.index('id="history"') :]
    assert 'in_process</span> → <span class="new">harvested' in history
    # The batch page shows the latest trail events; the first ones are on the trail's own
    # page, whose last page holds the oldest.
    url = reverse("batch-list-page", args=[batch.lot_number, "history"])
    oldest = html(client.get(url, {"page": 9999}))
    assert 'planned</span> → <span class="new">in_process' in oldest
    assert "1,500.0x" in page or "1500.0x" in page  # fold expansion day 14 vs day 0
    assert "10.55" in page  # population doublings
    # The release panel was planned by the harvest step and is listed with its due dates.
    qc = page[page.index('id="qc"') :]
    assert "Endotoxin" in qc and "Sterility" in qc


# --- refusals of the step form (the rules themselves: tests/services/test_batch_record.py) ---


def test_out_of_range_without_deviation_asks_for_one(client, started):
    code, at, values, materials = step_payloads(day0())[0]
    response = post_step(client, started, (code, at, {**values, "nk_purity_pct": 55}, materials))
    page = html(response)
    assert response.status_code == 200
    assert 'id="deviation-needed"' in page
    assert "NK purity (CD56+CD3-) 55 % is outside the allowed range: 70 – 100 %" in page
    assert re.search(r'<details class="action" id="step-deviation" open>', page)
    assert ExecutedStep.objects.count() == 0 and Deviation.objects.count() == 0
    started.refresh_from_db()
    assert started.state == "in_process"


def test_lot_in_a_later_row_is_reported_on_that_row(client, started):
    code, at, values, _ = step_payloads(day0())[0]
    data = step_data(code, at, values, [])
    data.update({"materials.1.kind": "feeder", "materials.1.lot_number": "NOPE"})
    page = html(client.post(reverse("batch-step", args=[started.lot_number]), data))
    assert "No feeder lot &#x27;NOPE&#x27; is registered." in field_block(
        page, "materials.1.lot_number"
    )
    assert ExecutedStep.objects.count() == 0


# A refusal of a parameter lands on its own input, the signing one on the password.
def test_bad_parameter_and_wrong_password_are_form_errors(client, started):
    code, at, values, materials = step_payloads(day0())[0]
    page = html(
        post_step(client, started, (code, at, {**values, "post_thaw_tnc": "lots"}, materials))
    )
    assert "must be a number" in field_block(page, "values.post_thaw_tnc")
    page = html(post_step(client, started, (code, at, values, materials), password="wrong"))
    assert "The password is not correct" in page
    assert ExecutedStep.objects.count() == 0


# --- deviations ---


def test_out_of_range_with_deviation_holds_the_batch_and_qa_dispositions_it(
    client, started, technician, qa
):
    code, at, values, materials = step_payloads(day0())[0]
    response = post_step(
        client,
        started,
        (code, at, {**values, "nk_purity_pct": 55}, materials),
        deviation_why="Low-purity isolation",
        deviation_impact="Expansion on feeders enriches NK cells",
    )
    assert response.status_code == 302, html(response)
    started.refresh_from_db()
    assert started.state == "on_hold"
    deviation = Deviation.objects.get()
    assert deviation.kind == "out_of_range" and "55 % is outside" in deviation.what
    page = html(client.get(started.get_absolute_url()))
    assert "The batch is on hold" in page and 'id="step-form"' not in page
    assert f'id="disposition-{deviation.pk}-form"' not in page  # technicians do not disposition
    url = reverse("batch-disposition", args=[started.lot_number, deviation.pk])
    body = {
        "disposition": "accept",
        "classification": "minor",
        "root_cause": "Assessed by QA",
        "notes": "Within validated experience",
        "password": PASSWORD,
    }
    assert client.post(url, body).status_code == 403

    client.force_login(qa)
    page = html(client.get(started.get_absolute_url()))
    assert f'id="disposition-{deviation.pk}-form"' in page
    assert 'data-esign="Approved"' in page
    response = client.post(url, {**body, "password": "wrong"})
    assert "The password is not correct" in html(response)
    response = client.post(url, body)
    assert response.status_code == 302, html(response)
    started.refresh_from_db()
    deviation.refresh_from_db()
    assert started.state == "in_process" and deviation.state == "closed"
    page = html(client.get(started.get_absolute_url()))
    assert f"QA disposition of deviation {deviation.pk}" in page


def test_qa_closes_a_deviation_from_the_page_with_classification_root_cause_and_capa(
    client, started, technician, qa
):
    deviation = batch_record.deviation_open(
        actor=technician, batch=started, kind="other", what="Door open", why="Alarm", impact="i"
    )
    client.force_login(qa)
    page = html(client.get(started.get_absolute_url()))
    form = f'id="disposition-{deviation.pk}-form"'
    assert form in page and 'name="classification"' in page and 'name="root_cause"' in page
    url = reverse("batch-disposition", args=[started.lot_number, deviation.pk])
    body = {"disposition": "accept", "notes": "Assessed", "password": PASSWORD}

    page = html(client.post(url, body))
    assert "Classify the deviation" in field_block(page, "classification")
    assert "Record the root cause" in field_block(page, "root_cause")
    body |= {"classification": "major", "root_cause": "Alarm muted by habit"}
    response = client.post(url, body)
    assert response.status_code == 200
    assert "A major deviation is closed only with at least one CAPA" in html(response)
    deviation.refresh_from_db()
    assert deviation.state == "open" and deviation.classification == ""

    today = timezone.localdate()
    capa_services.capa_raise(
        actor=qa,
        deviations=[deviation],
        action="Unmutable door alarm",
        owner=technician,
        due_on=today + timedelta(days=14),
        effectiveness_check_on=today + timedelta(days=44),
    )
    response = client.post(url, body)
    assert response.status_code == 302, html(response)
    deviation.refresh_from_db()
    assert deviation.state == "closed" and deviation.classification == "major"
    assert deviation.root_cause == "Alarm muted by habit" and deviation.classified_by == qa


def test_deviation_form_holds_the_batch(client, started):
    response = client.post(
        reverse("batch-deviation", args=[started.lot_number]),
        {"kind": "other", "what": "Incubator door open 10 min", "why": "Alarm", "impact": "None"},
    )
    assert response.status_code == 302
    started.refresh_from_db()
    assert started.state == "on_hold"
    response = client.post(
        reverse("batch-deviation", args=[started.lot_number]),
        {"kind": "other", "what": "", "why": "x", "impact": "y"},
    )
    assert response.status_code == 200 and "This field is required." in html(response)


def test_custody_of_unit_and_batch(client, started, technician, qa):
    url = reverse("batch-handoff", args=[started.lot_number])
    base = {
        "released_by": technician.username,
        "received_by": qa.username,
        "from_location": "LN2-01",
        "to_location": "Cleanroom B",
        "occurred_at": local(timezone.now() - timedelta(minutes=5)),
        "temperature_c": "-150",
    }
    for subject in ("unit", "batch"):
        assert client.post(url, {**base, "subject": subject}).status_code == 302
    assert CustodyEvent.objects.filter(unit=started.source_unit).count() == 1
    assert CustodyEvent.objects.filter(batch=started).count() == 1
    page = html(client.get(started.get_absolute_url()))
    assert "Custody hand-off of the cord blood unit: LN2-01 → Cleanroom B" in page


def test_transition_conflict_is_a_409_with_a_clear_message(client, started, qa):
    # Someone else already started it: a second "start" from a stale page is refused.
    response = transition(client, started, "in_process", "planned")
    assert response.status_code == 409
    assert "someone else changed it first" in html(response)
    started.refresh_from_db()
    assert started.state == "in_process"


def test_harvest_is_offered_after_every_step_and_asks_for_a_signature(client, started):
    page = html(client.get(started.get_absolute_url()))
    assert "Record every step first: step 1" in page
    assert 'id="transition-harvested-form"' not in page
    response = transition(client, started, "harvested", "in_process")
    assert "Enter your password to sign." in html(response)
    started.refresh_from_db()
    assert started.state == "in_process"


# --- who sees what ---


def test_what_each_role_sees(client, started, users_by_role, qa):
    deviation = batch_record.deviation_open(
        actor=qa, batch=started, kind="other", what="Door open", why="Alarm", impact="None"
    )
    lifecycle_batch = Batch.objects.get(pk=started.pk)
    assert lifecycle_batch.state == "on_hold"
    seen = {}
    for role, user in users_by_role.items():
        client.force_login(user)
        page = html(client.get(started.get_absolute_url()))
        seen[role] = (forms_on(page), f'id="disposition-{deviation.pk}-form"' in page)
    assert seen["technician"] == ({"count-form", "deviation-form", "custody-form"}, False)
    assert seen["qc_analyst"] == ({"count-form", "deviation-form"}, False)
    assert seen["qa"] == ({"deviation-form", "transition-terminated-form"}, True)
    assert seen["clinical"] == (set(), False)
    assert seen["admin"] == (set(), False)  # reads the record, makes no GMP decision

    # In process again: the step form is the technician's, not the QC analyst's.
    batch_record.deviation_disposition(
        classification="minor",
        root_cause="Assessed by QA",
        actor=qa,
        password=PASSWORD,
        deviation=deviation,
        disposition="accept",
        notes="ok",
    )
    client.force_login(users_by_role["technician"])
    assert "step-form" in forms_on(html(client.get(started.get_absolute_url())))
    client.force_login(users_by_role["qc_analyst"])
    assert "step-form" not in forms_on(html(client.get(started.get_absolute_url())))


@pytest.mark.parametrize("role", ["technician", "qc_analyst", "qa", "clinical", "admin"])
def test_list_and_detail_render_for_every_role(client, started, users_by_role, role):
    client.force_login(users_by_role[role])
    page = html(client.get(reverse("batch-list")))
    assert started.lot_number in page
    assert client.get(started.get_absolute_url()).status_code == 200
    assert ("Plan a batch" in page) == (role == "technician")


def test_posts_without_permission_are_403(client, started, clinical, qc_analyst, technician):
    lot = started.lot_number
    deviation = Deviation.objects.create(
        batch=started,
        kind="other",
        what="x",
        why="y",
        impact="z",
        opened_by=technician,
        opened_at=timezone.now(),
    )
    posts = {
        "batch-step": {},
        "batch-count": {},
        "batch-deviation": {},
        "batch-handoff": {},
        "batch-transition": {"to_state": "harvested", "expected_state": "in_process"},
    }
    client.force_login(clinical)
    for name, body in posts.items():
        assert client.post(reverse(name, args=[lot]), body).status_code == 403, name
    disposition = reverse("batch-disposition", args=[lot, deviation.pk])
    assert client.post(disposition, {}).status_code == 403
    assert client.post(reverse("batch-new"), {}).status_code == 403
    client.force_login(qc_analyst)
    assert client.post(reverse("batch-step", args=[lot]), {}).status_code == 403
    assert client.post(reverse("batch-handoff", args=[lot]), {}).status_code == 403
    client.force_login(technician)
    release = {"to_state": "released", "expected_state": "in_qc", "reason": "x", "password": "x"}
    refused = client.post(reverse("batch-transition", args=[lot]), release)
    assert "only by QA&#x27;s release decision" in html(refused)
    assert client.post(disposition, {}).status_code == 403
    assert ExecutedStep.objects.count() == 0 and CellCount.objects.count() == 0


def test_anonymous_users_are_sent_to_login(client, started):
    client.logout()
    for url in (reverse("batch-list"), started.get_absolute_url(), reverse("batch-new")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    response = client.post(reverse("batch-step", args=[started.lot_number]), {})
    assert response.status_code == 302


# --- garbage in, no server error ---


GARBAGE = [
    "",
    "abc",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "-1",
    "9" * 400,
    "\x00",
    "🧪",
    "2026-13-45T99:99",
]


def garbage_bodies(junk, technician):
    """Each batch form's body with `junk` in its fields, by URL name."""
    code, at, values, materials = step_payloads(day0())[0]
    return {
        "batch-step": [
            step_data(code, at, {**values, "nk_purity_pct": junk}, materials),
            step_data(code, at, values, [{"kind": junk, "lot_number": junk}]),
            {**step_data(code, at, values, materials), "performed_at": junk},
            {**step_data(code, at, values, materials), "step": junk},
        ],
        "batch-count": [
            {**count_data(timezone.now(), 3, 1e6), field: junk}
            for field in ("day", "measured_at", "total_cells_per_ml", "volume_ml", "viability_pct")
        ],
        "batch-handoff": [
            {
                "subject": junk,
                "released_by": junk,
                "received_by": technician.username,
                "from_location": junk,
                "to_location": "b",
                "occurred_at": junk,
                "temperature_c": junk,
            },
        ],
        "batch-deviation": [{"kind": junk, "what": junk, "why": junk, "impact": junk}],
        "batch-transition": [
            {"to_state": junk, "expected_state": junk, "reason": junk, "password": junk},
            {"to_state": "harvested", "expected_state": "in_process", "reason": junk},
        ],
    }


def test_garbage_never_gives_a_server_error(client, started, technician, qa):
    lot = started.lot_number
    for junk in GARBAGE:
        bodies = garbage_bodies(junk, technician)
        for name, cases in bodies.items():
            for body in cases:
                response = client.post(reverse(name, args=[lot]), body)
                # A blank optional field may make a valid count (302); nothing is ever a 500.
                assert response.status_code in (200, 302, 409), (name, body, response.status_code)
        response = client.post(
            reverse("batch-new"),
            {
                "source_unit": junk,
                "template": junk,
                "unit_fraction_used_pct": junk,
                "intended_recipient": junk,
                "lot_number": junk,
            },
        )
        assert response.status_code == 200
        assert (
            client.get(reverse("batch-list"), {"q": junk, "state": junk, "page": junk}).status_code
            == 200
        )
    assert ExecutedStep.objects.count() == 0 and CellCount.objects.count() <= 1
    assert client.get("/batches/no-such-lot/").status_code == 404
    assert client.get("/batches/a%00b/").status_code == 404
    response = client.post(
        reverse("batch-count", args=[lot]),
        count_data(timezone.now(), 3, 1e6, viable_cells_per_ml="5e6"),
    )
    assert "Viable cells cannot exceed total cells." in field_block(
        html(response), "viable_cells_per_ml"
    )
    client.force_login(qa)
    url = reverse("batch-disposition", args=[lot, 99999999999])
    assert client.post(url, {"disposition": "accept"}).status_code == 404


def test_plan_form_refusals(client, technician, approved_template, unit, lots):
    client.force_login(technician)
    plan_batch(client, unit, approved_template)
    response = client.post(
        reverse("batch-new"),
        {
            "source_unit": unit.din,
            "template": approved_template.pk,
            "unit_fraction_used_pct": "10",
            "lot_number": "A/B",
        },
    )
    assert "cannot contain" in html(response)
    assert Batch.objects.count() == 1
    # An ineligible donor's unit is not offered to a technician (a medical decision).
    ineligible = CordBloodUnitFactory.create(eligibility="ineligible", status="quarantined")
    assert ineligible.din not in html(client.get(reverse("batch-new")))


def test_ineligible_unit_is_planned_with_the_urgent_need_fields(
    client, every_gmp_role, approved_template, lots
):
    ineligible = CordBloodUnitFactory.create(eligibility="ineligible", status="quarantined")
    client.force_login(every_gmp_role)
    body = {
        "source_unit": ineligible.din,
        "template": approved_template.pk,
        "unit_fraction_used_pct": "100",
    }
    response = client.post(
        reverse("batch-new"),
        {
            **body,
            "urgent_need_justification": "Relapsed CLL, no eligible unit",
            "urgent_need_physician": "Dr. A. Physician",
        },
    )
    assert response.status_code == 302
    page = html(client.get(response.url))
    assert "urgent medical need" in page
