"""The clinical follow-up worklist and an infusion's page (adverse events, safety switch)."""

from datetime import timedelta
from decimal import Decimal

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


ICANS_GRADE_3 = {
    "form": "ae",
    "kind": "icans",
    "ice_score": "2",
    "icans_consciousness": "none",
    "icans_seizure": "none",
    "icans_motor": "none",
    "icans_raised_icp": "none",
    "description": "Confused",
}


def test_adverse_event_and_safety_switch_from_the_infusion_page(client, clinical, infusion):
    client.force_login(clinical)
    url = f"/clinical/infusions/{infusion.pk}/"
    page = client.get(url).content.decode()
    assert 'id="ae-crs-findings"' in page and 'id="ae-icans-findings"' in page
    assert "Awakens only to tactile stimulus" in page
    onset = {"onset_at": local(timezone.now())}
    bad = client.post(url, {**ICANS_GRADE_3, **onset, "grade": "1"})
    assert bad.status_code == 200
    assert "The findings give ASTCT ICANS grade 3: enter 3" in bad.content.decode()
    assert not AdverseEvent.objects.exists()
    good = client.post(url, {**ICANS_GRADE_3, **onset, "grade": "3"})
    assert good.status_code == 302
    event = AdverseEvent.objects.get()
    assert (event.grade, event.derived_grade) == (3, 3)
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


def test_crs_graded_differently_with_its_reason_shows_both_grades(client, clinical, infusion):
    client.force_login(clinical)
    url = f"/clinical/infusions/{infusion.pk}/"
    crs = {
        "form": "ae",
        "kind": "crs",
        "grade": "3",
        "crs_temperature_c": "38.0",
        "crs_hypotension": "none",
        "crs_hypoxia": "low_flow",
        "onset_at": local(timezone.now()),
        "description": "Fever, 2 L/min oxygen",
        "grade_difference_reason": "Oxygen need rising through the night",
    }
    r = client.post(url, crs)
    assert r.status_code == 302, r.content.decode()[:3000]
    event = AdverseEvent.objects.get()
    assert (event.grade, event.derived_grade, event.crs_temperature_c) == (3, 2, Decimal("38.0"))
    for page in (client.get(url), client.get(f"/recipients/{infusion.recipient.subject_id}/")):
        cells = page.content.decode()
        assert "ASTCT grade from findings" in cells
        assert '<td class="num">3</td><td class="num">2</td>' in cells
        assert "Oxygen need rising through the night" in cells


def test_a_crs_form_without_findings_names_each(client, clinical, infusion):
    client.force_login(clinical)
    r = client.post(
        f"/clinical/infusions/{infusion.pk}/",
        {
            "form": "ae",
            "kind": "crs",
            "grade": "1",
            "onset_at": local(timezone.now()),
            "description": "Fever",
        },
    )
    assert r.status_code == 200 and not AdverseEvent.objects.exists()
    form = r.context["ae_form"]
    assert {"crs_temperature_c", "crs_hypotension", "crs_hypoxia"} <= set(form.errors)


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
