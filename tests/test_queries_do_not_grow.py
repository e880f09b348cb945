"""Every page and every API list asks the database the same number of questions however much
the facility has made: each is opened with one round of everything (a batch infused into its
recipient, a batch in QC with a deviation, a running batch), then again with three rounds. A
page whose count grows reads row by row somewhere, and slows down with every batch made.

The pages without a parameter are found from the URL configuration, so a new list is measured
without being named here; the pages of one record are opened for the first round's records."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from batches.models import Batch, DoseUnit
from batches.presenters.work import all_worklists
from batches.services import batch_record, lifecycle, release
from carnk_mfg import sessions
from tests import batch_steps
from tests.batch_steps import (
    INFUSE_NOW_CHECKED,
    bedside_day,
    formulate,
    infuse_now,
    issue_to_ward,
    lymphodeplete,
    planned_days_ago,
    result_all,
)
from tests.factories import PASSWORD, CordBloodUnitFactory, RecipientFactory, UserFactory

pytestmark = pytest.mark.django_db

# Opened by no one's browser as a page, or measured on their own.
NOT_PAGES = {
    "healthz": "a probe for the load balancer",
    "readyz": "a probe for the load balancer",
    "favicon": "an icon",
    "login": "before anyone signs in",
    "logout": "a POST",
    "stay-signed-in": "a POST",
    "api-token": "a POST",
    "api-root": "DRF's index of links",
    "schema": "the OpenAPI document, generated from code",
    "api-docs": "the OpenAPI viewer",
    "qc-notices-read-all": "a POST",
    "api-qc-test-reviews": "a POST",
    "api-training-record-supervisor": "a POST",
    "product-review-pdf": "a PDF: tests/documents/test_product_review.py counts it",
}


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + str(pattern.pattern), pattern.name


def pages_without_parameters() -> list[str]:
    """The names of the GET pages and API lists that take no parameter."""
    names = []
    for route, name in _routes(get_resolver().url_patterns):
        if route.startswith("admin/") or name in NOT_PAGES or name in names:
            continue
        if "<" in route:  # a parameter (the format suffix routes share their list's name)
            continue
        names.append(name)
    return names


def batch_in_qc(tech, template, for_recipient=None) -> Batch:
    """A batch planned a month ago, its steps recorded, harvested and in QC."""
    with planned_days_ago(30):
        batch = batch_record.batch_create(
            actor=tech,
            source_unit=CordBloodUnitFactory.create(),
            template=template,
            unit_fraction_used_pct=Decimal("100"),
            intended_recipient=for_recipient,
        )
    batch = lifecycle.batch_transition(actor=tech, batch=batch, to_state="in_process", reason="go")
    batch_steps.record_steps(batch, tech, day0=timezone.now() - timedelta(days=20))
    batch = lifecycle.batch_transition(
        actor=tech, batch=batch, to_state="harvested", reason="h", password=PASSWORD
    )
    return lifecycle.batch_transition(actor=tech, batch=batch, to_state="in_qc", reason="qc")


def batch_running(tech, template) -> Batch:
    """A batch in process with its first two steps recorded."""
    with planned_days_ago(5):
        running = batch_record.batch_create(
            actor=tech,
            source_unit=CordBloodUnitFactory.create(),
            template=template,
            unit_fraction_used_pct=Decimal("100"),
        )
    running = lifecycle.batch_transition(
        actor=tech, batch=running, to_state="in_process", reason="go"
    )
    batch_steps.record_steps(running, tech, day0=timezone.now() - timedelta(days=2), first=2)
    return running


def one_round(n: int, people: dict, template) -> dict:
    """One more of everything: a batch released and infused into its own recipient, a batch
    in QC with its panel open and a deviation, and a running batch."""
    tech, analyst, reviewer, qa, clinic = (
        people[r] for r in ("technician", "qc_analyst", "reviewer", "qa", "clinical")
    )
    recipient = RecipientFactory.create(subject_id=f"CARNK-Q{n}", treating_clinician=clinic)
    infused = batch_in_qc(tech, template, recipient)
    with planned_days_ago(1 / 24):
        result_all(infused, analyst, reviewer)
        formulate(infused, tech, ("A0", "B0"))
        release.batch_record_review(actor=qa, password=PASSWORD, batch=infused)
        release.batch_release_decide(
            actor=qa, password=PASSWORD, batch=infused, decision="release", reason="ok"
        )
        bag = DoseUnit.objects.get(batch=infused, division="A0")
        release.dose_assign(actor=clinic, dose_unit=bag, recipient=recipient, level_code="DL2")
        lymphodeplete(recipient, clinic, infusion_on=bedside_day(INFUSE_NOW_CHECKED))
        issue_to_ward(bag, released_by=qa, received_by=clinic)
    bag.refresh_from_db()
    infusion = infuse_now(bag, clinic, bag.dose_volume_ml)
    held = batch_in_qc(tech, template)
    deviation = batch_record.deviation_open(
        actor=tech,
        batch=held,
        kind="other",
        what=f"Incubator door left ajar (round {n})",
        why="Door latch worn",
        impact="Temperature stayed within range",
    )
    return {
        "infused": infused,
        "held": held,
        "running": batch_running(tech, template),
        "bag": bag,
        "recipient": recipient,
        "infusion": infusion,
        "deviation": deviation,
        "test": held.qc_tests.order_by("pk").first(),
    }


def record_pages(first: dict) -> list[tuple[str, str]]:
    """(label, url) of the pages of one record, for the first round's records."""
    infused, held, bag = first["infused"], first["held"], first["bag"]
    unit = infused.source_unit
    subject = first["recipient"].subject_id
    pages = [
        ("batch-detail", held.get_absolute_url()),
        ("release-record-review", reverse("release-record-review", args=[infused.lot_number])),
        ("qc-batch-review", reverse("qc-batch-review", args=[held.lot_number])),
        ("qc-test", reverse("qc-test", args=[first["test"].pk])),
        ("cbu-detail", reverse("cbu-detail", args=[unit.din])),
        ("recipient-detail", reverse("recipient-detail", args=[subject])),
        ("bag-detail", reverse("bag-detail", args=[bag.pk])),
        ("infusion-detail", reverse("infusion-detail", args=[first["infusion"].pk])),
        ("api-batch-detail", reverse("api-batch-detail", args=[held.lot_number])),
        ("api-recipient-detail", reverse("api-recipient-detail", args=[subject])),
        ("api-donor-unit-detail", reverse("api-donor-unit-detail", args=[unit.din])),
    ]
    for sub in ("counts", "custody", "deviations", "steps", "history", "signatures"):
        pages.append((f"api-batch-{sub}", reverse(f"api-batch-{sub}", args=[held.lot_number])))
    pages += [
        (f"worklist {w.key}", reverse("worklist", args=[w.key]))
        for w in all_worklists()
        if w.full_url is None
    ]
    return pages


def _queries(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as caught:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in caught.captured_queries]


def _repeated(queries: list[str]) -> list[str]:
    """The statements asked more than once, with their parameters masked: where a page reads
    row by row."""
    shapes = Counter(re.sub(r"\b\d+\b|'[^']*'", "?", q) for q in queries)
    return [f"{n} x {shape[:300]}" for shape, n in shapes.most_common() if n > 1]


def _client_that_opens(url: str, clients: list[Client]) -> Client | None:
    for client in clients:
        if client.get(url).status_code == 200:
            return client
    return None


@pytest.fixture
def people(technician, qc_analyst, qa, clinical):
    reviewer = UserFactory.create(username="qc-r", role="qc_analyst")
    return {
        "technician": technician,
        "qc_analyst": qc_analyst,
        "reviewer": reviewer,
        "qa": qa,
        "clinical": clinical,
    }


def test_every_page_and_list_costs_the_same_queries_with_three_times_the_records(
    people, approved_template, approved_spec_set, lots, settings, monkeypatch
):
    # The rounds take minutes: the sessions must not end meanwhile, nor their activity be
    # written now and then (a session write in one measurement and not the other).
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 24 * 60
    monkeypatch.setattr(sessions, "ACTIVITY_STEP_SECONDS", 10**9)
    first = one_round(1, people, approved_template)
    clients = []
    for role in ("technician", "qc_analyst", "qa", "clinical"):
        client = Client()
        client.force_login(people[role])
        clients.append(client)
    pages = [(name, reverse(name)) for name in pages_without_parameters()]
    pages += record_pages(first)
    opened: dict[str, tuple[Client, str, int]] = {}
    nobody: list[str] = []
    for label, url in pages:
        opener = _client_that_opens(url, clients)
        if opener is None:
            nobody.append(label)
            continue
        _queries(opener, url)  # the first visit fills caches (content types, permissions)
        opened[label] = (opener, url, len(_queries(opener, url)))
    assert not nobody, f"no role opens {nobody}"

    for n in (2, 3):
        one_round(n, people, approved_template)
    assert Batch.objects.count() == 9

    grew = {}
    for label, (client, url, one) in opened.items():
        three = _queries(client, url)
        if len(three) != one:
            grew[label] = (one, len(three), _repeated(three))
        print(f"QUERIES {label}: one round {one}, three rounds {len(three)}")
    assert not grew, f"queries grew with the records (one round, three rounds): {grew}"


def test_the_measured_pages_are_every_list_of_the_site():
    names = pages_without_parameters()
    # A sample of what must be among them, so the discovery itself cannot silently find none.
    for name in ("home", "batch-list", "qc-worklist", "release-queue", "bedside"):
        assert name in names
    for name in ("api-batch-list", "api-qc-test-list", "api-reading-list", "api-dose-list"):
        assert name in names
    assert not any(name.startswith("admin") for name in names)
