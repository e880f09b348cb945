"""The QC presenters: which tests fall in which worklist section at a given time, the cut of
a long section, and what a test's page offers whom."""

from datetime import timedelta

import pytest
from django.utils import timezone

from qc.models import QcTest, QcTestDefinition
from qc.presenters.results import qc_test_page, qc_tests_for_page
from qc.presenters.worklist import SECTION_LIMIT, section, worklist_sections
from qc.services import results
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def make_test(batch, code="endotoxin", *, sample_due, due):
    definition = QcTestDefinition.objects.get(spec_set__status="approved", code=code)
    return QcTest.objects.create(
        batch=batch,
        definition=definition,
        triggered_at=min(sample_due, timezone.now()) - timedelta(hours=1),
        sample_due_at=sample_due,
        due_at=due,
    )


@pytest.fixture
def tests_at(planned_batch, approved_spec_set, qc_analyst):
    """Tests due at known times around `now`, one of them resulted by the QC analyst."""
    now = timezone.now()
    tests = {
        "due_now": make_test(
            planned_batch, sample_due=now - timedelta(hours=1), due=now + timedelta(hours=48)
        ),
        "due_soon": make_test(
            planned_batch,
            "mycoplasma",
            sample_due=now + timedelta(hours=1),
            due=now + timedelta(hours=3),
        ),
        "overdue": make_test(
            planned_batch, sample_due=now - timedelta(hours=30), due=now - timedelta(hours=1)
        ),
        "to_review": make_test(
            planned_batch, sample_due=now - timedelta(hours=2), due=now + timedelta(hours=48)
        ),
        "later": make_test(
            planned_batch, sample_due=now + timedelta(hours=30), due=now + timedelta(hours=54)
        ),
    }
    results.qc_result_enter(actor=qc_analyst, test=tests["to_review"], value="0.5", unit="EU/mL")
    return now, tests


def names_by_section(sections, tests):
    by_pk = {test.pk: name for name, test in tests.items()}
    return {s["key"]: {by_pk[row.pk] for row in s["rows"]} for s in sections}


def test_each_test_is_in_its_section(tests_at, qc_analyst, settings):
    settings.QC_DUE_SOON_LEAD_HOURS = 4
    now, tests = tests_at
    sections = worklist_sections(actor=qc_analyst, now=now)
    assert names_by_section(sections, tests) == {
        "due-now": {"due_now"},
        "due-soon": {"due_soon"},
        "overdue": {"overdue"},
        "awaiting-review": set(),  # the analyst entered it: another person reviews it
        "my-results": {"to_review"},
    }
    other = UserFactory.create(username="qc2", role="qc_analyst")
    theirs = names_by_section(worklist_sections(actor=other, now=now), tests)
    assert theirs["awaiting-review"] == {"to_review"} and theirs["my-results"] == set()
    assert [s["count"] for s in sections] == [1, 1, 1, 0, 1]
    overdue = next(s for s in sections if s["key"] == "overdue")
    assert [row.overdue for row in overdue["rows"]] == [True]
    assert "within 4 h" in sections[1]["help"]


def test_the_sections_follow_the_clock(tests_at, qc_analyst):
    now, tests = tests_at
    later = tests["later"].due_at + timedelta(minutes=1)
    found = names_by_section(worklist_sections(actor=qc_analyst, now=later), tests)
    # Every open test is past its due time now, the resulted one still awaiting its review.
    assert found["overdue"] == {"due_now", "due_soon", "overdue", "later", "to_review"}
    assert found["my-results"] == {"to_review"}
    assert found["due-now"] == found["due-soon"] == set()


def test_a_long_section_is_cut_and_says_so(tests_at):
    cut = section("k", "Title", "Help", QcTest.objects.order_by("id"), limit=3)
    assert len(cut["rows"]) == 3 and cut["cut"] and cut["count"] == 5
    whole = section("k", "Title", "Help", QcTest.objects.order_by("id"))
    assert len(whole["rows"]) == whole["count"] == 5 and not whole["cut"]
    assert SECTION_LIMIT > 5


def test_the_analyst_who_entered_a_result_is_not_offered_its_review(tests_at, qc_analyst):
    now, tests = tests_at
    test = qc_tests_for_page(now=now).get(pk=tests["to_review"].pk)
    own = qc_test_page(test, user=qc_analyst, now=now)
    assert own["own_result"] and own["may_review"] and not own["show_review_form"]
    other = UserFactory.create(username="qc2", role="qc_analyst")
    page = qc_test_page(test, user=other, now=now)
    assert page["may_review"] and page["show_review_form"] and not page["own_result"]
    assert not page["show_result_form"] and not page["show_sample_form"]
    assert page["show_retest_form"]  # a resulted test may be repeated
    planned = qc_tests_for_page(now=now).get(pk=tests["due_now"].pk)
    page = qc_test_page(planned, user=qc_analyst, now=now)
    assert page["show_sample_form"] and page["show_result_form"] and page["sample_due"]
    assert not page["show_retest_form"] and not page["overdue"]
