"""The QC pages' faster review: a batch's results reviewed together under one signature, the
next test offered after each action, and the unit beside a result's input."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from carnk_mfg.signatures import signatures_for
from qc.models import QcTest, QcTestDefinition
from qc.services import results
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reviewer(db):
    return UserFactory.create(username="qc2", role="qc_analyst")


def make_test(batch, code, *, due_in_hours, sample_due_in_hours=-1):
    definition = QcTestDefinition.objects.get(spec_set__status="approved", code=code)
    now = timezone.now()
    return QcTest.objects.create(
        batch=batch,
        definition=definition,
        triggered_at=now - timedelta(hours=2),
        sample_due_at=now + timedelta(hours=sample_due_in_hours),
        due_at=now + timedelta(hours=due_in_hours),
    )


def resulted(batch, code, value, analyst, *, due_in_hours):
    test = make_test(batch, code, due_in_hours=due_in_hours)
    return results.qc_result_enter(actor=analyst, test=test, value=value)


def html(response):
    return response.content.decode()


def review_url(batch):
    return reverse("qc-batch-review", args=[batch.lot_number])


def listed(page):
    return {int(pk) for pk in re.findall(r'name="tests" value="(\d+)"', page)}


def next_link(page):
    found = re.search(r'class="next-test" href="([^"]+)"', page)
    return found and found.group(1)


@pytest.fixture
def batch_results(running_batch, approved_spec_set, qc_analyst, reviewer):
    """Results of one batch: two by the first analyst (one out of spec), one by the reviewer,
    one test not resulted."""
    return {
        "identity": resulted(running_batch, "identity_nk", "85", qc_analyst, due_in_hours=2),
        "endotoxin": resulted(running_batch, "endotoxin", "7.5", qc_analyst, due_in_hours=4),
        "own": resulted(running_batch, "viability", "91", reviewer, due_in_hours=3),
        "planned": make_test(running_batch, "mycoplasma", due_in_hours=1),
    }


def test_the_page_lists_only_what_i_may_review(client, batch_results, reviewer):
    client.force_login(reviewer)
    page = html(client.get(review_url(batch_results["identity"].batch)))
    assert listed(page) == {batch_results["identity"].pk, batch_results["endotoxin"].pk}
    assert page.count(" checked>") == 2  # all ticked at first
    endotoxin = page[page.index(f'id="review-row-{batch_results["endotoxin"].pk}"') :]
    endotoxin = endotoxin[: endotoxin.index("</tr>")]
    assert "less than 5 EU/mL" in endotoxin and "7.5 EU/mL" in endotoxin and "OOS" in endotoxin
    identity = page[page.index(f'id="review-row-{batch_results["identity"].pk}"') :]
    assert "more than 70 %" in identity[: identity.index("</tr>")]
    assert 'data-esign="Reviewed"' in page


def test_the_page_is_for_reviewers(client, batch_results, technician, clinical):
    url = review_url(batch_results["identity"].batch)
    for user in (technician, clinical):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"password": PASSWORD}).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302  # to the sign-in page


def test_one_signature_reviews_the_ticked_results(client, batch_results, reviewer):
    client.force_login(reviewer)
    identity, endotoxin = batch_results["identity"], batch_results["endotoxin"]
    url = review_url(identity.batch)
    response = client.post(url, {"tests": [identity.pk], "password": "wrong"})
    assert "The password is not correct" in html(response)
    response = client.post(url, {"tests": [identity.pk, endotoxin.pk], "password": PASSWORD})
    assert response.status_code == 302 and response.url == url
    for test in (identity, endotoxin):
        test.refresh_from_db()
        assert (test.state, test.reviewed_by) == ("reviewed", reviewer)
    assert signatures_for(identity, endotoxin).filter(meaning="reviewed").count() == 2
    page = html(client.get(url))
    assert "2 results of batch" in page and 'id="nothing-to-review"' in page
    # The next test the reviewer can act on: the mycoplasma sample is due (first by due_at).
    assert next_link(page) == reverse("qc-test", args=[batch_results["planned"].pk])


def test_an_unticked_result_is_left_for_later(client, batch_results, reviewer):
    client.force_login(reviewer)
    identity, endotoxin = batch_results["identity"], batch_results["endotoxin"]
    client.post(review_url(identity.batch), {"tests": [endotoxin.pk], "password": PASSWORD})
    identity.refresh_from_db()
    endotoxin.refresh_from_db()
    assert (identity.state, endotoxin.state) == ("resulted", "reviewed")
    assert listed(html(client.get(review_url(identity.batch)))) == {identity.pk}


def test_a_result_not_mine_to_review_is_refused_and_nothing_recorded(
    client, batch_results, reviewer
):
    client.force_login(reviewer)
    identity, own = batch_results["identity"], batch_results["own"]
    response = client.post(
        review_url(identity.batch), {"tests": [identity.pk, own.pk], "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "no longer awaits your review" in html(response)
    identity.refresh_from_db()
    assert identity.state == "resulted"
    response = client.post(review_url(identity.batch), {"password": PASSWORD})
    assert "Choose at least one result to review." in html(response)


def test_review_page_queries_do_not_grow_with_its_results(
    client, running_batch, approved_spec_set, qc_analyst, reviewer, django_assert_max_num_queries
):
    client.force_login(reviewer)
    url = review_url(running_batch)
    resulted(running_batch, "endotoxin", "1.0", qc_analyst, due_in_hours=2)
    with django_assert_max_num_queries(20) as few:
        assert len(listed(html(client.get(url)))) == 1
    for code, value in [("identity_nk", "80"), ("vcn", "2"), ("car_positive", "30")] * 2:
        resulted(running_batch, code, value, qc_analyst, due_in_hours=5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(listed(html(client.get(url)))) == 7


def test_each_action_offers_the_next_test_in_worklist_order(
    client, running_batch, approved_spec_set, qc_analyst
):
    first = make_test(running_batch, "endotoxin", due_in_hours=1)
    second = make_test(running_batch, "identity_nk", due_in_hours=2)
    make_test(running_batch, "vcn", due_in_hours=3, sample_due_in_hours=5)  # not due yet
    client.force_login(qc_analyst)
    response = client.post(reverse("qc-sample", args=[first.pk]), {}, follow=True)
    assert next_link(html(response)) == reverse("qc-test", args=[second.pk])
    response = client.post(reverse("qc-result", args=[second.pk]), {"value": "80"}, follow=True)
    page = html(response)
    assert "Result entered: 80 %" in page
    assert next_link(page) == reverse("qc-test", args=[first.pk])
    response = client.post(reverse("qc-result", args=[first.pk]), {"value": "1"}, follow=True)
    page = html(response)
    # Both are resulted by this analyst, who cannot review them: nothing is left for them.
    assert next_link(page) is None and "Nothing else in the" in page


def test_the_test_page_links_the_batch_review(client, batch_results, reviewer, technician):
    client.force_login(reviewer)
    page = html(client.get(reverse("qc-test", args=[batch_results["own"].pk])))
    assert f'href="{review_url(batch_results["own"].batch)}"' in page
    page = html(client.get(reverse("qc-worklist")))
    links = page[page.index('id="batch-review-links"') :]
    assert f'href="{review_url(batch_results["own"].batch)}"' in links[: links.index("</p>")]
    client.force_login(technician)
    page = html(client.get(reverse("qc-test", args=[batch_results["own"].pk])))
    assert 'id="batch-review-link"' not in page


def test_the_cd3_input_shows_its_unit_beside_it(
    client, running_batch, approved_spec_set, qc_analyst
):
    cd3 = make_test(running_batch, "cd3_pct", due_in_hours=2)
    client.force_login(qc_analyst)
    page = html(client.get(reverse("qc-test", args=[cd3.pk])))
    group = page[page.index('class="unit-input"') :]
    group = group[: group.index("</div>")]
    assert 'name="value"' in group and '<span class="unit" id="result-unit">%</span>' in group
    assert "Result in %" in page and "For example 0.4 for 0.4 % of all cells." in page
    assert 'name="unit"' not in page
    response = client.post(reverse("qc-result", args=[cd3.pk]), {"value": "0.3"}, follow=True)
    assert "Result entered: 0.3 % for CD3+ T cells" in html(response)
    cd3.refresh_from_db()
    assert (cd3.result_numeric, cd3.result_unit, cd3.in_spec) == (0.3, "%", True)


def test_specification_in_words():
    cd3_per_kg = QcTestDefinition(
        result_type="numeric", unit="cells/kg", upper_limit=2e5, upper_strict=True
    )
    assert cd3_per_kg.spec_text == "less than 2 \u00d7 10\u2075 cells/kg"
    car = QcTestDefinition(result_type="numeric", unit="%", lower_limit=15)
    assert car.spec_text == "at least 15 %"
    sterility = QcTestDefinition(result_type="pass_fail", passing_values=["negative"])
    assert sterility.spec_text == "negative"
