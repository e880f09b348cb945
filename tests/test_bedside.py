"""Custody to the bedside, bedside verification (each mismatch blocks and is recorded), and
the signed infusion record."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.models import BedsideCheck, DoseUnit, Infusion
from batches.services import bedside, release
from carnk_mfg import isbt128
from tests.batch_steps import result_all
from tests.factories import PASSWORD, RecipientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued_bag(in_qc_batch, technician, qc_analyst, qa, clinical):
    result_all(in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    release.dose_units_formulate(
        actor=technician,
        password=PASSWORD,
        batch=in_qc_batch,
        bags=[
            {"division": d, "presentation": "cryopreserved", "volume_ml": Decimal("40")}
            for d in ("A0", "B0")
        ],
        expires_at=timezone.now() + timedelta(days=90),
    )
    release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
    release.batch_release_decide(
        actor=qa, password=PASSWORD, batch=in_qc_batch, decision="release", reason="ok"
    )
    bag = DoseUnit.objects.get(division="A0")
    release.dose_assign(
        actor=clinical, dose_unit=bag, recipient=in_qc_batch.intended_recipient, level_code="DL2"
    )
    bedside.dose_custody(
        actor=clinical,
        dose_unit=bag,
        kind="issue",
        released_by=qa.username,
        received_by=clinical.username,
        from_location="Cell therapy lab",
        to_location="Ward 7",
        occurred_at=timezone.now(),
        temperature_c=Decimal("-150"),
    )
    bag.refresh_from_db()
    return bag


def scan(bag):
    din = bag.batch.coi_identifier
    return isbt128.DIN.from_text(din).barcode(
        isbt128.computed_check_flags(din)
    ), f"=<S1145V{bag.division}"


def test_matching_scan_then_infusion(issued_bag, clinical):
    bag_code, product = scan(issued_bag)
    check = bedside.bedside_verify(
        actor=clinical,
        scanned_bag=bag_code,
        scanned_product_code=product,
        scanned_wristband="CARNK-QC",
    )
    assert check.outcome == "match" and check.reasons == []
    infusion = bedside.infusion_record(
        actor=clinical,
        password=PASSWORD,
        check=check,
        started_at=timezone.now() - timedelta(minutes=20),
        ended_at=timezone.now(),
        volume_ml=Decimal("4.4"),
        vitals={"pre": {"temp_c": 36.8, "hr": 80}, "post": {"temp_c": 37.0, "hr": 84}},
    )
    issued_bag.refresh_from_db()
    assert issued_bag.status == "infused" and infusion.recipient.subject_id == "CARNK-QC"


def test_typed_din_with_check_character_is_accepted(issued_bag, clinical):
    din = issued_bag.batch.coi_identifier
    check = bedside.bedside_verify(
        actor=clinical,
        scanned_bag=din + isbt128.check_character(din),
        scanned_product_code=f"=<S1145V{issued_bag.division}",
        scanned_wristband="CARNK-QC",
    )
    assert check.outcome == "match"


def blocked(clinical, bag_code, product, wristband):
    check = bedside.bedside_verify(
        actor=clinical,
        scanned_bag=bag_code,
        scanned_product_code=product,
        scanned_wristband=wristband,
    )
    assert check.outcome == "blocked"
    return " ".join(check.reasons)


def test_wrong_recipient_blocks(issued_bag, clinical):
    RecipientFactory(subject_id="CARNK-OTHER")
    assert "WRONG RECIPIENT" in blocked(clinical, *scan(issued_bag), "CARNK-OTHER")


def test_wrong_product_blocks(issued_bag, clinical):
    bag_code, _ = scan(issued_bag)
    assert "No bag" in blocked(clinical, bag_code, "=<S1145VZ9", "CARNK-QC")


def test_expired_bag_blocks(issued_bag, clinical):
    DoseUnit.objects.filter(pk=issued_bag.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert "expired" in blocked(clinical, *scan(issued_bag), "CARNK-QC")


def test_unreleased_bag_blocks(issued_bag, clinical):
    other = DoseUnit.objects.get(division="B0")  # released but never assigned or issued
    assert "not released and issued" in blocked(clinical, *scan(other), "CARNK-QC")


def test_already_infused_blocks(issued_bag, clinical):
    bag_code, product = scan(issued_bag)
    check = bedside.bedside_verify(
        actor=clinical,
        scanned_bag=bag_code,
        scanned_product_code=product,
        scanned_wristband="CARNK-QC",
    )
    bedside.infusion_record(
        actor=clinical,
        password=PASSWORD,
        check=check,
        started_at=timezone.now(),
        ended_at=timezone.now(),
        volume_ml=Decimal("4.4"),
        vitals={},
    )
    assert "already been infused" in blocked(clinical, bag_code, product, "CARNK-QC")


def test_garbage_scan_blocks_and_is_recorded(issued_bag, clinical):
    assert "not a valid DIN" in blocked(clinical, "hello", "", "nobody")
    assert BedsideCheck.objects.filter(outcome="blocked").count() == 1


def test_a_blocked_check_cannot_start_an_infusion(issued_bag, clinical):
    RecipientFactory(subject_id="CARNK-OTHER")
    check = bedside.bedside_verify(
        actor=clinical,
        scanned_bag=scan(issued_bag)[0],
        scanned_product_code=scan(issued_bag)[1],
        scanned_wristband="CARNK-OTHER",
    )
    with pytest.raises(ValidationError) as exc:
        bedside.infusion_record(
            actor=clinical,
            password=PASSWORD,
            check=check,
            started_at=timezone.now(),
            ended_at=timezone.now(),
            volume_ml=Decimal("4"),
            vitals={},
        )
    assert "blocked" in exc.value.message_dict["bedside_check"][0]
    assert Infusion.objects.count() == 0


def test_hand_off_needs_two_people(issued_bag, clinical):
    with pytest.raises(ValidationError):
        bedside.dose_custody(
            actor=clinical,
            dose_unit=issued_bag,
            kind="receive",
            released_by=clinical.username,
            received_by=clinical.username,
            from_location="a",
            to_location="b",
            occurred_at=timezone.now(),
        )
