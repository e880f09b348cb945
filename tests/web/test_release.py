"""Web UI of release and the bedside: from a batch in QC through formulation, record review
and release on the queue page, the dose calculator and assignment, the issue hand-off, the
bedside check (MATCH and BLOCKED) and the signed infusion; the PDFs; what each role may do;
and garbage input, which gives form errors, never a server error."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from batches.models import BedsideCheck, DoseUnit, Infusion
from tests.batch_steps import bedside_day, bedside_scans, result_all
from tests.factories import PASSWORD, RecipientFactory, UserFactory

pytestmark = pytest.mark.django_db


def local(moment):
    """A datetime as the browser's datetime-local input sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def html(response):
    return response.content.decode()


def formulate_data(volumes=("40", "40")):
    data = {"password": PASSWORD}
    for i, volume in enumerate(volumes):
        data[f"bags.{i}.division"] = f"{chr(65 + i)}0"
        data[f"bags.{i}.presentation"] = "cryopreserved"
        data[f"bags.{i}.volume_ml"] = volume
    return data


def vitals_data(**extra):
    now = timezone.now()
    data = {
        "started_at": local(now - timedelta(minutes=20)),
        "ended_at": local(now),
        "volume_ml": "4.39",
        "pre_temp_c": "36.8",
        "pre_hr": "78",
        "pre_bp": "124/78",
        "pre_spo2": "98",
        "post_temp_c": "37.0",
        "post_hr": "84",
        "post_bp": "120/76",
        "post_spo2": "97",
        "notes": "",
        "password": PASSWORD,
    }
    data.update(extra)
    return data


def scan(bag, wristband):
    """The bedside form as the nurse fills it for `bag` and `wristband`."""
    scans = bedside_scans(bag, wristband)
    return {**scans, "date_of_birth": (scans["date_of_birth"] or "").__str__()}


@pytest.fixture
def resulted(in_qc_batch, qc_analyst):
    result_all(in_qc_batch, qc_analyst, UserFactory.create(username="qc-b", role="qc_analyst"))
    return in_qc_batch


def release_through_ui(client, batch, technician, qa):
    client.force_login(technician)
    response = client.post(reverse("release-formulate", args=[batch.lot_number]), formulate_data())
    assert response.status_code == 302, html(response)
    client.force_login(qa)
    response = client.post(
        reverse("release-review", args=[batch.lot_number]), {"password": PASSWORD}
    )
    assert response.status_code == 302, html(response)
    response = client.post(
        reverse("release-decide", args=[batch.lot_number]),
        {"decision": "release", "reason": "All release QC in spec", "password": PASSWORD},
    )
    assert response.status_code == 302, html(response)


@pytest.fixture
def released(client, resulted, technician, qa):
    release_through_ui(client, resulted, technician, qa)
    return resulted


@pytest.fixture
def issued_bag(client, released, clinical, qa):
    bag = DoseUnit.objects.get(batch=released, division="A0")
    client.force_login(clinical)
    response = client.post(
        reverse("dose-calculator", args=["CARNK-QC"]),
        {"dose_unit": bag.pk, "dose_level": "DL2", "reason": "Dose assigned"},
    )
    assert response.status_code == 302, html(response)
    response = client.post(
        reverse("bag-handoff", args=[bag.pk]),
        {
            "kind": "issue",
            "released_by": qa.username,
            "released_by_password": PASSWORD,
            "received_by": clinical.username,
            "received_by_password": PASSWORD,
            "from_location": "Cell therapy lab",
            "to_location": "Ward 7",
            "occurred_at": local(timezone.now()),
            "temperature_c": "-150",
        },
    )
    assert response.status_code == 302, html(response)
    lymphodeplete_through_ui(client, "CARNK-QC")
    bag.refresh_from_db()
    assert bag.status == "issued"
    return bag


def lymphodeplete_through_ui(client, subject_id):
    """Fludarabine and cyclophosphamide on days -5 to -3 of an infusion checked at the bedside
    25 minutes ago, recorded on the recipient page."""
    for days_before in (5, 4, 3):
        for agent, dose in (("fludarabine", "30"), ("cyclophosphamide", "500")):
            response = client.post(
                reverse("recipient-lymphodepletion", args=[subject_id]),
                {
                    "agent": agent,
                    "dose_mg_per_m2": dose,
                    "body_surface_area_m2": "1.85",
                    "given_on": (bedside_day(25) - timedelta(days=days_before)).isoformat(),
                },
            )
            assert response.status_code == 302, html(response)


# --- the queue ---


def test_queue_shows_the_qc_summary_and_the_actions(client, resulted, qa, technician):
    client.force_login(qa)
    page = html(client.get(reverse("release-queue")))
    assert resulted.lot_number in page
    assert "QC complete" in page and "Not reviewed" in page
    assert 'id="review-' in page and 'id="decide-' in page
    assert 'id="formulate-' not in page  # QA does not formulate
    assert 'id="esign-dialog"' in page
    client.force_login(technician)
    page = html(client.get(reverse("release-queue")))
    assert 'id="formulate-' in page and 'id="decide-' not in page


def test_release_chain_through_the_pages(client, released, qa):
    released.refresh_from_db()
    assert released.state == "released"
    assert set(DoseUnit.objects.values_list("status", flat=True)) == {"released"}
    client.force_login(qa)
    assert f'id="batch-{released.pk}"' not in html(client.get(reverse("release-queue")))


def test_formulation_garbage_and_wrong_password_are_form_errors(client, resulted, technician):
    client.force_login(technician)
    url = reverse("release-formulate", args=[resulted.lot_number])
    data = formulate_data()
    data["bags.0.division"] = "!!"
    data["bags.1.volume_ml"] = "lots"
    response = client.post(url, data)
    assert response.status_code == 200 and "nothing was saved" in html(response)
    response = client.post(url, {**formulate_data(), "password": "wrong"})
    assert response.status_code == 200
    assert DoseUnit.objects.count() == 0


def test_wrong_password_on_review_is_a_form_error(client, resulted, qa):
    client.force_login(qa)
    response = client.post(
        reverse("release-review", args=[resulted.lot_number]), {"password": "nope"}
    )
    assert response.status_code == 200
    assert 'class="esign-field esign-note field has-error"' in html(response)


def test_a_decision_on_a_batch_no_longer_in_qc_is_a_clear_refusal(client, released, qa):
    client.force_login(qa)
    response = client.post(
        reverse("release-decide", args=[released.lot_number]),
        {"decision": "reject", "reason": "late", "password": PASSWORD},
    )
    assert response.status_code == 409
    assert "is now released" in html(response) and "someone else changed it first" in html(response)


def test_garbage_decision_and_unknown_batch(client, resulted, qa):
    client.force_login(qa)
    response = client.post(
        reverse("release-decide", args=[resulted.lot_number]),
        {"decision": "maybe", "reason": "", "password": ""},
    )
    assert response.status_code == 200 and "nothing was saved" in html(response)
    response = client.post(reverse("release-review", args=["NO-SUCH"]), {"password": PASSWORD})
    assert response.status_code == 404
    assert client.get(reverse("release-coa", args=["bad\x00lot"])).status_code == 404


# --- documents ---


def test_no_coa_before_day_0(client, planned_batch, qa):
    client.force_login(qa)
    response = client.get(reverse("release-coa", args=[planned_batch.lot_number]), follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "batch-detail", args=[planned_batch.lot_number]
    )
    assert "No Certificate of Analysis before the batch has started" in html(response)


def test_coa_and_label_pdfs(client, released, qa):
    client.force_login(qa)
    response = client.get(reverse("release-coa", args=[released.lot_number]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    bag = DoseUnit.objects.get(division="A0")
    response = client.get(reverse("bag-label", args=[bag.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert client.get(reverse("bag-label", args=[999999])).status_code == 404


# --- dose ---


def test_dose_calculator_shows_arithmetic_and_assigns(client, released, clinical):
    bag = DoseUnit.objects.get(division="A0")
    client.force_login(clinical)
    url = reverse("dose-calculator", args=["CARNK-QC"])
    assert url in html(client.get(reverse("bag-detail", args=[bag.pk])))
    page = html(client.get(url, {"dose_unit": bag.pk, "dose_level": "DL2"}))
    assert "Dose = 1 × 10⁶ CAR-NK cells/kg x 72.5 kg" in page
    assert 'id="assign-form"' in page
    page = html(client.get(url, {"dose_unit": bag.pk, "dose_level": "DL1"}))
    assert "This dose cannot be given" in page and "is assigned DL2, not DL1" in page
    assert 'id="assign-form"' not in page
    response = client.post(
        url, {"dose_unit": bag.pk, "dose_level": "DL2", "reason": "Dose assigned"}
    )
    assert response.status_code == 302
    bag.refresh_from_db()
    assert bag.status == "assigned" and str(bag.dose_volume_ml) == "4.39"
    assert "CARNK-QC" in html(client.get(reverse("bag-detail", args=[bag.pk])))


def test_dose_garbage_is_a_form_error(client, released, clinical):
    client.force_login(clinical)
    url = reverse("dose-calculator", args=["CARNK-QC"])
    response = client.post(url, {"dose_unit": "junk", "dose_level": "DL9"})
    assert response.status_code == 200 and "nothing was saved" in html(response)
    assert client.get(url, {"dose_unit": "x", "dose_level": ""}).status_code == 200
    assert client.get(reverse("dose-calculator", args=["NOBODY"])).status_code == 404


def test_qa_may_calculate_but_not_assign(client, released, qa):
    bag = DoseUnit.objects.get(division="A0")
    client.force_login(qa)
    url = reverse("dose-calculator", args=["CARNK-QC"])
    page = html(client.get(url, {"dose_unit": bag.pk, "dose_level": "DL2"}))
    assert "Dose = " in page and 'id="assign-form"' not in page
    response = client.post(url, {"dose_unit": bag.pk, "dose_level": "DL2", "reason": "x"})
    assert response.status_code == 403


# --- hand-offs and the bedside ---


def test_handoff_garbage_is_a_form_error(client, released, clinical):
    bag = DoseUnit.objects.get(division="A0")
    client.force_login(clinical)
    url = reverse("bag-handoff", args=[bag.pk])
    response = client.post(url, {"kind": "teleport", "temperature_c": "hot"})
    assert response.status_code == 200 and "nothing was saved" in html(response)


def test_bedside_page_is_built_for_a_scanner(client, clinical):
    client.force_login(clinical)
    page = html(client.get(reverse("bedside")))
    assert "autofocus" in page and 'name="scanned_wristband"' in page
    # Enter moves to the next field (a scanner ends each code with Enter).
    assert "data-scan-form" in page and "carnk_mfg/scan.js" in page


def test_bedside_match_then_infusion_started_then_completed(client, issued_bag, clinical):
    client.force_login(clinical)
    # Scanned at the bedside 25 minutes ago; the infusion started 5 minutes later.
    with time_machine.travel(timezone.now() - timedelta(minutes=25), tick=True):
        response = client.post(reverse("bedside"), scan(issued_bag, "CARNK-QC"))
    page = html(response)
    assert response.status_code == 200 and "MATCH" in page and "BLOCKED" not in page
    assert "may proceed" in page and "Bag Bag" not in page
    check = BedsideCheck.objects.get()
    assert check.outcome == "match"
    assert reverse("infusion-record", args=[check.pk]) in page
    # The focus goes to the infusion form, not to the next scan.
    assert page.count("autofocus") == 1
    assert re.search(r'<input[^>]*name="started_at"[^>]*autofocus', page)
    response = client.post(reverse("infusion-record", args=[check.pk]), vitals_data())
    infusion = Infusion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("infusion-detail", args=[infusion.pk]) + "#complete"
    assert infusion.in_progress and infusion.vitals == {
        "pre": {"temp_c": 36.8, "hr": 78, "bp": "124/78", "spo2": 98}
    }
    issued_bag.refresh_from_db()
    assert issued_bag.status == "infused"
    page = html(client.get(reverse("infusion-detail", args=[infusion.pk])))
    assert "In progress" in page and 'id="complete-form"' in page
    assert re.search(r'<input[^>]*name="ended_at"[^>]*autofocus', page)
    # An old MATCH page of the bag, infused since, says so and offers no second start.
    page = html(client.get(reverse("infusion-record", args=[check.pk])))
    assert "This bag was infused at" in page and "may proceed" not in page
    assert 'id="infusion-form"' not in page
    response = client.post(
        reverse("infusion-detail", args=[infusion.pk]),
        {**vitals_data(reactions="Chills at 10 min"), "form": "complete"},
    )
    assert response.status_code == 302, html(response)
    infusion.refresh_from_db()
    assert not infusion.in_progress and infusion.completed_by == clinical
    assert infusion.vitals["pre"]["bp"] == "124/78" and infusion.vitals["post"]["hr"] == 84
    assert infusion.reactions == "Chills at 10 min"
    page = html(client.get(reverse("infusion-detail", args=[infusion.pk])))
    assert "Completed" in page and 'id="complete-form"' not in page


def test_wrong_wristband_is_blocked_and_recorded(client, issued_bag, clinical):
    RecipientFactory.create(subject_id="CARNK-OTHER")
    client.force_login(clinical)
    page = html(client.post(reverse("bedside"), scan(issued_bag, "CARNK-OTHER")))
    assert "BLOCKED" in page and "WRONG RECIPIENT" in page
    assert 'id="infusion-form"' not in page
    check = BedsideCheck.objects.get()
    assert check.outcome == "blocked"
    response = client.post(reverse("infusion-record", args=[check.pk]), vitals_data())
    assert response.status_code == 200 and "blocked" in html(response)
    assert Infusion.objects.count() == 0


def test_garbage_scans_and_vitals(client, issued_bag, clinical):
    client.force_login(clinical)
    response = client.post(reverse("bedside"), {"scanned_bag": "hello", "scanned_wristband": ""})
    assert response.status_code == 200 and "nothing was saved" in html(response)
    response = client.post(
        reverse("bedside"),
        {"scanned_bag": "hello", "scanned_product_code": "x", "scanned_wristband": "nobody"},
    )
    assert "BLOCKED" in html(response) and "not a valid DIN" in html(response)
    client.post(reverse("bedside"), scan(issued_bag, "CARNK-QC"))
    check = BedsideCheck.objects.get(outcome="match")
    url = reverse("infusion-record", args=[check.pk])
    response = client.post(url, vitals_data(pre_bp="high", started_at="soon"))
    assert response.status_code == 200 and "nothing was saved" in html(response)
    assert Infusion.objects.count() == 0
    now = timezone.now()
    assert client.post(url, vitals_data(started_at=local(now))).status_code == 302
    infusion = Infusion.objects.get()
    url = reverse("infusion-detail", args=[infusion.pk])
    for garbage in (
        {"post_bp": "high", "volume_ml": "-1", "ended_at": "soon"},
        {"ended_at": local(now - timedelta(hours=1))},
    ):
        response = client.post(url, {**vitals_data(**garbage), "form": "complete"})
        assert response.status_code == 200
    assert "ends after it starts" in html(response)
    assert client.post(url, {"form": "nonsense"}).status_code == 400
    infusion.refresh_from_db()
    assert infusion.in_progress


# --- roles ---


def test_technician_and_clinical_cannot_release(client, resulted, technician, clinical):
    for user in (technician, clinical):
        client.force_login(user)
        response = client.post(
            reverse("release-decide", args=[resulted.lot_number]),
            {"decision": "release", "reason": "x", "password": PASSWORD},
        )
        assert response.status_code == 403
        response = client.post(
            reverse("release-review", args=[resulted.lot_number]), {"password": PASSWORD}
        )
        assert response.status_code == 403


def test_qa_cannot_record_an_infusion_or_verify(client, issued_bag, clinical, qa):
    client.force_login(clinical)
    client.post(reverse("bedside"), scan(issued_bag, "CARNK-QC"))
    check = BedsideCheck.objects.get()
    client.force_login(qa)
    assert (
        client.post(reverse("infusion-record", args=[check.pk]), vitals_data()).status_code == 403
    )
    assert client.get(reverse("bedside")).status_code == 403
    assert Infusion.objects.count() == 0


def test_qa_and_clinical_cannot_formulate(client, resulted, qa, clinical):
    for user in (qa, clinical):
        client.force_login(user)
        response = client.post(
            reverse("release-formulate", args=[resulted.lot_number]), formulate_data()
        )
        assert response.status_code == 403


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("release-queue"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_nav_links_by_role(client, qa, clinical):
    client.force_login(qa)
    page = html(client.get(reverse("release-queue")))
    assert 'href="/release/"' in page and 'href="/bedside/"' not in page
    client.force_login(clinical)
    page = html(client.get(reverse("bedside")))
    assert 'href="/bedside/"' in page and 'href="/release/"' not in page
