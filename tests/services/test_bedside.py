"""Hand-offs of a bag, bedside verification and the infusion record
(batches/services/bedside.py), called directly."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import BedsideCheck, CustodyEvent, DoseUnit, FollowUpVisit, Infusion
from batches.services import bedside, release
from carnk_mfg.signatures import signatures_for
from tests.batch_steps import scan
from tests.factories import PASSWORD, RecipientFactory
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned_bag(released_batch, clinical):
    bag = DoseUnit.objects.get(batch=released_batch, division="A0")
    return release.dose_assign(
        actor=clinical, dose_unit=bag, recipient=released_batch.intended_recipient, level_code="DL2"
    )


def hand_off(actor, bag, kind="issue", **changes):
    args = {
        "released_by": "qa1",
        "received_by": "clinical1",
        "from_location": "Cell therapy lab",
        "to_location": "Ward 7",
        "occurred_at": timezone.now(),
        "temperature_c": Decimal("-150"),
        **changes,
    }
    return bedside.dose_custody(actor=actor, dose_unit=bag, kind=kind, **args)


# --- hand-offs ---


def test_issue_moves_an_assigned_bag_to_issued(assigned_bag, clinical, qa):
    event = hand_off(clinical, assigned_bag)
    assigned_bag.refresh_from_db()
    assert assigned_bag.status == "issued"
    event = CustodyEvent.objects.get(pk=event.pk)
    assert (event.kind, event.released_by, event.received_by) == ("issue", qa, clinical)
    reason = "Bag issue: Cell therapy lab -> Ward 7"
    assert_trailed(event, actor=clinical, reason=reason, label="insert")
    assert_trailed(assigned_bag, actor=clinical, reason=reason, label="update")


def test_ship_and_receive_follow_the_issue(issued_bag, clinical, qa):
    hand_off(clinical, issued_bag, "ship", from_location="Lab", to_location="Courier")
    hand_off(clinical, issued_bag, "receive", from_location="Courier", to_location="Ward 7")
    kinds = list(CustodyEvent.objects.filter(dose_unit=issued_bag).values_list("kind", flat=True))
    assert kinds == ["issue", "ship", "receive"]
    assert DoseUnit.objects.get(pk=issued_bag.pk).status == "issued"


@pytest.mark.parametrize(
    "kind, changes, field",
    [
        ("drop", {}, "kind"),
        ("issue", {"received_by": "nobody"}, "received_by"),
        ("issue", {"received_by": "qa1"}, "received_by"),
        ("issue", {"temperature_c": Decimal("80")}, "temperature_c"),
        ("issue", {"occurred_at": timezone.now() + timedelta(hours=1)}, "occurred_at"),
        ("issue", {"occurred_at": timezone.now() - timedelta(days=2)}, "occurred_at"),
        ("ship", {}, "kind"),
    ],
    ids=["kind", "no-such-user", "same-person", "temperature", "future", "before-filled", "ship"],
)
def test_hand_off_refuses(assigned_bag, clinical, kind, changes, field):
    with unchanged(assigned_bag), pytest.raises(ValidationError) as exc:
        hand_off(clinical, assigned_bag, kind, **changes)
    assert field in exc.value.message_dict


def test_issue_needs_an_assigned_bag(released_batch, clinical):
    bag = DoseUnit.objects.get(batch=released_batch, division="B0")
    with unchanged(bag), pytest.raises(ValidationError, match="not assigned to a recipient"):
        hand_off(clinical, bag)


def test_hand_off_is_clinical(assigned_bag, technician):
    with unchanged(assigned_bag), pytest.raises(PermissionDenied):
        hand_off(technician, assigned_bag)


# --- bedside verification ---


def verify(actor, bag, wristband="CARNK-QC"):
    bag_code, product = scan(bag)
    return bedside.bedside_verify(
        actor=actor, scanned_bag=bag_code, scanned_product_code=product, scanned_wristband=wristband
    )


def test_verify_records_a_match(issued_bag, clinical):
    check = BedsideCheck.objects.get(pk=verify(clinical, issued_bag).pk)
    assert (check.outcome, check.reasons, check.dose_unit) == ("match", [], issued_bag)
    assert check.recipient is not None
    assert (check.recipient.subject_id, check.checked_by) == ("CARNK-QC", clinical)
    assert_trailed(check, actor=clinical, reason="Bedside verification", label="insert")


def test_verify_records_a_blocked_check_too(issued_bag, clinical):
    RecipientFactory.create(subject_id="CARNK-OTHER")
    check = BedsideCheck.objects.get(pk=verify(clinical, issued_bag, "CARNK-OTHER").pk)
    assert check.outcome == "blocked"
    assert "WRONG RECIPIENT: this bag is for CARNK-QC" in check.reasons[0]
    assert_trailed(check, actor=clinical, reason="Bedside verification", label="insert")


@pytest.mark.parametrize(
    "bag_status, expires_in, wristband, says",
    [
        ("issued", timedelta(days=1), "CARNK-NOBODY", "No recipient with wristband"),
        ("assigned", timedelta(days=1), "CARNK-QC", "not released and issued"),
        ("infused", timedelta(days=1), "CARNK-QC", "already been infused"),
        ("recalled", timedelta(days=1), "CARNK-QC", "RECALLED"),
        ("issued", timedelta(minutes=-1), "CARNK-QC", "expired"),
    ],
)
def test_verify_blocks(issued_bag, clinical, bag_status, expires_in, wristband, says):
    DoseUnit.objects.filter(pk=issued_bag.pk).update(
        status=bag_status, expires_at=timezone.now() + expires_in
    )
    check = verify(clinical, issued_bag, wristband)
    assert check.outcome == "blocked"
    assert says in " ".join(check.reasons)


@pytest.mark.parametrize(
    "bag_code, product, says",
    [("hello", "=<S1145VA0", "not a valid DIN"), (None, "", "product code barcode too")],
)
def test_verify_blocks_a_scan_that_names_no_bag(issued_bag, clinical, bag_code, product, says):
    check = bedside.bedside_verify(
        actor=clinical,
        scanned_bag=bag_code or scan(issued_bag)[0],
        scanned_product_code=product,
        scanned_wristband="CARNK-QC",
    )
    assert (check.outcome, check.dose_unit) == ("blocked", None)
    assert says in check.reasons[0]


def test_verify_is_clinical(issued_bag, qa):
    with unchanged(issued_bag), pytest.raises(PermissionDenied):
        verify(qa, issued_bag)


# --- the infusion (signed) ---


def infuse(actor, check, password=PASSWORD, **changes):
    args = {
        "started_at": check.checked_at,
        "ended_at": timezone.now(),
        "volume_ml": Decimal("4.4"),
        "vitals": {"pre": {"hr": 80}},
        **changes,
    }
    return bedside.infusion_record(actor=actor, password=password, check=check, **args)


def test_infusion_marks_the_bag_schedules_visits_signed(issued_bag, clinical):
    infusion = infuse(clinical, verify(clinical, issued_bag))
    infusion = Infusion.objects.get(pk=infusion.pk)
    assert (infusion.dose_unit, infusion.administered_by) == (issued_bag, clinical)
    assert DoseUnit.objects.get(pk=issued_bag.pk).status == "infused"
    assert FollowUpVisit.objects.filter(infusion=infusion).count() > 0
    (signature,) = signatures_for(infusion)
    assert (signature.meaning, signature.signer) == ("performed", clinical)
    reason = f"Infusion of bag {issued_bag} into CARNK-QC"
    assert_trailed(infusion, actor=clinical, reason=reason, label="insert")


def test_infusion_refuses_a_blocked_check(issued_bag, clinical):
    RecipientFactory.create(subject_id="CARNK-OTHER")
    check = verify(clinical, issued_bag, "CARNK-OTHER")
    with unchanged(issued_bag), pytest.raises(ValidationError, match="check blocked"):
        infuse(clinical, check)


def test_infusion_refuses_a_check_older_than_30_minutes(issued_bag, clinical):
    with time_machine.travel(timezone.now() - timedelta(minutes=31), tick=True):
        check = verify(clinical, issued_bag)
    with unchanged(issued_bag), pytest.raises(ValidationError, match="check is too old"):
        infuse(clinical, check, started_at=timezone.now())


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"ended_at": timezone.now() - timedelta(days=1)}, "ended_at"),
        ({"volume_ml": Decimal("0")}, "volume_ml"),
        ({"vitals": "fine"}, "vitals"),
        ({"started_at": timezone.now() - timedelta(hours=2)}, "started_at"),
    ],
    ids=["ends-before-start", "volume", "vitals", "before-check"],
)
def test_infusion_refuses(issued_bag, clinical, changes, field):
    check = verify(clinical, issued_bag)
    with unchanged(issued_bag), pytest.raises(ValidationError) as exc:
        infuse(clinical, check, **changes)
    assert field in exc.value.message_dict


def test_infusion_refuses_a_bag_already_infused(issued_bag, clinical):
    check = verify(clinical, issued_bag)
    infuse(clinical, check)
    with unchanged(issued_bag), pytest.raises(ValidationError, match="not issued"):
        infuse(clinical, check)


def test_infusion_is_clinical(issued_bag, clinical, qa):
    check = verify(clinical, issued_bag)
    with unchanged(issued_bag), pytest.raises(PermissionDenied):
        infuse(qa, check)


def test_infusion_refuses_a_wrong_password(issued_bag, clinical):
    check = verify(clinical, issued_bag)
    with unchanged(issued_bag, signing_failures=1), pytest.raises(ValidationError) as exc:
        infuse(clinical, check, password="wrong")
    assert "password" in exc.value.message_dict


# --- a match that is minutes old; what the scanner may send ---


def test_a_match_25_minutes_old_still_starts_the_infusion(issued_bag, clinical):
    with time_machine.travel(timezone.now() - timedelta(minutes=25), tick=True):
        check = verify(clinical, issued_bag)
    assert check.outcome == "match"
    infusion = infuse(clinical, check, started_at=timezone.now() - timedelta(minutes=20))
    assert DoseUnit.objects.get(pk=issued_bag.pk).status == "infused"
    assert infusion.recipient.subject_id == "CARNK-QC"


def test_verify_takes_a_typed_din_with_its_check_character(issued_bag, clinical):
    from carnk_mfg import isbt128

    din = issued_bag.batch.coi_identifier
    check = bedside.bedside_verify(
        actor=clinical,
        scanned_bag=din + isbt128.check_character(din),
        scanned_product_code=f"=<S1145V{issued_bag.division}",
        scanned_wristband="CARNK-QC",
    )
    assert check.outcome == "match"


def test_verify_blocks_a_product_code_of_no_bag(issued_bag, clinical):
    bag_code, _ = scan(issued_bag)
    check = bedside.bedside_verify(
        actor=clinical,
        scanned_bag=bag_code,
        scanned_product_code="=<S1145VZ9",
        scanned_wristband="CARNK-QC",
    )
    assert check.outcome == "blocked"
    assert "No bag" in " ".join(check.reasons)
