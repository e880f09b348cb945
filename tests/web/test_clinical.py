"""The clinical follow-up worklist and an infusion's page (adverse events, safety switch)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from batches.models import AdverseEvent, FollowUpVisit, SafetySwitchActivation

pytestmark = pytest.mark.django_db


def local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_overdue_visit_on_the_worklist_then_recorded(client, clinical, infusion):
    visit = FollowUpVisit.objects.get(infusion=infusion, day=3)
    client.force_login(clinical)
    with time_machine.travel(visit.due_at + timedelta(days=1)):
        page = client.get("/clinical/follow-ups/")
        assert page.status_code == 200 and b"OVERDUE" in page.content and b"day 3" in page.content
        r = client.post(
            "/clinical/follow-ups/",
            {
                "visit_id": visit.pk,
                "done_at": local(timezone.now()),
                "car_nk_copies_per_ug": "2500",
            },
        )
        assert r.status_code == 302, r.content[:2000]
    visit.refresh_from_db()
    assert visit.done_at is not None and visit.car_nk_copies_per_ug == 2500


def test_garbage_follow_up_is_a_form_error(client, clinical, infusion):
    visit = FollowUpVisit.objects.get(infusion=infusion, day=3)
    client.force_login(clinical)
    r = client.post(
        "/clinical/follow-ups/",
        {"visit_id": visit.pk, "done_at": "yesterday", "car_nk_copies_per_ug": "-3"},
    )
    assert r.status_code == 200
    visit.refresh_from_db()
    assert visit.done_at is None


def test_adverse_event_and_safety_switch_from_the_infusion_page(client, clinical, infusion):
    client.force_login(clinical)
    url = f"/clinical/infusions/{infusion.pk}/"
    bad = client.post(
        url,
        {
            "form": "ae",
            "kind": "icans",
            "grade": "1",
            "ice_score": "2",
            "onset_at": local(timezone.now()),
            "description": "Confused",
        },
    )
    assert bad.status_code == 200 and b"ICANS grade 3 or higher" in bad.content
    good = client.post(
        url,
        {
            "form": "ae",
            "kind": "icans",
            "grade": "3",
            "ice_score": "2",
            "onset_at": local(timezone.now()),
            "description": "Confused",
        },
    )
    assert good.status_code == 302
    assert AdverseEvent.objects.get().grade == 3
    r = client.post(
        url,
        {
            "form": "switch",
            "given_at": local(timezone.now()),
            "dose_mg_per_kg": "0.4",
            "reason": "Grade 3 ICANS",
        },
    )
    assert r.status_code == 302 and SafetySwitchActivation.objects.count() == 1
    assert b"Grade 3 ICANS" in client.get(url).content


def test_roles(client, technician, infusion):
    client.force_login(technician)
    page = client.get("/clinical/follow-ups/")
    assert page.status_code == 200 and b"Record</button>" not in page.content
    visit = FollowUpVisit.objects.get(infusion=infusion, day=3)
    assert (
        client.post(
            "/clinical/follow-ups/", {"visit_id": visit.pk, "done_at": local(timezone.now())}
        ).status_code
        == 403
    )
    assert client.post(f"/clinical/infusions/{infusion.pk}/", {"form": "ae"}).status_code == 403
