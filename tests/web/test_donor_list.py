"""Web UI: the cord blood unit list: filter, search, paging, and queries that do not grow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from batches.models import Eligibility, UnitStatus
from tests.factories import CordBloodUnitFactory

pytestmark = pytest.mark.django_db

pytestmark = pytest.mark.django_db


# --- list: filter, search, paging, queries ---


@pytest.fixture
def assorted_units():
    return {
        "a": CordBloodUnitFactory.create(source_bank="Alpha Bank", status=UnitStatus.AVAILABLE),
        "b": CordBloodUnitFactory.create(
            source_bank="Beta Bank",
            status=UnitStatus.QUARANTINED,
            eligibility=Eligibility.INCOMPLETE,
        ),
        "c": CordBloodUnitFactory.create(
            source_bank="Beta Bank", status=UnitStatus.RECEIVED, eligibility=Eligibility.PENDING
        ),
    }


def listed(response):
    return {u.din for u in response.context["page"].object_list}


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"status": "available"}, {"a"}),
        ({"eligibility": "pending"}, {"c"}),
        ({"source_bank": "Beta Bank"}, {"b", "c"}),
        ({"source_bank": "Beta Bank", "status": "received"}, {"c"}),
        ({"q": "alpha"}, {"a"}),
        ({"q": "  beta "}, {"b", "c"}),
        ({}, {"a", "b", "c"}),
        ({"status": "bogus"}, {"a", "b", "c"}),  # an invalid choice filters nothing, no error page
    ],
)
def test_list_filters_and_search(client, qa, assorted_units, query, expected):
    client.force_login(qa)
    response = client.get(reverse("cbu-list"), query)
    assert response.status_code == 200
    assert listed(response) == {assorted_units[k].din for k in expected}


def test_search_by_part_of_a_din(client, qa, assorted_units):
    client.force_login(qa)
    din = assorted_units["b"].din
    response = client.get(reverse("cbu-list"), {"q": din[-6:]})
    assert listed(response) == {din}


def test_list_pages_and_keeps_the_filter(client, qa):
    CordBloodUnitFactory.create_batch(30, status=UnitStatus.AVAILABLE)
    client.force_login(qa)
    response = client.get(reverse("cbu-list"), {"status": "available"})
    assert len(response.context["page"].object_list) == 25
    assert "status=available&amp;page=2" in response.content.decode()
    response = client.get(reverse("cbu-list"), {"status": "available", "page": "2"})
    assert len(response.context["page"].object_list) == 5
    for garbage in ("abc", "-1", "999"):
        assert client.get(reverse("cbu-list"), {"page": garbage}).status_code == 200


@pytest.mark.parametrize("n", [1, 30])
def test_list_queries_do_not_grow_with_units(client, qa, n, django_assert_max_num_queries):
    CordBloodUnitFactory.create_batch(n)
    client.force_login(qa)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("cbu-list")).status_code == 200


def test_list_query_count_is_the_same_for_1_and_30_units(client, qa):
    client.force_login(qa)
    counts = []
    for n in (1, 29):
        CordBloodUnitFactory.create_batch(n)
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("cbu-list"))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
