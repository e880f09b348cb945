"""The long-term follow-up through its entry points: the RCR sample on the follow-up
worklist and in the API, and the end of follow-up from the recipient page and the API.
The rules are proven in tests/services/test_long_term_follow_up.py."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from batches.models import FollowUpEnd, FollowUpVisit

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def test_the_worklist_asks_for_the_rcr_sample_where_one_is_due(client, infusion, clinical):
    month3 = FollowUpVisit.objects.get(infusion=infusion, visit="month 3")
    # Signed in at each moment: a session idle for weeks has expired.
    with time_machine.travel(month3.due_at - timedelta(days=3), tick=False):
        client.force_login(clinical)
        page = html(client.get("/clinical/follow-ups/"))
    assert f'id="visit-{month3.pk}-rcr"' in page and "RCR sample" in page
    # Posted without its RCR result, the visit is refused with the field named.
    with time_machine.travel(month3.due_at, tick=False):
        client.force_login(clinical)
        refused = client.post(
            "/clinical/follow-ups/",
            {"visit_id": month3.pk, "done_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
        )
        assert refused.status_code == 200 and "RCR sample:" in html(refused)
        month3.refresh_from_db()
        assert month3.done_at is None
        done = client.post(
            "/clinical/follow-ups/",
            {
                "visit_id": month3.pk,
                "done_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "rcr_result": "negative",
            },
        )
    assert done.status_code == 302
    month3.refresh_from_db()
    assert month3.rcr_result == "negative"


def test_the_api_records_an_rcr_result_and_reports_it(api, infusion, clinical):
    baseline = FollowUpVisit.objects.get(infusion=infusion, day=0)
    taken = (infusion.started_at - timedelta(days=5)).isoformat()
    bad = api.as_user(clinical).post(
        f"/api/v1/follow-ups/{baseline.pk}/record/", {"done_at": taken, "rcr_result": "maybe"}
    )
    assert bad.status_code == 400 and "rcr_result" in bad.json()
    ok = api.as_user(clinical).post(
        f"/api/v1/follow-ups/{baseline.pk}/record/", {"done_at": taken, "rcr_result": "negative"}
    )
    assert ok.status_code == 200, ok.content
    assert (ok.json()["rcr_sample"], ok.json()["rcr_result"]) == (True, "negative")


def end_url(infusion) -> str:
    return f"/api/v1/recipients/{infusion.recipient.subject_id}/follow-up-end/"


def test_the_api_ends_follow_up_once_with_a_message_per_field(api, infusion, clinical, qa):
    body = {"outcome": "died", "ended_on": str(timezone.localdate()), "detail": "Sepsis, day 40."}
    assert api.as_user(qa).post(end_url(infusion), body).status_code == 403
    bad = api.as_user(clinical).post(end_url(infusion), {**body, "outcome": "gone", "detail": ""})
    assert bad.status_code == 400 and {"outcome", "detail"} <= set(bad.json())
    future = str(timezone.localdate() + timedelta(days=3))
    later = api.as_user(clinical).post(end_url(infusion), {**body, "ended_on": future})
    assert later.status_code == 400 and "ended_on" in later.json()
    assert not FollowUpEnd.objects.exists()

    done = api.as_user(clinical).post(end_url(infusion), body)
    assert done.status_code == 201, done.content
    assert (done.json()["outcome"], done.json()["recorded_by"]) == ("died", clinical.username)
    assert not FollowUpVisit.objects.filter(recipient=infusion.recipient, closed_at=None).exists()
    again = api.as_user(clinical).post(end_url(infusion), body)
    assert again.status_code == 400


def test_the_recipient_page_records_the_end_of_follow_up(client, infusion, clinical):
    client.force_login(clinical)
    page_url = f"/recipients/{infusion.recipient.subject_id}/"
    assert 'id="follow-up-end-form"' in html(client.get(page_url))
    url = f"/recipients/{infusion.recipient.subject_id}/follow-up-end/"
    refused = client.post(url, {"outcome": "lost", "ended_on": str(timezone.localdate())})
    assert refused.status_code == 200 and "What happened" in html(refused)
    assert not FollowUpEnd.objects.exists()
    done = client.post(
        url,
        {"outcome": "lost", "ended_on": str(timezone.localdate()), "detail": "Moved abroad."},
    )
    assert done.status_code == 302 and done["Location"].endswith("#follow-ups")
    page = html(client.get(page_url))
    assert 'id="follow-up-ended"' in page and "Lost to follow-up" in page
    assert 'id="follow-up-end-form"' not in page
