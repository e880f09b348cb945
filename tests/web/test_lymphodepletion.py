"""Web UI: lymphodepletion on the recipient page (the doses with their day, the form, the
block in words), the bedside page showing a block before any scan, and the infusion's
completion form asking why a volume is off the prescription."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from batches.models import Deviation, Infusion, LymphodepletionDose
from tests.factories import RecipientFactory
from tests.web.test_release import html, scan, vitals_data

pytestmark = pytest.mark.django_db


def dose_data(**overrides):
    return {
        "agent": "fludarabine",
        "dose_mg_per_m2": "30",
        "body_surface_area_m2": "1.90",
        "given_on": (timezone.localdate() - timedelta(days=4)).isoformat(),
        **overrides,
    }


@pytest.mark.clause("21 CFR 312.60")
def test_a_dose_recorded_on_the_recipient_page(client, clinical):
    recipient = RecipientFactory.create(
        planned_infusion_on=timezone.localdate() + timedelta(days=1)
    )
    client.force_login(clinical)
    page = html(client.get(recipient.get_absolute_url()))
    assert 'id="lymphodepletion-form"' in page
    assert "blocked:</strong> No lymphodepletion is recorded" in page
    url = reverse("recipient-lymphodepletion", args=[recipient.subject_id])
    response = client.post(url, dose_data())
    assert response.status_code == 302
    assert response["Location"] == recipient.get_absolute_url() + "#lymphodepletion"
    dose = LymphodepletionDose.objects.get()
    assert (dose.total_dose_mg, dose.given_by, dose.day) == (Decimal("57.0"), clinical, -5)
    page = html(client.get(recipient.get_absolute_url()))
    assert "57.0 mg" in page and "not complete: fludarabine on 1 of 3 days" in page


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"body_surface_area_m2": "9"}, "body_surface_area_m2"),
        ({"given_on": (timezone.localdate() + timedelta(days=1)).isoformat()}, "given_on"),
        ({"agent": "busulfan"}, "agent"),
    ],
)
def test_a_bad_dose_is_a_form_error(client, clinical, overrides, field):
    recipient = RecipientFactory.create()
    client.force_login(clinical)
    response = client.post(
        reverse("recipient-lymphodepletion", args=[recipient.subject_id]), dose_data(**overrides)
    )
    assert response.status_code == 200
    assert list(response.context["lymphodepletion_form"].errors) == [field]
    assert not LymphodepletionDose.objects.exists()


def test_recording_a_dose_is_clinical(client, technician):
    recipient = RecipientFactory.create()
    client.force_login(technician)
    page = html(client.get(recipient.get_absolute_url()))
    assert 'id="lymphodepletion-form"' not in page
    response = client.post(
        reverse("recipient-lymphodepletion", args=[recipient.subject_id]), dose_data()
    )
    assert response.status_code == 403


@pytest.mark.clause("21 CFR 312.60")
def test_the_bedside_page_shows_a_block_before_the_scan(client, issued_bag, clinical):
    client.force_login(clinical)
    page = html(client.get(reverse("bedside")))
    assert 'id="awaiting"' in page and "Lymphodepletion complete" in page
    issued_bag.recipient.lymphodepletion_doses.filter(agent="cyclophosphamide").delete()
    page = html(client.get(reverse("bedside")))
    assert "cyclophosphamide on 0 of 3 days" in page
    response = client.post(reverse("bedside"), scan(issued_bag, "CARNK-QC"))
    page = html(response)
    assert "BLOCKED" in page and "cyclophosphamide on 0 of 3 days" in page


@pytest.mark.clause("21 CFR 312.62(a)")
def test_the_completion_form_asks_why_the_volume_is_off(client, issued_bag, clinical):
    client.force_login(clinical)
    with time_machine.travel(timezone.now() - timedelta(minutes=25), tick=True):
        client.post(reverse("bedside"), scan(issued_bag, "CARNK-QC"))
    from batches.models import BedsideCheck

    check = BedsideCheck.objects.get()
    client.post(reverse("infusion-record", args=[check.pk]), vitals_data())
    infusion = Infusion.objects.get()
    url = reverse("infusion-detail", args=[infusion.pk])
    response = client.post(url, {**vitals_data(volume_ml="2.00"), "form": "complete"})
    assert response.status_code == 200
    errors = response.context["complete_form"].errors
    assert list(errors) == ["volume_difference_reason"]
    assert "off the 4.39 mL prescribed" in errors["volume_difference_reason"][0]
    response = client.post(
        url,
        {
            **vitals_data(volume_ml="2.00", volume_difference_reason="Patient asked to stop"),
            "form": "complete",
        },
    )
    assert response.status_code == 302
    assert Deviation.objects.get().kind == "infused_volume"
