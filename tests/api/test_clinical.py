"""The adverse-event API with ASTCT findings: the grade they give beside the grade entered,
400 per field when the two differ without a reason, nothing written then."""

import pytest
from django.utils import timezone

from batches.models import AdverseEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/adverse-events/"


def icans(infusion, **changes):
    return {
        "infusion": infusion.pk,
        "kind": "icans",
        "grade": 3,
        "ice_score": 6,
        "icans_consciousness": "none",
        "icans_seizure": "rapid",
        "icans_motor": "none",
        "icans_raised_icp": "none",
        "onset_at": timezone.now().isoformat(),
        "description": "Seizure on day 5, resolved with levetiracetam",
        **changes,
    }


def test_findings_and_both_grades_are_served(api, infusion, clinical):
    client = api.as_user(clinical)
    created = client.post(URL, icans(infusion), format="json")
    assert created.status_code == 201, created.json()
    body = client.get(f"{URL}{created.json()['id']}/").json()
    assert (body["grade"], body["derived_grade"], body["grade_difference_reason"]) == (3, 3, "")
    assert (body["ice_score"], body["icans_seizure"]) == (6, "rapid")
    assert body["ice_unarousable"] is False
    assert body["crs_hypotension"] == "" and body["crs_fever_masked"] is None


def test_a_grade_other_than_the_findings_is_400_on_the_grade(api, infusion, clinical):
    response = api.as_user(clinical).post(URL, icans(infusion, grade=2), format="json")
    assert response.status_code == 400
    errors = response.json()
    assert "ICANS grade 3" in errors["grade"][0]
    assert "not 3" in errors["grade_difference_reason"][0]
    assert not AdverseEvent.objects.exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"icans_motor": "tremor"}, "icans_motor"),
        ({"icans_raised_icp": ""}, "icans_raised_icp"),
        ({"ice_score": None}, "ice_score"),
        ({"crs_hypoxia": "none"}, "crs_hypoxia"),
    ],
    ids=["unknown", "missing", "no-ice", "crs-finding"],
)
def test_findings_are_400_by_field(api, infusion, clinical, changes, field):
    response = api.as_user(clinical).post(URL, icans(infusion, **changes), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not AdverseEvent.objects.exists()


def test_a_grade_other_than_the_findings_with_its_reason_is_kept(api, infusion, clinical):
    reason = "Second seizure overnight, EEG pending"
    response = api.as_user(clinical).post(
        URL, icans(infusion, grade=4, grade_difference_reason=reason), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["grade"], body["derived_grade"], body["grade_difference_reason"]) == (
        4,
        3,
        reason,
    )


def test_crs_with_masked_fever(api, infusion, clinical):
    response = api.as_user(clinical).post(
        URL,
        {
            "infusion": infusion.pk,
            "kind": "crs",
            "grade": 4,
            "crs_fever_masked": True,
            "crs_hypotension": "multiple",
            "crs_hypoxia": "low_flow",
            "onset_at": timezone.now().isoformat(),
            "description": "Afebrile after tocilizumab; norepinephrine and phenylephrine",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["derived_grade"], response.json()["crs_temperature_c"]) == (4, None)
