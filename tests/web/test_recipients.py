"""Web UI: recipients (list, enrolment, detail with weight history, recording a weight)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import Recipient, WeightMeasurement
from carnk_mfg.roles import Role
from tests.factories import RecipientFactory, UserFactory, WeightMeasurementFactory

pytestmark = pytest.mark.django_db


ALL_ROLES = [Role.TECHNICIAN, Role.QC_ANALYST, Role.QA, Role.CLINICAL, Role.ADMIN]


def day(n):
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def enrol_data(**overrides):
    data = {
        "subject_id": "CARNK-101",
        "diagnosis": "CLL",
        "diagnosis_detail": "Relapsed after ibrutinib",
        "hla_a": "A*02:01",
        "hla_b": "B*08:01",
        "hla_c": "C*07:01",
        "hla_drb1": "DRB1*03:01",
        "dose_level": "DL2",
        "planned_infusion_on": day(20),
        "weight_kg": "71.4",
        "weight_measured_on": day(-1),
    }
    data.update(overrides)
    return data


# --- access ---


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_and_detail_render_for_every_role(client, users_by_role, role):
    recipient = RecipientFactory.create()
    client.force_login(users_by_role[role])
    response = client.get(reverse("recipient-list"))
    assert response.status_code == 200
    assert recipient.subject_id in response.content.decode()
    assert client.get(recipient.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    "role,status",
    [
        (Role.CLINICAL, 200),
        (Role.ADMIN, 403),
        (Role.TECHNICIAN, 403),
        (Role.QC_ANALYST, 403),
        (Role.QA, 403),
    ],
)
def test_enrol_page_by_role(client, users_by_role, role, status):
    client.force_login(users_by_role[role])
    assert client.get(reverse("recipient-register")).status_code == status


def test_anonymous_users_are_sent_to_login(client):
    recipient = RecipientFactory.create()
    for url in (
        reverse("recipient-list"),
        reverse("recipient-register"),
        recipient.get_absolute_url(),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_user_without_role_gets_403(client):
    recipient = RecipientFactory.create()
    client.force_login(UserFactory.create(username="visitor"))
    assert client.get(reverse("recipient-list")).status_code == 403
    assert client.get(recipient.get_absolute_url()).status_code == 403


def test_unknown_subject_is_404(client, clinical):
    client.force_login(clinical)
    assert client.get(reverse("recipient-detail", args=["NOBODY-1"])).status_code == 404


# --- what each role sees ---


@pytest.mark.parametrize(
    "role,enrol,weigh",
    [
        (Role.CLINICAL, True, True),
        (Role.ADMIN, False, False),
        (Role.TECHNICIAN, False, False),
        (Role.QC_ANALYST, False, False),
        (Role.QA, False, False),
    ],
)
def test_buttons_by_role(client, users_by_role, role, enrol, weigh):
    recipient = RecipientFactory.create()
    client.force_login(users_by_role[role])
    html = client.get(reverse("recipient-list")).content.decode()
    assert (f'href="{reverse("recipient-register")}"' in html) == enrol
    html = client.get(recipient.get_absolute_url()).content.decode()
    assert ('id="weight-form"' in html) == weigh


# --- enrolment through the form ---


def test_enrol_a_recipient_through_the_form(client, clinical):
    client.force_login(clinical)
    response = client.post(reverse("recipient-register"), enrol_data())
    recipient = Recipient.objects.get(subject_id="CARNK-101")
    assert response.status_code == 302
    assert response.url == recipient.get_absolute_url()
    assert recipient.diagnosis == "CLL" and recipient.dose_level == "DL2"
    weight = recipient.weights.get()
    assert weight.weight_kg == Decimal("71.4")
    assert weight.measured_on.isoformat() == day(-1)

    response = client.get(response.url)
    html = response.content.decode()
    assert "71.4 kg" in html and "Chronic lymphocytic leukaemia" in html
    events = {(row["record"], row["event"]) for row in response.context["history"]}
    assert ("Recipient", "Created") in events
    assert ("Weight measurement", "Created") in events
    assert all(row["who"] == clinical.username for row in response.context["history"])


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"weight_kg": "-70"}, "weight_kg"),
        ({"weight_kg": "seventy"}, "weight_kg"),
        # The service names it measured_on: the form shows it on its own field.
        ({"weight_measured_on": day(3)}, "weight_measured_on"),  # in the future
        ({"weight_kg": "70.123"}, "weight_kg"),
        ({"weight_measured_on": "01/02/2025x"}, "weight_measured_on"),
        ({"subject_id": ""}, "subject_id"),
        ({"subject_id": "X" * 41}, "subject_id"),
        ({"diagnosis": "flu"}, "diagnosis"),
        ({"dose_level": "DL9"}, "dose_level"),
        ({"planned_infusion_on": "soon"}, "planned_infusion_on"),
        ({"diagnosis_detail": "a\x00b"}, "diagnosis_detail"),
    ],
)
def test_bad_enrolment_input_gives_form_errors_and_writes_nothing(
    client, clinical, overrides, field
):
    client.force_login(clinical)
    response = client.post(reverse("recipient-register"), enrol_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Recipient.objects.exists()
    assert not WeightMeasurement.objects.exists()


def test_empty_enrolment_form_is_errors(client, clinical):
    client.force_login(clinical)
    response = client.post(reverse("recipient-register"), {})
    assert response.status_code == 200
    assert {"subject_id", "diagnosis", "weight_kg", "weight_measured_on"} <= set(
        response.context["form"].errors
    )


def test_enrol_post_without_permission_is_403(client, technician):
    client.force_login(technician)
    assert client.post(reverse("recipient-register"), enrol_data()).status_code == 403
    assert not Recipient.objects.exists()


# --- weights ---


def test_record_a_weight_through_the_form_newest_first(client, clinical):
    recipient = RecipientFactory.create(
        weight__measured_on=timezone.localdate() - timedelta(days=30)
    )
    client.force_login(clinical)
    response = client.post(
        recipient.get_absolute_url(), {"weight_kg": "68.0", "measured_on": day(0)}
    )
    assert response.status_code == 302
    assert recipient.weights.count() == 2
    response = client.get(recipient.get_absolute_url())
    weights = list(response.context["weights"])
    assert weights[0].weight_kg == Decimal("68.0")
    assert weights[0].recorded_by == clinical
    html = response.content.decode()
    assert html.index("68.0 kg") < html.index("72.5 kg")


def test_weights_show_newest_measured_first_even_if_entered_late(client, clinical):
    recipient = RecipientFactory.create(weight__measured_on=timezone.localdate())
    WeightMeasurementFactory.create(
        recipient=recipient,
        weight_kg=Decimal("80.0"),
        measured_on=timezone.localdate() - timedelta(days=60),
    )
    client.force_login(clinical)
    html = client.get(recipient.get_absolute_url()).content.decode()
    assert html.index("72.5 kg") < html.index("80.0 kg")


@pytest.mark.parametrize(
    "data,field",
    [
        ({"weight_kg": "abc", "measured_on": day(0)}, "weight_kg"),
        ({"weight_kg": "70", "measured_on": "not a date"}, "measured_on"),
        ({}, "weight_kg"),
    ],
)
def test_bad_weight_is_a_form_error(client, clinical, data, field):
    recipient = RecipientFactory.create()
    client.force_login(clinical)
    response = client.post(recipient.get_absolute_url(), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert recipient.weights.count() == 1


def test_weight_post_by_technician_is_403(client, technician):
    recipient = RecipientFactory.create()
    client.force_login(technician)
    response = client.post(recipient.get_absolute_url(), {"weight_kg": "70", "measured_on": day(0)})
    assert response.status_code == 403
    assert recipient.weights.count() == 1


def test_subject_id_with_a_slash_has_a_working_page(client, clinical):
    recipient = RecipientFactory.create(subject_id="SITE2/CARNK/007")
    client.force_login(clinical)
    html = client.get(reverse("recipient-list")).content.decode()
    assert 'href="/recipients/SITE2/CARNK/007/"' in html
    assert client.get(recipient.get_absolute_url()).context["recipient"] == recipient
    response = client.post(recipient.get_absolute_url(), {"weight_kg": "70", "measured_on": day(0)})
    assert response.status_code == 302


def test_list_shows_current_weight(client, qa):
    recipient = RecipientFactory.create(
        weight__measured_on=timezone.localdate() - timedelta(days=10)
    )
    WeightMeasurementFactory.create(recipient=recipient, weight_kg=Decimal("66.6"))
    client.force_login(qa)
    html = client.get(reverse("recipient-list")).content.decode()
    assert "66.6 kg" in html and "72.5 kg" not in html


# --- no input gives a server error ---

NASTY = ["", "\x00", "💥", "1e400", "NaN", "9" * 40, "0001-01-01", "9999-12-31", "x" * 3000]


def test_no_typed_input_gives_a_server_error(client, every_gmp_role):
    recipient = RecipientFactory.create(subject_id="CARNK-900")
    client.force_login(every_gmp_role)
    targets = [
        (reverse("recipient-register"), enrol_data()),
        (recipient.get_absolute_url(), {"weight_kg": "70", "measured_on": day(0)}),
    ]
    for url, valid in targets:
        for field in valid:
            for bad in NASTY:
                response = client.post(url, {**valid, field: bad})
                assert response.status_code in (200, 302), (url, field, bad)


def test_malformed_subject_id_in_the_url_is_404(client, clinical):
    client.force_login(clinical)
    assert client.get("/recipients/%00/").status_code == 404


# --- treating clinician ---


def test_enrol_with_a_treating_clinician_or_a_form_error(client, clinical, qa):
    colleague = UserFactory.create(username="clinic-b", role="clinical")
    client.force_login(clinical)
    refused = client.post(reverse("recipient-register"), enrol_data(treating_clinician=qa.pk))
    assert refused.status_code == 200
    assert "Choose one of the clinical staff." in refused.content.decode()
    assert not Recipient.objects.exists()
    client.post(reverse("recipient-register"), enrol_data(treating_clinician=colleague.pk))
    assert Recipient.objects.get().treating_clinician == colleague


def test_change_the_treating_clinician_on_the_recipient_page(client, clinical, qa):
    colleague = UserFactory.create(username="clinic-b", role="clinical", first_name="Mei")
    recipient = RecipientFactory.create(treating_clinician=clinical)
    url = reverse("recipient-clinician", args=[recipient.subject_id])
    client.force_login(clinical)
    page = client.get(recipient.get_absolute_url()).content.decode()
    assert 'id="treating-clinician"' in page and clinical.username in page
    for data, error in [
        ({"treating_clinician": colleague.pk, "reason": ""}, "This field is required."),
        ({"treating_clinician": qa.pk, "reason": "Leave"}, "Choose one of the clinical staff."),
    ]:
        response = client.post(url, data)
        assert response.status_code == 200 and error in response.content.decode()
        assert Recipient.objects.get(pk=recipient.pk).treating_clinician == clinical
    response = client.post(url, {"treating_clinician": colleague.pk, "reason": "On leave"})
    assert response.status_code == 302
    assert Recipient.objects.get(pk=recipient.pk).treating_clinician == colleague
    client.force_login(qa)
    assert client.post(url, {"treating_clinician": clinical.pk, "reason": "x"}).status_code == 403
