"""A conditional release and what its pending tests do when they come back: out of
specification, the batch is recalled at once (bags blocked everywhere, a lookback of infused
bags, QA and clinical staff told); in specification and reviewed, the release is confirmed.
Through the API, with the pages that show it."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from batches.models import DoseUnit, LookbackEntry, Recall, ReleaseDecision
from batches.services import bedside, release
from qc.models import Notification, QcTest
from tests.batch_steps import bedside_scans, formulate, lymphodeplete, result_all, scan
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_analyst(db):
    return UserFactory(username="qc-b", role="qc_analyst")


@pytest.fixture
def conditionally_released(in_qc_batch, qc_analyst, second_analyst, technician, qa, clinical):
    """Released while sterility and RCR are pending; bag A0 infused into its recipient, bag
    B0 issued to the ward, bag C0 still on the shelf."""
    result_all(in_qc_batch, qc_analyst, second_analyst, skip={"sterility", "rcr"})
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=2), tick=True):
        formulate(in_qc_batch, technician, ("A0", "B0", "C0"), presentation="fresh", volume="30")
        release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
        release.batch_release_decide(
            actor=qa,
            password=PASSWORD,
            batch=in_qc_batch,
            decision="release",
            reason="Conditional: sterility and RCR pending",
            conditional=True,
        )
        recipient = in_qc_batch.intended_recipient
        lymphodeplete(recipient, clinical)
        for division in ("A0", "B0"):
            bag = DoseUnit.objects.get(batch=in_qc_batch, division=division)
            release.dose_assign(
                actor=clinical, dose_unit=bag, recipient=recipient, level_code="DL2"
            )
            bedside.dose_custody(
                actor=clinical,
                dose_unit=bag,
                kind="issue",
                released_by=qa.username,
                released_by_password=PASSWORD,
                received_by=clinical.username,
                received_by_password=PASSWORD,
                from_location="Cell therapy lab",
                to_location="Ward 7",
                occurred_at=timezone.now(),
            )
        infused = DoseUnit.objects.get(batch=in_qc_batch, division="A0")
        check = bedside.bedside_verify(actor=clinical, **bedside_scans(infused))
    bedside.infusion_record(
        actor=clinical,
        password=PASSWORD,
        check=check,
        started_at=check.checked_at + timedelta(minutes=5),
        ended_at=check.checked_at + timedelta(minutes=35),
        volume_ml=Decimal("4.4"),
        vitals={"pre": {"hr": 80}},
    )
    return in_qc_batch


def pending_test(batch, code):
    return QcTest.objects.get(batch=batch, definition__code=code)


def statuses(batch):
    return dict(DoseUnit.objects.filter(batch=batch).values_list("division", "status"))


def test_a_positive_sterility_result_recalls_the_batch_at_once(
    api,
    client,
    conditionally_released,
    qc_analyst,
    qa,
    clinical,
    django_capture_on_commit_callbacks,
):
    batch = conditionally_released
    sterility = pending_test(batch, "sterility")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(qc_analyst).post(
            f"/api/v1/qc-tests/{sterility.pk}/result/", {"value": "positive"}, format="json"
        )
    assert response.status_code == 200, response.json()
    # Recorded, not lost.
    sterility.refresh_from_db()
    assert sterility.state == "resulted" and sterility.in_spec is False
    # The batch is recalled; every bag not in a patient is recalled with it.
    batch.refresh_from_db()
    assert batch.state == "recalled"
    assert statuses(batch) == {"A0": "infused", "B0": "recalled", "C0": "recalled"}
    recall = Recall.objects.get(batch=batch)
    assert recall.qc_test == sterility and "Sterility" in recall.reason
    # The lookback names the infused bag and its recipient.
    (entry,) = LookbackEntry.objects.filter(recall=recall)
    assert entry.dose_unit.division == "A0"
    assert entry.recipient.subject_id == batch.intended_recipient.subject_id
    # The release decision shows that it failed.
    detail = api.as_user(qa).get(f"/api/v1/batches/{batch.lot_number}/").json()
    assert detail["state"] == "recalled"
    assert detail["release_decision"]["status"] == "Conditional release FAILED: batch recalled"
    assert detail["release_decision"]["failed_at"] is not None
    assert detail["recall"]["lookback"][0]["recipient"] == batch.intended_recipient.subject_id
    decision = ReleaseDecision.objects.get(batch=batch)
    assert decision.failed_at is not None and decision.closed_at is not None
    # QA and clinical staff are told at once: an in-app notice and an e-mail each.
    told = Notification.objects.filter(recall=recall)
    assert {(n.recipient.username, n.channel) for n in told} >= {
        (qa.username, "email"),
        (qa.username, "in_app"),
        (clinical.username, "email"),
        (clinical.username, "in_app"),
    }
    assert all(n.sent_at is not None for n in told)
    recall_mail = [m for m in mail.outbox if m.subject.startswith("RECALL")]
    assert {qa.email, clinical.email} <= {address for m in recall_mail for address in m.to}
    assert "Already infused (lookback)" in recall_mail[0].body


def test_a_recalled_bag_is_blocked_everywhere(api, conditionally_released, qc_analyst, clinical):
    batch = conditionally_released
    rcr = pending_test(batch, "rcr")
    api.as_user(qc_analyst).post(
        f"/api/v1/qc-tests/{rcr.pk}/result/", {"value": "positive"}, format="json"
    )
    issued = DoseUnit.objects.get(batch=batch, division="B0")
    shelf = DoseUnit.objects.get(batch=batch, division="C0")
    # At the bedside: blocked, with the reason.
    bag_code, product = scan(issued)
    response = api.as_user(clinical).post(
        "/api/v1/bedside-checks/",
        {
            "scanned_bag": bag_code,
            "scanned_product_code": product,
            "scanned_wristband": batch.intended_recipient.subject_id,
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["outcome"] == "blocked"
    assert any("RECALLED" in reason for reason in response.json()["reasons"])
    # Refused for dose assignment...
    response = api.as_user(clinical).post(
        f"/api/v1/doses/{shelf.pk}/assign/",
        {"recipient": batch.intended_recipient.subject_id, "dose_level": "DL2"},
        format="json",
    )
    assert response.status_code == 400 and "RECALLED" in str(response.json())
    # ...and for issue or any hand-off.
    response = api.as_user(clinical).post(
        f"/api/v1/doses/{issued.pk}/custody/",
        {
            "kind": "ship",
            "released_by": clinical.username,
            "released_by_password": PASSWORD,
            "received_by": "qa1",
            "received_by_password": PASSWORD,
            "from_location": "Ward 7",
            "to_location": "Ward 8",
            "occurred_at": timezone.now().isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400 and "RECALLED" in str(response.json())
    assert statuses(batch)["B0"] == "recalled"


def test_the_batch_and_release_pages_show_the_recall(
    client, api, conditionally_released, qc_analyst, qa
):
    batch = conditionally_released
    sterility = pending_test(batch, "sterility")
    api.as_user(qc_analyst).post(
        f"/api/v1/qc-tests/{sterility.pk}/result/", {"value": "positive"}, format="json"
    )
    client.force_login(qa)
    page = client.get(batch.get_absolute_url()).content.decode()
    assert 'id="recall"' in page and "RECALLED" in page
    assert "Conditional release FAILED" in page
    assert batch.intended_recipient.subject_id in page[page.index('id="recall"') :]
    queue = client.get(reverse("release-queue")).content.decode()
    assert 'id="recalls"' in queue and batch.lot_number in queue
    assert "Lookback" in queue


def test_in_spec_results_reviewed_confirm_the_conditional_release(
    api, client, conditionally_released, qc_analyst, second_analyst, qa
):
    batch = conditionally_released
    client.force_login(qa)
    assert "Conditional release open" in client.get(batch.get_absolute_url()).content.decode()
    queue = client.get(reverse("release-queue")).content.decode()
    assert 'id="conditional-releases"' in queue and batch.lot_number in queue
    for code in ("sterility", "rcr"):
        test = pending_test(batch, code)
        r = api.as_user(qc_analyst).post(
            f"/api/v1/qc-tests/{test.pk}/result/", {"value": "negative"}, format="json"
        )
        assert r.status_code == 200
        decision = ReleaseDecision.objects.get(batch=batch)
        assert decision.closed_at is None  # resulted is not enough: it is reviewed
        r = api.as_user(second_analyst).post(
            f"/api/v1/qc-tests/{test.pk}/review/", {"password": PASSWORD}, format="json"
        )
        assert r.status_code == 200, r.json()
    decision.refresh_from_db()
    assert decision.closed_at is not None and decision.failed_at is None
    detail = api.as_user(qa).get(f"/api/v1/batches/{batch.lot_number}/").json()
    assert detail["state"] == "released"
    assert detail["release_decision"]["status"].startswith("Conditional release confirmed")
    assert detail["recall"] is None
    assert not Recall.objects.exists()
    assert statuses(batch)["C0"] == "released"


def test_qa_recalls_a_released_batch_by_hand(api, conditionally_released, qa, clinical):
    batch = conditionally_released
    url = f"/api/v1/batches/{batch.lot_number}/recall/"
    assert api.as_user(qa).get(url).status_code == 404
    body = {"reason": "Supplier notice: feeder line contamination", "password": PASSWORD}
    assert api.as_user(clinical).post(url, body, format="json").status_code == 403
    response = api.as_user(qa).post(url, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["lookback"][0]["bag"].endswith("A0")
    assert api.as_user(qa).get(url).json()["reason"].startswith("Supplier notice")
    assert statuses(batch) == {"A0": "infused", "B0": "recalled", "C0": "recalled"}
    # Once only: the batch is no longer released.
    again = api.as_user(qa).post(url, body, format="json")
    assert again.status_code == 400 and "Only a released batch" in str(again.json())


def test_a_batch_that_is_not_released_cannot_be_recalled(api, in_qc_batch, qa):
    response = api.as_user(qa).post(
        f"/api/v1/batches/{in_qc_batch.lot_number}/recall/",
        {"reason": "x", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    in_qc_batch.refresh_from_db()
    assert in_qc_batch.state == "in_qc"
