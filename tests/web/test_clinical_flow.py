"""The clinical flow through the pages: the bag list, the recipient's page (bags, dose,
infusions, adverse events, follow-ups), the dose calculator's bag choice, a hand-off both
parties confirm with their own password, what a courier may do, and the follow-up worklist's
labels; garbage input gives a form error, never a server error."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from batches.models import CustodyEvent, DoseUnit
from batches.services import clinical as clinical_services
from carnk_mfg.models import ElectronicSignature, SignatureFailure
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def html(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_the_bag_list_filters_by_status_and_recipient(client, infusion, clinical):
    client.force_login(clinical)
    page = html(client.get(reverse("bag-list")))
    din = infusion.dose_unit.batch.din
    assert f"{din} A0" in page and f"{din} B0" in page
    page = html(client.get(reverse("bag-list"), {"status": "released"}))
    assert f"{din} B0" in page and f"{din} A0" not in page
    page = html(client.get(reverse("bag-list"), {"recipient": "CARNK-QC"}))
    assert f"{din} A0" in page and f"{din} B0" not in page
    # Garbage filters are a form error, not a server error.
    page = html(client.get(reverse("bag-list"), {"status": "<script>", "page": "x"}))
    assert "Select a valid choice" in page


def test_an_infusion_in_progress_shows_so(client, issued_bag, clinical):
    from batches.services import bedside
    from tests.batch_steps import bedside_scans

    check = bedside.bedside_verify(actor=clinical, **bedside_scans(issued_bag))
    bedside.infusion_start(
        actor=clinical, password=PASSWORD, check=check, started_at=check.checked_at
    )
    client.force_login(clinical)
    for url in (
        reverse("bag-list"),
        reverse("bag-detail", args=[issued_bag.pk]),
        reverse("recipient-detail", args=["CARNK-QC"]),
    ):
        assert "in progress" in html(client.get(url)).lower(), url


def test_the_recipient_page_shows_bags_dose_infusion_events_and_visits(client, infusion, clinical):
    clinical_services.adverse_event_report(
        actor=clinical,
        infusion=infusion,
        kind="crs",
        grade=2,
        crs_temperature_c=Decimal("39.1"),
        crs_hypotension="no_vasopressor",
        crs_hypoxia="none",
        onset_at=timezone.now(),
        description="Fever 39.1",
    )
    client.force_login(clinical)
    page = html(client.get(reverse("recipient-detail", args=["CARNK-QC"])))
    bag = DoseUnit.objects.get(pk=infusion.dose_unit_id)
    assert reverse("bag-detail", args=[bag.pk]) in page
    assert (
        f"{bag.dose_volume_ml} mL" in page
        and "DL2" in page
        and "1 × 10<sup>6</sup>" in page
        and "e+0" not in page
    )
    assert reverse("infusion-detail", args=[infusion.pk]) in page and "4.40 mL" in page
    assert "Fever 39.1" in page and "day 3" in page
    assert reverse("bag-list") + "?recipient=CARNK-QC" in page


def test_the_dose_calculator_names_each_bag_with_its_volume_and_cells(client, issued_bag, clinical):
    client.force_login(clinical)
    page = html(client.get(reverse("dose-calculator", args=["CARNK-QC"])))
    bag = DoseUnit.objects.get(batch=issued_bag.batch, division="B0")
    assert f"{bag.batch.din} B0 · {bag.volume_ml} mL · 6.6 × 10⁸ CAR-NK cells" in page
    assert bag.car_nk_cells == pytest.approx(6.6e8)


def handoff(client, bag, **changes):
    data = {
        "kind": "issue",
        "released_by": "qa1",
        "released_by_password": PASSWORD,
        "received_by": "clinical1",
        "received_by_password": PASSWORD,
        "from_location": "Cell therapy lab",
        "to_location": "Ward 7",
        "occurred_at": local(timezone.now()),
        "temperature_c": "-150",
        **changes,
    }
    return client.post(reverse("bag-handoff", args=[bag.pk]), data)


@pytest.fixture
def assigned(issued_bag, clinical):
    """Bag B0 of the issued bag's batch, assigned to the same recipient (not yet issued)."""
    from batches.services import release

    bag = DoseUnit.objects.get(batch=issued_bag.batch, division="B0")
    return release.dose_assign(
        actor=clinical, dose_unit=bag, recipient=issued_bag.recipient, level_code="DL2"
    )


def test_a_hand_off_with_a_wrong_second_password_writes_nothing(client, assigned, clinical, qa):
    client.force_login(clinical)
    signatures = ElectronicSignature.objects.count()
    page = html(handoff(client, assigned, received_by_password="wrong"))
    assert "password is not correct" in page
    assert not CustodyEvent.objects.filter(dose_unit=assigned).exists()
    assert ElectronicSignature.objects.count() == signatures
    assert SignatureFailure.objects.filter(user=clinical).count() == 1
    assert DoseUnit.objects.get(pk=assigned.pk).status == "assigned"
    page = html(handoff(client, assigned, received_by="qa1"))
    assert "two different people" in page
    response = handoff(client, assigned)
    assert response.status_code == 302
    event = CustodyEvent.objects.get(dose_unit=assigned)
    page = html(client.get(reverse("bag-detail", args=[assigned.pk])))
    assert "Released the bag" in page and "Received the bag" in page
    assert ElectronicSignature.objects.count() == signatures + 2
    assert event.released_by == qa


def test_a_courier_carries_bags_and_does_nothing_else(client, issued_bag, courier, clinical):
    client.force_login(courier)
    assert issued_bag.batch.din in html(client.get(reverse("bag-list")))
    page = html(client.get(reverse("bag-detail", args=[issued_bag.pk])))
    assert 'id="handoff-form"' in page and 'href="/bags/"' in page
    assert "Bedside checks" not in page
    response = handoff(
        client,
        issued_bag,
        kind="ship",
        released_by="clinical1",
        received_by="courier1",
        from_location="Lab",
        to_location="Courier",
    )
    assert response.status_code == 302
    assert CustodyEvent.objects.filter(kind="ship", received_by=courier).exists()
    for url in (
        reverse("recipient-list"),
        reverse("recipient-detail", args=["CARNK-QC"]),
        reverse("dose-calculator", args=["CARNK-QC"]),
        reverse("bedside"),
        reverse("batch-list"),
        reverse("release-queue"),
        reverse("follow-up-worklist"),
    ):
        assert client.get(url).status_code == 403, url


def test_the_follow_up_worklist_labels_every_input(client, infusion, clinical):
    import time_machine

    client.force_login(clinical)
    visit = infusion.visits.get(day=3)
    with time_machine.travel(visit.due_at - timedelta(days=1)):
        page = html(client.get(reverse("follow-up-worklist")))
    for name in ("done_at", "response", "copies", "dsa"):
        assert f'<label for="visit-{visit.pk}-{name}">' in page, name
    assert f'id="visit-{visit.pk}-response"' in page
