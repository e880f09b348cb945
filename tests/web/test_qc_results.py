"""Web UI of QC: the worklist sections, the overdue mark, result entry and its
refusals, second-person review, retests, and in-app notices."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from carnk_mfg.models import ElectronicSignature
from qc.models import Notification, QcTest, QcTestDefinition
from qc.services import overdue, results
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    # Full-strength PBKDF2 costs ~0.3 s per user and per signature; these tests need neither.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def analysts(qc_analyst):
    return qc_analyst, UserFactory.create(username="qc2", role="qc_analyst")


def make_test(batch, code="endotoxin", *, sample_due, due):
    """A QC test of `batch` whose sample is due at `sample_due` and review at `due`."""
    definition = QcTestDefinition.objects.get(spec_set__status="approved", code=code)
    return QcTest.objects.create(
        batch=batch,
        definition=definition,
        triggered_at=min(sample_due, timezone.now()) - timedelta(hours=1),
        sample_due_at=sample_due,
        due_at=due,
    )


def html(response):
    return response.content.decode()


def section(page, key):
    start = page.index(f'id="{key}"')
    return page[start : page.index("</section>", start)]


def link(test):
    return f'href="{reverse("qc-test", args=[test.pk])}"'


@pytest.fixture
def worklist_tests(planned_batch, approved_spec_set, analysts):
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
    results.qc_result_enter(actor=analysts[0], test=tests["to_review"], value="0.5", unit="EU/mL")
    return tests


def test_worklist_sections_hold_the_right_tests(client, analysts, worklist_tests, settings):
    settings.QC_DUE_SOON_LEAD_HOURS = 4
    client.force_login(analysts[0])
    page = html(client.get(reverse("qc-worklist")))
    expected = {
        "due-now": {"due_now"},
        "due-soon": {"due_soon"},
        "overdue": {"overdue"},
        "awaiting-review": set(),  # this analyst entered it
        "my-results": {"to_review"},
    }
    for key, names in expected.items():
        block = section(page, key)
        shown = {name for name, test in worklist_tests.items() if link(test) in block}
        assert shown == names, (key, shown)
    overdue_block = section(page, "overdue")
    assert 'class="overdue"' in overdue_block and "OVERDUE" in overdue_block
    assert "OVERDUE" not in section(page, "due-now")


def test_worklist_follows_the_clock(client, analysts, worklist_tests, settings):
    settings.QC_DUE_SOON_LEAD_HOURS = 4
    client.force_login(analysts[0])
    later = worklist_tests["later"]
    with time_machine.travel(later.due_at + timedelta(minutes=1), tick=False):
        page = html(client.get(reverse("qc-worklist")))
    assert link(later) in section(page, "overdue")
    assert link(worklist_tests["due_now"]) in section(page, "overdue")  # its due passed too


def test_overdue_mark_on_the_test_and_batch_pages(client, analysts, worklist_tests):
    client.force_login(analysts[0])
    test = worklist_tests["overdue"]
    page = html(client.get(reverse("qc-test", args=[test.pk])))
    assert 'id="overdue-mark"' in page
    page = html(client.get(test.batch.get_absolute_url()))
    qc = page[page.index('id="qc"') :]
    assert "OVERDUE" in qc and link(test) in qc
    page = html(client.get(reverse("qc-test", args=[worklist_tests["due_now"].pk])))
    assert 'id="overdue-mark"' not in page


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"value": "abc", "unit": "EU/mL"}, "value", "needs a number"),
        ({"value": "", "unit": "EU/mL"}, "value", "This field is required."),
    ],
)
def test_bad_result_is_a_form_error(client, analysts, worklist_tests, body, field, message):
    test = worklist_tests["due_now"]
    client.force_login(analysts[0])
    response = client.post(reverse("qc-result", args=[test.pk]), body)
    assert response.status_code == 200
    page = html(response)
    start = page.index(f'name="{field}"')
    assert message in page[start : page.find('<div class="field', start)]
    test.refresh_from_db()
    assert test.state == "planned" and test.resulted_by is None


def test_pass_fail_result_is_a_choice_of_the_allowed_answers(
    client, analysts, planned_batch, approved_spec_set
):
    now = timezone.now()
    test = make_test(
        planned_batch,
        "sterility",
        sample_due=now - timedelta(hours=1),
        due=now + timedelta(days=14),
    )
    client.force_login(analysts[0])
    page = html(client.get(reverse("qc-test", args=[test.pk])))
    select = page[page.index('<select name="value"') : page.index("</select>")]
    assert 'value="negative"' in select and 'value="positive"' in select
    response = client.post(reverse("qc-result", args=[test.pk]), {"value": "maybe"})
    assert "Select a valid choice" in html(response)
    response = client.post(reverse("qc-result", args=[test.pk]), {"value": "negative"})
    assert response.status_code == 302
    test.refresh_from_db()
    assert test.state == "resulted" and test.in_spec is True


def test_review_is_hidden_from_the_analyst_and_refused_if_forced(client, analysts, worklist_tests):
    analyst, _ = analysts
    test = worklist_tests["overdue"]
    client.force_login(analyst)
    response = client.post(reverse("qc-result", args=[test.pk]), {"value": "0.4", "unit": "EU/mL"})
    assert response.status_code == 302
    page = html(client.get(reverse("qc-test", args=[test.pk])))
    assert 'id="review-form"' not in page and 'id="review-own"' in page
    assert "cannot review it" in page
    response = client.post(reverse("qc-review", args=[test.pk]), {"password": PASSWORD})
    assert response.status_code == 200
    assert "The reviewer must be a different person from the analyst." in html(response)
    test.refresh_from_db()
    assert test.state == "resulted" and test.reviewed_by is None


def test_review_by_a_second_analyst_takes_the_test_off_the_overdue_list(
    client, analysts, worklist_tests
):
    analyst, reviewer = analysts
    test = worklist_tests["overdue"]
    client.force_login(analyst)
    client.post(reverse("qc-result", args=[test.pk]), {"value": "0.4", "unit": "EU/mL"})
    assert link(test) in section(html(client.get(reverse("qc-worklist"))), "overdue")

    client.force_login(reviewer)
    page = html(client.get(reverse("qc-test", args=[test.pk])))
    assert 'id="review-form"' in page and 'data-esign="Reviewed"' in page
    response = client.post(reverse("qc-review", args=[test.pk]), {"password": "wrong"})
    assert "The password is not correct" in html(response)
    response = client.post(reverse("qc-review", args=[test.pk]), {"password": PASSWORD})
    assert response.status_code == 302
    test.refresh_from_db()
    assert test.state == "reviewed" and test.reviewed_by == reviewer
    assert ElectronicSignature.objects.filter(meaning="reviewed", signer=reviewer).count() == 1
    page = html(client.get(reverse("qc-worklist")))
    assert link(test) not in section(page, "overdue")
    assert link(test) not in section(page, "awaiting-review")
    page = html(client.get(reverse("qc-test", args=[test.pk])))
    assert "Reviewed" in page and 'id="overdue-mark"' not in page


def test_sample_and_retest(client, analysts, technician, worklist_tests):
    test = worklist_tests["due_now"]
    client.force_login(technician)  # technicians record samples, nothing more
    page = html(client.get(reverse("qc-test", args=[test.pk])))
    assert 'id="sample-form"' in page and 'id="result-form"' not in page
    assert client.post(reverse("qc-sample", args=[test.pk]), {}).status_code == 302
    test.refresh_from_db()
    assert test.state == "sampled" and test.sampled_by == technician
    response = client.post(reverse("qc-sample", args=[test.pk]), {})
    assert "The test is sampled." in html(response)

    reviewed = worklist_tests["to_review"]
    client.force_login(analysts[0])
    response = client.post(reverse("qc-retest", args=[reviewed.pk]), {"reason": ""})
    assert "This field is required." in html(response)
    response = client.post(
        reverse("qc-retest", args=[reviewed.pk]), {"reason": "Sample handling suspected"}
    )
    retest = QcTest.objects.get(retest_of=reviewed)
    assert response.url == reverse("qc-test", args=[retest.pk])
    page = html(client.get(response.url))
    assert f'href="{reverse("qc-test", args=[reviewed.pk])}"' in page


def test_posts_without_permission_are_403(client, clinical, technician, qa, worklist_tests):
    test = worklist_tests["to_review"]
    client.force_login(clinical)
    assert client.get(reverse("qc-worklist")).status_code == 200  # every role may look
    for name in ("qc-sample", "qc-result", "qc-review", "qc-retest"):
        assert client.post(reverse(name, args=[test.pk]), {}).status_code == 403, name
    page = html(client.get(reverse("qc-test", args=[test.pk])))
    assert 'id="actions"' not in page
    client.force_login(technician)
    assert (
        client.post(reverse("qc-review", args=[test.pk]), {"password": PASSWORD}).status_code == 403
    )
    assert client.post(reverse("qc-result", args=[test.pk]), {"value": "1"}).status_code == 403
    client.force_login(qa)  # QA reviews but does not enter results
    page = html(client.get(reverse("qc-test", args=[test.pk])))
    assert 'id="review-form"' in page and 'id="result-form"' not in page
    test.refresh_from_db()
    assert test.state == "resulted"


def test_garbage_never_gives_a_server_error(client, analysts, worklist_tests):
    client.force_login(analysts[0])
    test = worklist_tests["due_now"]
    for junk in ["", "\x00", "1e999", "-inf", "9" * 300, "🧪", "2026-99-99T99:99"]:
        for name, body in (
            ("qc-sample", {"sampled_at": junk}),
            ("qc-result", {"value": junk, "unit": junk}),
            ("qc-review", {"password": junk}),
            ("qc-retest", {"reason": junk}),
        ):
            response = client.post(reverse(name, args=[test.pk]), body)
            assert response.status_code in (200, 302), (name, junk, response.status_code)
    assert client.get("/qc/tests/99999999999999999999/").status_code == 404
    assert client.get("/qc/tests/0/").status_code == 404
    assert client.get(reverse("qc-notices"), {"page": "\x00"}).status_code == 200


def test_notices_list_the_users_in_app_notices(client, analysts, worklist_tests, settings):
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "context_processors": [
                    *settings.TEMPLATES[0]["OPTIONS"]["context_processors"],
                    "qc.web.notices.unread_notices",
                ],
            },
        }
    ]
    overdue.scan_overdue()
    analyst, other = analysts
    mine = Notification.objects.filter(recipient=analyst, channel="in_app")
    assert mine.exists()
    client.force_login(analyst)
    page = html(client.get(reverse("qc-notices")))
    for note in mine:
        assert note.subject in page
    assert page.count('<tr id="notice-') == mine.count()  # one row per notice
    assert f'title="Unread notices">{mine.count()}</span>' in page  # the nav badge
    assert link(worklist_tests["overdue"]) in page
    # Another user's notices and e-mail copies are not listed.
    assert Notification.objects.filter(channel="email", recipient=analyst).exists()
    client.force_login(UserFactory.create(username="nobody"))
    page = html(client.get(reverse("qc-notices")))
    assert "No notices." in page and "Unread notices" not in page
