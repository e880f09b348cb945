"""Custody to the bedside, bedside verification (each mismatch blocks and is recorded), and
the signed infusion record."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.models import BedsideCheck, DoseUnit, Infusion
from batches.services import bedside
from carnk_mfg import isbt128
from tests.batch_steps import scan
from tests.factories import PASSWORD, RecipientFactory

pytestmark = pytest.mark.django_db


def test_matching_scan_then_infusion(issued_bag, clinical):
    bag_code, product = scan(issued_bag)
    with time_machine.travel(timezone.now() - timedelta(minutes=25), tick=True):
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
