"""Lymphodepletion and the infused volume through the API: a dose recorded on the recipient
(`POST /recipients/{subject_id}/lymphodepletion/`), the recipient answering whether it may be
infused today, a blocked bedside check naming the reason, and a completion whose volume is
off the prescription refused on its field without a reason, then opening a deviation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.models import Deviation
from batches.services import bedside
from tests.batch_steps import bedside_scans
from tests.factories import PASSWORD, RecipientFactory

pytestmark = pytest.mark.django_db


def dose(days_before, agent="fludarabine", **changes):
    return {
        "agent": agent,
        "dose_mg_per_m2": "30.0" if agent == "fludarabine" else "500.0",
        "body_surface_area_m2": "1.80",
        "given_on": (timezone.localdate() - timedelta(days=days_before)).isoformat(),
        **changes,
    }


@pytest.mark.clause("21 CFR 312.60")
def test_doses_recorded_until_the_recipient_may_be_infused(api, clinical):
    recipient = RecipientFactory.create(planned_infusion_on=timezone.localdate())
    url = f"/api/v1/recipients/{recipient.subject_id}/lymphodepletion/"
    client = api.as_user(clinical)
    body = client.get(f"/api/v1/recipients/{recipient.subject_id}/").json()
    assert body["lymphodepletion"] == []
    assert body["lymphodepletion_blocker"].startswith("No lymphodepletion is recorded")
    for days_before in (5, 4, 3):
        for agent in ("fludarabine", "cyclophosphamide"):
            r = client.post(url, dose(days_before, agent), format="json")
            assert r.status_code == 201, r.json()
    body = r.json()
    assert body["lymphodepletion_blocker"] is None
    first = body["lymphodepletion"][0]
    assert (first["day"], first["agent"], first["total_dose_mg"], first["given_by"]) == (
        -5,
        "cyclophosphamide",
        "900.0",
        clinical.username,
    )


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"body_surface_area_m2": "4.00"}, "body_surface_area_m2"),
        ({"dose_mg_per_m2": "-1"}, "dose_mg_per_m2"),
        ({"agent": "busulfan"}, "agent"),
        ({"given_on": "2999-01-01"}, "given_on"),
        ({"given_by": "nobody"}, "given_by"),
    ],
)
def test_a_bad_dose_is_a_400_on_its_field(api, clinical, changes, field):
    recipient = RecipientFactory.create()
    r = api.as_user(clinical).post(
        f"/api/v1/recipients/{recipient.subject_id}/lymphodepletion/",
        dose(5, **changes),
        format="json",
    )
    assert r.status_code == 400 and list(r.json()) == [field], r.json()
    assert not recipient.lymphodepletion_doses.exists()


@pytest.mark.clause("21 CFR 312.60")
def test_a_blocked_bedside_check_names_the_reason(api, issued_bag, clinical):
    issued_bag.recipient.lymphodepletion_doses.all().delete()
    scans = bedside_scans(issued_bag)
    scans["date_of_birth"] = scans["date_of_birth"].isoformat()
    r = api.as_user(clinical).post("/api/v1/bedside-checks/", scans, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["outcome"] == "blocked"
    assert r.json()["reasons"][0].startswith("No lymphodepletion is recorded for CARNK-QC")


@pytest.mark.clause("21 CFR 312.62(a)")
def test_a_volume_off_the_prescription_needs_its_reason(api, issued_bag, clinical):
    check = bedside.bedside_verify(actor=clinical, **bedside_scans(issued_bag))
    infusion = bedside.infusion_start(
        actor=clinical, password=PASSWORD, check=check, started_at=check.checked_at
    )
    url = f"/api/v1/infusions/{infusion.pk}/complete/"
    body = {"ended_at": timezone.now().isoformat(), "volume_ml": "1.00", "password": PASSWORD}
    client = api.as_user(clinical)
    refused = client.post(url, body, format="json")
    assert refused.status_code == 400 and list(refused.json()) == ["volume_difference_reason"]
    done = client.post(
        url, {**body, "volume_difference_reason": "Bag leaked at the spike"}, format="json"
    )
    assert done.status_code == 200, done.json()
    assert Deviation.objects.get().why == "Bag leaked at the spike"
