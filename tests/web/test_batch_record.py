"""Web UI of the batch record: a batch from planned to harvested through the pages
alone, the refusals of the step form, deviations and their QA disposition, what each role
sees, garbage input, the growth curve, and query counts that do not grow."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from batches.models import Batch, CellCount, CustodyEvent, Deviation, ExecutedStep
from batches.services import batch_record, lifecycle
from carnk_mfg.models import ElectronicSignature
from tests.batch_steps import planned_days_ago, step_payloads
from tests.factories import PASSWORD, CordBloodUnitFactory

pytestmark = pytest.mark.django_db

STEP_NAMES = [
    "CBU thaw and NK isolation",
    "Stimulation with irradiated uAPC feeders and IL-2",
    "Retroviral transduction on RetroNectin-coated vessels",
    "Restimulation with feeders",
    "Harvest, wash and formulation",
]
ACTION_FORMS = (
    "step-form",
    "count-form",
    "deviation-form",
    "custody-form",
    "transition-in_process-form",
    "transition-harvested-form",
    "transition-terminated-form",
)


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    # Full-strength PBKDF2 costs ~0.3 s per user and per signature; these tests need neither.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def unit(db):
    return CordBloodUnitFactory.create(din="G123498654321")


def local(moment):
    """A datetime as the browser's datetime-local input sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def day0():
    return timezone.now().replace(second=0, microsecond=0) - timedelta(days=15)


def step_data(code, at, values, materials, **extra):
    data = {"step": code, "performed_at": local(at), "password": PASSWORD}
    data.update({f"values.{name}": str(value) for name, value in values.items()})
    for row, item in enumerate(materials):
        data[f"materials.{row}.kind"] = item["kind"]
        data[f"materials.{row}.lot_number"] = item["lot_number"]
    data.update(extra)
    return data


def html(response):
    return response.content.decode()


def forms_on(page):
    return {name for name in ACTION_FORMS if f'id="{name}"' in page}


def plan_batch(client, unit, template, **extra):
    """Plan through the page, 30 days ago: the steps below are recorded on their days."""
    with planned_days_ago(30):
        response = client.post(
            reverse("batch-new"),
            {
                "source_unit": unit.din,
                "template": template.pk,
                "unit_fraction_used_pct": "50",
                **extra,
            },
        )
    assert response.status_code == 302, html(response)
    return Batch.objects.get(source_unit=unit)


def transition(client, batch, to_state, expected, **extra):
    return client.post(
        reverse("batch-transition", args=[batch.lot_number]),
        {"to_state": to_state, "expected_state": expected, "reason": "As planned", **extra},
    )


def post_step(client, batch, payload, **extra):
    return client.post(reverse("batch-step", args=[batch.lot_number]), step_data(*payload, **extra))


def count_data(moment, day, viable, **extra):
    return {
        "day": str(day),
        "measured_at": local(moment),
        "total_cells_per_ml": str(viable * 1.1),
        "viable_cells_per_ml": str(viable),
        "volume_ml": "10",
        **extra,
    }


@pytest.fixture
def started(client, technician, approved_template, unit, lots):
    """A batch planned and started through the pages, the technician signed in."""
    client.force_login(technician)
    batch = plan_batch(client, unit, approved_template)
    assert transition(client, batch, "in_process", "planned").status_code == 302
    return batch


def field_block(page, name):
    """The markup of one input's field block: where its own error must appear."""
    start = page.index(f'name="{name}"')
    end = page.find('<div class="field', start)
    return page[start:end]


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
    assert 'planned</span> → <span class="new">in_process' in history
    assert 'in_process</span> → <span class="new">harvested' in history
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
    assert "NK purity (CD56+CD3-) 55 % is outside 70–100 %" in page
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
    body = {"disposition": "accept", "notes": "Within validated experience", "password": PASSWORD}
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
        actor=qa, password=PASSWORD, deviation=deviation, disposition="accept", notes="ok"
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
    assert "Day 14 (" in svg and "3e+09 total viable cells" in svg
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
    steps = {s.code: s for s in template.steps.all()}
    for code, at, values, materials in step_payloads(start, din=batch.source_unit.din):
        batch_record.step_record(
            actor=technician,
            password=PASSWORD,
            batch=batch,
            template_step=steps[code],
            performed_at=at,
            values=values,
            materials=materials,
        )
    for i in range(n_counts):
        batch_record.cell_count_record(
            actor=technician,
            batch=batch,
            day=min(i, 14),
            measured_at=start + timedelta(hours=i),
            total_cells_per_ml=1e6 + i,
            viable_cells_per_ml=9e5,
            volume_ml=Decimal(10),
        )
    for _ in range(n_deviations):
        deviation = batch_record.deviation_open(
            actor=technician, batch=batch, kind="other", what="w", why="y", impact="i"
        )
        batch_record.deviation_disposition(
            actor=qa, password=PASSWORD, deviation=deviation, disposition="accept", notes="ok"
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
    assert page.count("Cell count, day") == 50
    assert fifty == one, (one, fifty)
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
