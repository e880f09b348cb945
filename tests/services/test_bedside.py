"""Hand-offs of a bag, bedside verification and the infusion record
(batches/services/bedside.py), called directly."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import BedsideCheck, CustodyEvent, DoseUnit, FollowUpVisit, Infusion
from batches.services import bedside, release
from carnk_mfg.signatures import signatures_for
from tests.batch_steps import bedside_scans, coi_scan, scan
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
        "released_by_password": PASSWORD,
        "received_by": "clinical1",
        "received_by_password": PASSWORD,
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
    # Each party confirmed with their own password: a signature each, on the hand-off.
    signed = {(s.signer, s.meaning, s.comment) for s in signatures_for(event)}
    assert signed == {
        (qa, "performed", "Released the bag"),
        (clinical, "performed", "Received the bag"),
    }


@pytest.mark.parametrize("wrong", ["released_by_password", "received_by_password"])
def test_a_wrong_password_of_either_party_writes_nothing(assigned_bag, clinical, wrong):
    with unchanged(assigned_bag, signing_failures=1), pytest.raises(ValidationError) as exc:
        hand_off(clinical, assigned_bag, **{wrong: "not-their-password"})
    assert list(exc.value.message_dict) == [wrong]
    assert not CustodyEvent.objects.exists()


def test_a_wrong_password_counts_against_that_party_only(assigned_bag, clinical, qa):
    from carnk_mfg.models import SignatureFailure

    with pytest.raises(ValidationError):
        hand_off(clinical, assigned_bag, received_by_password="nope")
    assert list(SignatureFailure.objects.values_list("user", flat=True)) == [clinical.pk]


def test_a_courier_ships_and_receives_but_does_not_issue(issued_bag, clinical, courier):
    # A bag already issued is carried: the courier takes it, then hands it over on the ward.
    shipped = hand_off(
        courier,
        issued_bag,
        "ship",
        released_by="clinical1",
        received_by="courier1",
        from_location="Lab",
        to_location="Courier",
    )
    hand_off(
        courier,
        issued_bag,
        "receive",
        released_by="courier1",
        received_by="clinical1",
        from_location="Courier",
        to_location="Ward 7",
    )
    assert {s.signer for s in signatures_for(shipped)} == {
        courier,
        shipped.released_by,
    }
    other = DoseUnit.objects.get(batch=issued_bag.batch, division="B0")
    other = release.dose_assign(
        actor=clinical, dose_unit=other, recipient=issued_bag.recipient, level_code="DL2"
    )
    with unchanged(other), pytest.raises(PermissionDenied):
        hand_off(courier, other, received_by="courier1")


def test_someone_who_may_not_hand_off_is_no_party(assigned_bag, clinical, qc_analyst):
    with unchanged(assigned_bag), pytest.raises(ValidationError) as exc:
        hand_off(clinical, assigned_bag, released_by=qc_analyst.username)
    assert "may not sign for a bag" in exc.value.message_dict["released_by"][0]


def test_ship_and_receive_follow_the_issue(issued_bag, clinical, qa):
    # Each is given by whoever received the one before.
    hand_off(clinical, issued_bag, "ship", released_by="clinical1", received_by="qa1")
    hand_off(clinical, issued_bag, "receive")
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


IN_AN_HOUR = timezone.now() + timedelta(hours=1)


@pytest.mark.parametrize(
    "changes, field, says",
    [
        ({"released_by": "qa1", "received_by": "courier1"}, "released_by", "clinical1 holds"),
        ({"released_by": "courier1", "received_by": "qa1"}, "released_by", "clinical1 holds"),
        (
            {"released_by": "clinical1", "received_by": "courier1", "occurred_at": IN_AN_HOUR},
            "occurred_at",
            "in the future",
        ),
        ({"released_by": "clinical1", "received_by": "clinical1"}, "received_by", "two different"),
    ],
    ids=[
        "giver-who-never-held-it",
        "courier-who-does-not-hold-it",
        "future",
        "same-person",
    ],
)
def test_a_ship_continues_the_chain(issued_bag, clinical, courier, changes, field, says):
    """The issued bag is held by clinical1 (it received the issue an hour ago)."""
    with unchanged(issued_bag), pytest.raises(ValidationError) as exc:
        hand_off(courier, issued_bag, "ship", **changes)
    assert says in exc.value.message_dict[field][0]
    assert CustodyEvent.objects.filter(dose_unit=issued_bag).count() == 1


def test_a_hand_off_before_the_previous_one_is_refused(issued_bag, clinical, courier):
    hand_off(courier, issued_bag, "ship", released_by="clinical1", received_by="courier1")
    half_an_hour_ago = timezone.now() - timedelta(minutes=30)  # after the bag was filled
    with unchanged(issued_bag), pytest.raises(ValidationError) as exc:
        hand_off(
            courier,
            issued_bag,
            "receive",
            released_by="courier1",
            received_by="clinical1",
            occurred_at=half_an_hour_ago,
        )
    assert "before the bag's previous hand-off" in exc.value.message_dict["occurred_at"][0]


def test_the_same_hand_off_twice_is_refused_the_second_time(issued_bag, clinical, courier):
    args = {"released_by": "clinical1", "received_by": "courier1"}
    hand_off(courier, issued_bag, "ship", **args)
    with unchanged(issued_bag), pytest.raises(ValidationError, match="courier1 holds the bag"):
        hand_off(courier, issued_bag, "ship", **args)


def test_an_infused_bag_is_handed_off_no_more(issued_bag, clinical):
    start(clinical, verify(clinical, issued_bag))
    with unchanged(issued_bag), pytest.raises(ValidationError) as exc:
        hand_off(clinical, issued_bag, "ship", released_by="clinical1", received_by="qa1")
    assert "infused" in exc.value.message_dict["kind"][0].lower()


# --- bedside verification ---


def verify(actor, bag, wristband="CARNK-QC", **overrides):
    return bedside.bedside_verify(actor=actor, **bedside_scans(bag, wristband, **overrides))


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
    check = verify(
        clinical,
        issued_bag,
        scanned_bag=bag_code or scan(issued_bag)[0],
        scanned_product_code=product,
    )
    assert (check.outcome, check.dose_unit) == ("blocked", None)
    assert says in check.reasons[0]


# --- what the bedside compares: the full product code, the Chain of Identity, two patient
# identifiers ---


@pytest.mark.clause("ISBT 128 ST-028 Chain of Identity", "Joint Commission NPSG.01.01.01")
def test_verify_matches_with_the_chain_and_either_second_identifier(issued_bag, clinical):
    recipient = issued_bag.recipient
    by_dob = verify(clinical, issued_bag)
    by_mrn = verify(
        clinical,
        issued_bag,
        date_of_birth=None,
        medical_record_number=f" {recipient.medical_record_number.lower()} ",
    )
    both = verify(clinical, issued_bag, medical_record_number=recipient.medical_record_number)
    assert [c.outcome for c in (by_dob, by_mrn, both)] == ["match"] * 3
    # The check keeps what was scanned and given.
    assert by_dob.scanned_coi == coi_scan(issued_bag)
    assert by_dob.scanned_date_of_birth == recipient.date_of_birth
    assert by_mrn.scanned_medical_record_number.strip().upper() == recipient.medical_record_number


@pytest.mark.clause(
    "ISBT 128 ST-028 Chain of Identity",
    "Joint Commission NPSG.01.01.01",
    "ISBT 128 ST-001 product code",
)
@pytest.mark.parametrize(
    "overrides, says",
    [
        ({"date_of_birth": date(1980, 5, 18)}, "WRONG PATIENT: the date of birth given is not"),
        (
            {"date_of_birth": None, "medical_record_number": "MRN-NOT-HERS"},
            "WRONG PATIENT: the medical record number given is not",
        ),
        (
            {"medical_record_number": "MRN-NOT-HERS"},  # a right date of birth does not cover it
            "WRONG PATIENT: the medical record number given is not",
        ),
        ({"date_of_birth": None}, "Give the patient's date of birth or medical record number"),
        ({"scanned_product_code": "=<S1145DA0"}, "WRONG PRODUCT: the product code scanned"),
        ({"scanned_coi": ""}, "Scan the bag's Chain of Identity barcode"),
        ({"scanned_coi": "W04202699999999"}, "needs its check character"),
        ({"scanned_coi": "W042026999999995"}, "check character for W04202699999999 is"),
    ],
)
def test_verify_blocks_a_wrong_or_missing_identifier(issued_bag, clinical, overrides, says):
    check = verify(clinical, issued_bag, **overrides)
    assert check.outcome == "blocked"
    assert says in " ".join(check.reasons), check.reasons
    assert BedsideCheck.objects.filter(pk=check.pk, outcome="blocked").exists()


@pytest.mark.clause("ISBT 128 ST-028 Chain of Identity")
def test_verify_blocks_the_chain_of_another_patient(issued_bag, clinical, technician):
    """The chain of the same batch for another recipient, well formed: the wrong chain."""
    from batches.services.chain_of_identity import chain_of_identity_assign_locked
    from carnk_mfg import isbt128

    other = chain_of_identity_assign_locked(
        actor=technician, batch=issued_bag.batch, recipient=RecipientFactory.create()
    ).identifier
    check = verify(clinical, issued_bag, scanned_coi=other + isbt128.coi_check_character(other))
    assert check.outcome == "blocked"
    assert f"WRONG CHAIN OF IDENTITY: the identifier scanned is {other}" in " ".join(check.reasons)


@pytest.mark.clause("Joint Commission NPSG.01.01.01")
def test_verify_is_blocked_without_a_second_identifier_on_file(issued_bag, clinical):
    from batches.models import Recipient

    Recipient.objects.filter(pk=issued_bag.recipient_id).update(
        date_of_birth=None, medical_record_number=""
    )
    check = verify(clinical, issued_bag, date_of_birth=date(1980, 5, 17))
    assert check.outcome == "blocked"
    assert "No date of birth or medical record number is on file for CARNK-QC" in check.reasons[0]


def test_verify_is_clinical(issued_bag, qa):
    with unchanged(issued_bag), pytest.raises(PermissionDenied):
        verify(qa, issued_bag)


# --- the infusion (signed): start, then completion ---


def infuse(actor, check, password=PASSWORD, **changes):
    """Start and completion in one call (the API's one-call infusion)."""
    args = {
        "started_at": check.checked_at,
        "ended_at": timezone.now(),
        "volume_ml": Decimal("4.4"),
        "vitals": {"pre": {"hr": 80}},
        **changes,
    }
    return bedside.infusion_record(actor=actor, password=password, check=check, **args)


def start(actor, check, password=PASSWORD, **changes):
    args = {"started_at": check.checked_at, "vitals_before": {"hr": 80}, **changes}
    return bedside.infusion_start(actor=actor, password=password, check=check, **args)


def complete(actor, infusion, password=PASSWORD, **changes):
    args = {
        "ended_at": timezone.now(),
        "volume_ml": Decimal("4.4"),
        "vitals": {"post": {"hr": 84}},
        "reactions": "Chills at 10 min, settled",
        **changes,
    }
    return bedside.infusion_complete(actor=actor, password=password, infusion=infusion, **args)


def test_start_marks_the_bag_schedules_visits_and_is_in_progress(issued_bag, clinical):
    infusion = Infusion.objects.get(pk=start(clinical, verify(clinical, issued_bag)).pk)
    assert (infusion.dose_unit, infusion.administered_by) == (issued_bag, clinical)
    assert infusion.in_progress and infusion.volume_ml is None and infusion.completed_by is None
    assert infusion.vitals == {"pre": {"hr": 80}}
    assert DoseUnit.objects.get(pk=issued_bag.pk).status == "infused"
    assert FollowUpVisit.objects.filter(infusion=infusion).count() > 0
    (signature,) = signatures_for(infusion)
    assert (signature.meaning, signature.signer, signature.attests) == (
        "performed",
        clinical,
        "infusion_start",
    )
    reason = f"Start of the infusion of {issued_bag} into CARNK-QC"
    assert_trailed(infusion, actor=clinical, reason=reason, label="insert")


def test_completion_is_its_own_signed_write(issued_bag, clinical):
    from carnk_mfg.signatures import signature_intact

    started = start(clinical, verify(clinical, issued_bag))
    done = complete(clinical, started)
    done = Infusion.objects.get(pk=done.pk)
    assert not done.in_progress
    assert (done.volume_ml, done.completed_by) == (Decimal("4.4"), clinical)
    assert done.vitals == {"pre": {"hr": 80}, "post": {"hr": 84}}
    assert done.reactions == "Chills at 10 min, settled"
    first, second = signatures_for(done).order_by("signed_at", "id")
    assert (first.attests, second.attests) == ("infusion_start", "record")
    # The completion does not disturb what the start's signature attests.
    assert signature_intact(first, done) and signature_intact(second, done)
    reason = f"Completion of the infusion of {issued_bag} into CARNK-QC"
    assert_trailed(done, actor=clinical, reason=reason, label="update")


def test_a_completion_before_the_start_is_refused(issued_bag, clinical):
    started = start(clinical, verify(clinical, issued_bag))
    with unchanged(started), pytest.raises(ValidationError) as exc:
        complete(clinical, started, ended_at=started.started_at - timedelta(minutes=1))
    assert "ends after it starts" in exc.value.message_dict["ended_at"][0]


def test_an_infusion_is_completed_once(issued_bag, clinical):
    started = start(clinical, verify(clinical, issued_bag))
    complete(clinical, started)
    with unchanged(started), pytest.raises(ValidationError, match="was completed at"):
        complete(clinical, started)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"volume_ml": Decimal("0")}, "volume_ml"),
        ({"vitals": "fine"}, "vitals"),
        ({"vitals": {"pre": {"hr": 1}}}, "vitals"),
        ({"ended_at": timezone.now() + timedelta(hours=1)}, "ended_at"),
    ],
    ids=["volume", "vitals", "vitals-before-again", "future"],
)
def test_completion_refuses(issued_bag, clinical, changes, field):
    started = start(clinical, verify(clinical, issued_bag))
    with unchanged(started), pytest.raises(ValidationError) as exc:
        complete(clinical, started, **changes)
    assert field in exc.value.message_dict


def test_completion_refuses_a_wrong_password_and_stays_in_progress(issued_bag, clinical):
    started = start(clinical, verify(clinical, issued_bag))
    with unchanged(started, signing_failures=1), pytest.raises(ValidationError) as exc:
        complete(clinical, started, password="wrong")
    assert "password" in exc.value.message_dict
    assert Infusion.objects.get(pk=started.pk).in_progress


def test_completion_is_clinical(issued_bag, clinical, qa):
    started = start(clinical, verify(clinical, issued_bag))
    with unchanged(started), pytest.raises(PermissionDenied):
        complete(qa, started)


def test_the_one_call_infusion_is_start_and_completion(issued_bag, clinical):
    infusion = Infusion.objects.get(pk=infuse(clinical, verify(clinical, issued_bag)).pk)
    assert not infusion.in_progress
    assert [s.attests for s in signatures_for(infusion).order_by("id")] == [
        "infusion_start",
        "record",
    ]


def test_the_one_call_infusion_leaves_no_start_when_the_completion_is_refused(issued_bag, clinical):
    check = verify(clinical, issued_bag)
    with unchanged(issued_bag), pytest.raises(ValidationError) as exc:
        infuse(clinical, check, volume_ml=None)
    assert "volume_ml" in exc.value.message_dict
    assert not Infusion.objects.exists()


def test_infusion_refuses_a_blocked_check(issued_bag, clinical):
    RecipientFactory.create(subject_id="CARNK-OTHER")
    check = verify(clinical, issued_bag, "CARNK-OTHER")
    with unchanged(issued_bag), pytest.raises(ValidationError, match="check blocked"):
        start(clinical, check)


def test_infusion_refuses_a_check_older_than_30_minutes(issued_bag, clinical):
    with time_machine.travel(timezone.now() - timedelta(minutes=31), tick=True):
        check = verify(clinical, issued_bag)
    with unchanged(issued_bag), pytest.raises(ValidationError, match="check is too old"):
        start(clinical, check, started_at=timezone.now())


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
    start(clinical, check)
    with unchanged(issued_bag), pytest.raises(ValidationError, match="not issued"):
        start(clinical, check)


def test_infusion_is_clinical(issued_bag, clinical, qa):
    check = verify(clinical, issued_bag)
    with unchanged(issued_bag), pytest.raises(PermissionDenied):
        start(qa, check)


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


@pytest.mark.clause("ISBT 128 DIN")
def test_verify_takes_a_typed_din_with_its_check_character(issued_bag, clinical):
    from carnk_mfg import isbt128

    din = issued_bag.batch.din
    check = verify(clinical, issued_bag, scanned_bag=din + isbt128.check_character(din))
    assert check.outcome == "match"


def test_verify_blocks_a_product_code_of_no_bag(issued_bag, clinical):
    check = verify(clinical, issued_bag, scanned_product_code="=<S1145VZ9")
    assert check.outcome == "blocked"
    assert "No bag" in " ".join(check.reasons)
