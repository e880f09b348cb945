"""The donor test panel on the unit page: recording a test through its form, refusals shown in
place, and the panel's reasons beside QA's determination (the rules: tests/services/
test_donor_panel.py)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import DonorTest
from tests.factories import PASSWORD, CordBloodUnitFactory

pytestmark = pytest.mark.django_db


def page(client, user, url):
    client.force_login(user)
    return client.get(url)


def donor_test_data(unit, **overrides):
    return {
        "marker": "hiv_1_nat",
        "result": "non_reactive",
        "sample_date": timezone.localdate(unit.collected_at).isoformat(),
        "test_kit": "Procleix Ultrio Elite",
        "kit_lot": "UE-2407",
        "laboratory": "Creative Testing Solutions",
        "reason": "Maternal NAT from the bank's report",
        **overrides,
    }


@pytest.mark.clause("21 CFR 1271.80")
def test_technician_records_a_donor_test_on_the_unit_page(client, technician, pending_unit):
    html = page(client, technician, pending_unit.get_absolute_url()).content.decode()
    assert 'id="donor-test-form"' in html and "Donor test panel" in html
    response = client.post(
        reverse("cbu-donor-test", args=[pending_unit.din]), donor_test_data(pending_unit)
    )
    assert response.status_code == 302
    test = pending_unit.donor_tests.get(marker="hiv_1_nat")
    assert (test.result, test.recorded_by) == ("non_reactive", technician)
    html = client.get(pending_unit.get_absolute_url()).content.decode()
    assert "HIV-1 NAT" in html and "Procleix Ultrio Elite (UE-2407)" in html


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"marker": "hiv"}, "marker"),
        ({"result": "positive"}, "result"),
        ({"sample_date": "yesterday"}, "sample_date"),
        ({"sample_date": "2999-01-01"}, "sample_date"),
        ({"test_kit": ""}, "test_kit"),
        ({"laboratory": "x" * 201}, "laboratory"),
        ({"marker": "hbsag"}, "marker"),  # already recorded: not replaced
    ],
)
def test_a_refused_donor_test_shows_its_error_in_place(
    client, technician, pending_unit, overrides, field
):
    client.force_login(technician)
    before = pending_unit.donor_tests.count()
    response = client.post(
        reverse("cbu-donor-test", args=[pending_unit.din]),
        donor_test_data(pending_unit, **overrides),
    )
    assert response.status_code == 200
    assert field in response.context["donor_test_form"].errors
    assert pending_unit.donor_tests.count() == before


def test_recording_a_donor_test_is_the_floors(client, qa, pending_unit):
    client.force_login(qa)
    response = client.post(
        reverse("cbu-donor-test", args=[pending_unit.din]), donor_test_data(pending_unit)
    )
    assert response.status_code == 403
    assert (
        'id="donor-test-form"' not in client.get(pending_unit.get_absolute_url()).content.decode()
    )


@pytest.mark.clause("21 CFR 1271.80", "21 CFR 1271.50")
def test_the_unit_page_states_the_panels_reasons_and_a_refused_eligible_names_them(client, qa):
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    DonorTest.objects.filter(unit=unit, marker="cmv").delete()
    html = page(client, qa, unit.get_absolute_url()).content.decode()
    assert "Required tests missing: CMV." in html
    response = client.post(
        reverse("cbu-eligibility", args=[unit.din]),
        {"eligibility": "eligible", "notes": "", "password": PASSWORD},
    )
    assert response.status_code == 200
    assert response.context["eligibility_form"].errors["eligibility"] == [
        "Required tests missing: CMV."
    ]
    unit.refresh_from_db()
    assert unit.eligibility == "pending"
