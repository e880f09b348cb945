"""The home page is each role's work: every section counts exactly what its full worklist
lists (the same selector), a person with every role sees every role's sections, and the page
costs a bounded number of queries however much work there is."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from batches import selectors
from batches.models import Deviation
from batches.presenters.batch_list import batches_for_list
from batches.presenters.dashboard import home_page
from batches.presenters.release_queue import queue_rows, recall_rows
from batches.presenters.work import HOME_ROWS
from batches.web.forms.batch_record import WORK_CHOICES, BatchSearch
from carnk_mfg.roles import Role
from qc.presenters.worklist import worklist_sections
from tests.factories import PASSWORD, CordBloodUnitFactory, UserFactory, VectorLotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The home page of a person holding every role, with work in every kind of list; it must not
# grow with the number of rows (see test_the_page_costs_the_same_with_more_work).
MAX_QUERIES = 45


def full_count(client, user, key, url, now):
    """How many items the full worklist at `url` lists, read the way that page reads it."""
    batch_work = dict(WORK_CHOICES)
    if key in batch_work:
        return BatchSearch({"work": key}, queryset=batches_for_list()).qs.count()
    if key.startswith("qc-"):
        sections = {s["key"]: s for s in worklist_sections(actor=user, now=now)}
        return sections[key.removeprefix("qc-")]["count"]
    if key == "release-queue":
        return len(queue_rows(selectors.release_queue()))
    if key == "conditional-releases":
        return len(list(selectors.open_conditional_releases()))
    if key == "recalls":
        return len(recall_rows())
    assert url == reverse("worklist", args=[key]), key
    page = client.get(url).content.decode()
    found = re.search(r"(\d+) in all", page)
    assert found, key
    return int(found.group(1))


@pytest.fixture
def work(in_qc_batch, batch_260001, technician, every_gmp_role):
    """Work for every role: a batch in QC (release queue, record to review, QC tests), a
    running one with steps due and an open deviation, a unit awaiting eligibility, a lot in
    quarantine."""
    from batches.services import batch_record

    CordBloodUnitFactory.create(eligibility="pending", status="received")
    VectorLotFactory.create(lot_number="RV-Q1", status="quarantined")
    batch_record.deviation_open(
        actor=technician,
        batch=batch_260001,
        kind="other",
        what="Incubator door left open",
        why="Distraction",
        impact="None expected",
    )
    return every_gmp_role


def test_every_section_counts_what_its_worklist_lists(client, work):
    user = work
    client.force_login(user)
    now = timezone.now()
    page = home_page(user, today=timezone.localdate(now), now=now)
    roles = [role["role"] for role in page["work"]]
    assert roles == [Role.TECHNICIAN, Role.QC_ANALYST, Role.QA, Role.CLINICAL]
    counted = {}
    for role in page["work"]:
        for section in role["sections"]:
            key = section["worklist"].key
            counted[key] = section["count"]
            assert section["count"] == full_count(client, user, key, section["url"], now), key
            assert len(section["rows"]) == min(section["count"], HOME_ROWS)
    # The fixture's work shows: the lists compared are not all empty.
    assert counted["release-queue"] == 1 and counted["records-to-review"] == 1
    assert counted["units-eligibility"] >= 1 and counted["lots-disposition"] >= 1
    assert counted["deviations"] == 1 and counted["on-hold"] == 1
    assert counted["steps-due"] >= 1


def test_a_single_role_sees_only_its_own_sections(client, qc_analyst, clinical, admin_user):
    now = timezone.now()
    qc = home_page(qc_analyst, today=now.date(), now=now)["work"]
    assert [r["role"] for r in qc] == [Role.QC_ANALYST]
    assert {s["worklist"].key for s in qc[0]["sections"]} >= {"qc-overdue", "qc-awaiting-review"}
    assert [r["role"] for r in home_page(clinical, today=now.date(), now=now)["work"]] == [
        Role.CLINICAL
    ]
    assert home_page(admin_user, today=now.date(), now=now)["work"] == []


def test_the_page_shows_each_section_and_links_its_rows(client, work):
    client.force_login(work)
    page = client.get(reverse("home")).content.decode()
    assert "<h1>My work</h1>" in page
    for heading in ("Lab technician", "QC analyst", "QA reviewer", "Clinical staff"):
        assert heading in page
    assert 'id="work-release-queue"' in page and reverse("release-queue") in page
    assert f"{reverse('batch-list')}?work=steps-due" in page


def test_the_page_costs_the_same_with_more_work(
    client, work, django_assert_max_num_queries, approved_template
):
    client.force_login(work)
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get(reverse("home")).status_code == 200
    for n in range(HOME_ROWS + 2):
        CordBloodUnitFactory.create(eligibility="pending", status="received")
        VectorLotFactory.create(lot_number=f"RV-MORE{n}", status="quarantined")
    with django_assert_max_num_queries(MAX_QUERIES):
        page = client.get(reverse("home")).content.decode()
    assert "All " in page  # a cut section links to the rest


def test_the_generic_worklist_checks_permission_and_key(client, clinical, work):
    client.force_login(clinical)
    assert client.get(reverse("worklist", args=["nothing-such"])).status_code == 404
    assert client.get(reverse("worklist", args=["bags-to-issue"])).status_code == 200
    client.force_login(work)
    assert client.get(reverse("worklist", args=["units-eligibility"])).status_code == 200


def test_an_open_deviation_leaves_the_list_once_dispositioned(work, qa):
    from batches.selectors.worklists import deviations_to_disposition
    from batches.services import batch_record

    (deviation,) = deviations_to_disposition()
    batch_record.deviation_disposition(
        classification="minor",
        root_cause="Assessed by QA",
        actor=qa,
        password=PASSWORD,
        deviation=deviation,
        disposition="accept",
        notes="Door alarm checked",
    )
    assert not deviations_to_disposition().exists()
    assert Deviation.objects.get(pk=deviation.pk).state == "closed"


# --- clinical staff see their own recipients; couriers the bags to carry ---


def home_counts(user, now):
    return {
        section["worklist"].key: section["count"]
        for role in home_page(user, today=timezone.localdate(now), now=now)["work"]
        for section in role["sections"]
    }


def test_my_recipients_bags_only_and_the_stock_apart(client, issued_bag, clinical, qa):
    """Bag A0 is issued for the batch's recipient, B0 released for no one (stock)."""
    from batches.services import recipients

    other = UserFactory.create(username="clinic-b", role="clinical")
    recipient = issued_bag.recipient
    recipients.recipient_reassign_clinician(
        actor=clinical, recipient=recipient, treating_clinician=other, reason="Ward change"
    )
    now = timezone.now()
    mine, theirs = home_counts(clinical, now), home_counts(other, now)
    assert mine["bags-in-transit"] == 0 and theirs["bags-in-transit"] == 1
    assert mine["bags-in-stock"] == theirs["bags-in-stock"] == 1
    client.force_login(clinical)
    for key, count in mine.items():
        assert full_count(client, clinical, key, reverse("worklist", args=[key]), now) == count
    bag_url = f'href="{reverse("bag-detail", args=[issued_bag.pk])}"'
    page = client.get(reverse("worklist", args=["bags-in-transit"])).content.decode()
    assert bag_url not in page and "0 in all" in page and "All recipients" in page
    everyone = client.get(reverse("worklist", args=["bags-in-transit"]) + "?recipients=all")
    assert bag_url in everyone.content.decode() and "1 in all" in everyone.content.decode()
    client.force_login(other)
    assert bag_url in client.get(reverse("home")).content.decode()


def test_the_stock_reads_its_partial_index():
    """The stock's first rows and count read the index of bags in stock, not every bag ever
    made (most of them infused long ago)."""
    from django.db import connection

    from batches.selectors import worklists

    with connection.cursor() as cursor:
        # A nearly empty table is cheaper to read whole; ask whether the index *can* serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
    stock = worklists.bags_in_stock()
    assert "bag_in_stock_by_expiry" in stock[: HOME_ROWS + 1].explain()
    assert "bag_in_stock_by_expiry" in stock.order_by().values("pk").explain()


def test_a_courier_sees_the_bags_they_carry_and_those_to_pick_up(
    client, issued_bag, clinical, courier
):
    from decimal import Decimal

    from batches.services import bedside

    now = timezone.now()
    assert home_counts(courier, now) == {"bags-held": 0, "bags-to-pick-up": 0}
    bedside.dose_custody(
        actor=courier,
        dose_unit=issued_bag,
        kind="ship",
        released_by=clinical.username,
        released_by_password=PASSWORD,
        received_by=courier.username,
        received_by_password=PASSWORD,
        from_location="Lab door",
        to_location="Ward 7",
        occurred_at=timezone.now(),
        temperature_c=Decimal("-150"),
    )
    assert home_counts(courier, timezone.now()) == {"bags-held": 1, "bags-to-pick-up": 0}
    client.force_login(courier)
    page = client.get(reverse("home")).content.decode()
    assert reverse("bag-detail", args=[issued_bag.pk]) + "#custody" in page
    full = client.get(reverse("worklist", args=["bags-held"])).content.decode()
    assert "1 in all" in full
    # Handed over on the ward: no longer theirs to carry.
    bedside.dose_custody(
        actor=courier,
        dose_unit=issued_bag,
        kind="receive",
        released_by=courier.username,
        released_by_password=PASSWORD,
        received_by=clinical.username,
        received_by_password=PASSWORD,
        from_location="Ward 7 door",
        to_location="Ward 7",
        occurred_at=timezone.now(),
        temperature_c=Decimal("-150"),
    )
    assert home_counts(courier, timezone.now())["bags-held"] == 0
