"""The ward's side of the demo: lymphodepletion before the infusion, the bag's issue, the
bedside check and the infusion itself, each at the time it would have happened."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.utils import timezone

from batches.documents.labels import din_data_structure, product_code_data_structure
from batches.management.demo import DEMO_PASSWORD, at
from batches.models import BedsideCheck, DoseUnit, Infusion, Recipient
from batches.selectors import chain_of_identity
from batches.services import bedside, clinical, recipients
from carnk_mfg import isbt128

if TYPE_CHECKING:
    from batches.management.demo.lifecycle import Lab

DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


def lymphodeplete(
    lab: Lab, subject_id: str, infusion_on: date, days: tuple[int, ...] = (-5, -4, -3)
) -> None:
    """The infusion planned for `infusion_on`, and the regimen given on `days` before it,
    each day's doses recorded that morning (1.80 m2)."""
    clinic = lab.people.clinic
    recipient = Recipient.objects.get(subject_id=subject_id)
    with at(lab.now - 9 * DAY):
        recipients.recipient_update(
            actor=clinic,
            recipient=recipient,
            reason="Infusion planned",
            planned_infusion_on=infusion_on,
        )
    for day in days:
        given_on = infusion_on + day * DAY
        with at(datetime.combine(given_on, time(11), tzinfo=lab.now.tzinfo)):
            for agent, mg_per_m2 in (("fludarabine", "30"), ("cyclophosphamide", "500")):
                recipients.lymphodepletion_record(
                    actor=clinic,
                    recipient=recipient,
                    agent=agent,
                    dose_mg_per_m2=Decimal(mg_per_m2),
                    body_surface_area_m2=Decimal("1.80"),
                    given_on=given_on,
                )


def issue(lab: Lab, bag: DoseUnit, when: datetime, to: User | None = None) -> None:
    """The lab hands the bag over to the ward's nurse (or to the courier who carries it)."""
    with at(when):
        bedside.dose_custody(
            actor=lab.people.clinic,
            dose_unit=bag,
            kind="issue",
            released_by=lab.people.tech.username,
            released_by_password=DEMO_PASSWORD,
            received_by=(to or lab.people.clinic).username,
            received_by_password=DEMO_PASSWORD,
            from_location="Cell therapy lab, LN2-02",
            to_location="Ward 7 infusion suite",
            occurred_at=when,
            temperature_c=Decimal("-150"),
        )


def _coi_scan(bag: DoseUnit) -> str:
    """The bag's Chain of Identity barcode as a scanner reads it."""
    identifier = chain_of_identity(bag.batch, bag.recipient_id)
    return identifier + isbt128.coi_check_character(identifier) if identifier else ""


# The wristband and bag are scanned this long before the infusion starts.
BEDSIDE_CHECK_LEAD = 5 * MINUTE


def bedside_day(start: datetime) -> date:
    """The lab's calendar day of the bedside check for an infusion starting at `start`."""
    return timezone.localdate(start - BEDSIDE_CHECK_LEAD)


def bedside_check(lab: Lab, bag: DoseUnit, start: datetime) -> BedsideCheck:
    """The bag, its Chain of Identity and the wristband scanned just before `start`."""
    assert bag.recipient is not None, "an assigned bag"
    with at(start - BEDSIDE_CHECK_LEAD):
        return bedside.bedside_verify(
            actor=lab.people.clinic,
            scanned_bag=din_data_structure(bag.batch.din),
            scanned_product_code=product_code_data_structure(bag.product_code),
            scanned_coi=_coi_scan(bag),
            scanned_wristband=bag.recipient.subject_id,
            date_of_birth=bag.recipient.date_of_birth,
            medical_record_number=bag.recipient.medical_record_number,
        )


def infuse(lab: Lab, bag: DoseUnit, start: datetime) -> Infusion:
    """Issued two hours before `start`, scanned at the bedside, infused over half an hour."""
    clinic = lab.people.clinic
    issue(lab, bag, start - 2 * HOUR)
    bag.refresh_from_db()
    assert bag.recipient is not None and bag.dose_volume_ml is not None, "an assigned bag"
    check = bedside_check(lab, bag, start)
    with at(start + 35 * MINUTE):
        infusion = bedside.infusion_record(
            actor=clinic,
            password=DEMO_PASSWORD,
            check=check,
            started_at=start,
            ended_at=start + 30 * MINUTE,
            volume_ml=bag.dose_volume_ml,
            vitals={"pre": {"hr": 78, "bp": "124/78", "temp_c": 36.8, "spo2": 98}},
        )
    return baseline_sample(lab, infusion, start + 40 * MINUTE)


def baseline_sample(lab: Lab, infusion: Infusion, when: datetime) -> Infusion:
    """The recipient's pre-treatment RCR sample, taken at screening, recorded after the
    infusion started (the visit is scheduled then)."""
    with at(when):
        clinical.follow_up_record(
            actor=lab.people.clinic,
            visit=infusion.visits.get(day=0),
            done_at=infusion.started_at - 6 * 24 * HOUR,
            rcr_result="archived",
        )
    return infusion


def start_infusion(lab: Lab, bag: DoseUnit, start: datetime) -> Infusion:
    """Issued an hour before `start`, scanned at the bedside and started: still running."""
    clinic = lab.people.clinic
    issue(lab, bag, start - HOUR)
    bag.refresh_from_db()
    assert bag.recipient is not None, "an assigned bag"
    check = bedside_check(lab, bag, start)
    with at(start + MINUTE):
        infusion = bedside.infusion_start(
            actor=clinic,
            password=DEMO_PASSWORD,
            check=check,
            started_at=start,
            vitals_before={"hr": 82, "bp": "118/76", "temp_c": 36.9, "spo2": 97},
        )
    return baseline_sample(lab, infusion, start + 2 * MINUTE)
