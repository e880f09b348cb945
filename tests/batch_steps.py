"""Valid payloads for each step of the default template, shared by the batch tests."""

from datetime import timedelta

import time_machine
from django.utils import timezone


def planned_days_ago(days: float):
    """Plan a batch (or do anything) as if `days` ago, the clock running on from there:
    steps, counts and hand-offs may not predate the batch's planning."""
    return time_machine.travel(timezone.now() - timedelta(days=days), tick=True)


def clock_days_ago(request, days: float):
    """`planned_days_ago` started for the first part of a long test, which calls the stop it
    returns; a test that fails before stops it at teardown, so the next test on this worker
    does not run on a clock in the past."""
    clock = planned_days_ago(days)
    clock.start()
    running = [clock]

    def stop() -> None:
        while running:
            running.pop().stop()

    request.addfinalizer(stop)
    return stop


def step_payloads(day0, din="G123498654321"):
    """(code, performed_at, values, materials) for the five default steps, on their days.
    The thaw step scans the source unit's DIN as typed with its check character."""
    from carnk_mfg import isbt128

    return [
        (
            "thaw_isolation",
            day0,
            {
                "cbu_din": din + isbt128.check_character(din),
                "post_thaw_tnc": 9e8,
                "post_thaw_viability_pct": 88,
                "nk_purity_pct": 92,
            },
            [{"kind": "reagent", "lot_number": "ISO-1"}],
        ),
        (
            "stimulation",
            day0 + timedelta(hours=3),
            {"feeder_nk_ratio": 2, "il2_iu_per_ml": 200, "feeder_irradiation_gy": 100},
            [{"kind": "feeder", "lot_number": "FD-1"}, {"kind": "reagent", "lot_number": "IL2-1"}],
        ),
        (
            "transduction",
            day0 + timedelta(days=5),
            {"vector_titer": 2e7, "moi": 10, "vector_volume_ml": 12},
            [{"kind": "vector", "lot_number": "RV-1"}, {"kind": "reagent", "lot_number": "RN-1"}],
        ),
        (
            "restimulation",
            day0 + timedelta(days=7),
            {"feeder_nk_ratio": 1},
            [{"kind": "feeder", "lot_number": "FD-1"}],
        ),
        (
            "harvest",
            day0 + timedelta(days=14),
            {
                "final_viable_cells": 3e9,
                "final_volume_ml": 100,
                "final_concentration": 3e7,
                "car_positive_pct": 55,
                "cd3_positive_pct": 0.2,
            },
            [],
        ),
    ]


def result_all(batch, analyst, reviewer, skip=(), overrides=None):
    """Enter and review an in-spec result for every QC test of the batch (except `skip`)."""
    from qc.models import QcTest
    from qc.services import results
    from tests.factories import PASSWORD

    for test in QcTest.objects.filter(batch=batch).select_related("definition"):
        if test.definition.code in skip:
            continue
        value = in_spec_value(test.definition, overrides)
        results.qc_result_enter(actor=analyst, test=test, value=value, unit=test.definition.unit)
        results.qc_result_review(actor=reviewer, password=PASSWORD, test=test)


def in_spec_value(definition, overrides=None):
    """A result within the default release panel's specification for the test defined."""
    good = {"numeric": "80", "pass_fail": "negative"}
    values = {
        "endotoxin": "1.0",
        "residual_feeder": "0.01",
        "vcn": "2",
        "cd3_pct": "0.2",
        "car_positive": "50",
        **(overrides or {}),
    }
    return values.get(definition.code, good[definition.result_type])


def scan(bag):
    """What a barcode scanner reads off a bag: the DIN barcode and the product code."""
    from carnk_mfg import isbt128

    din = bag.batch.din
    return isbt128.DIN.from_text(din).barcode(
        isbt128.computed_check_flags(din)
    ), f"=<{bag.product_code}"


def coi_scan(bag):
    """What a scanner reads off the bag's Chain of Identity barcode ("" when it has none)."""
    from batches.selectors import chain_of_identity
    from carnk_mfg import isbt128

    identifier = chain_of_identity(bag.batch, bag.recipient_id)
    return identifier + isbt128.coi_check_character(identifier) if identifier else ""


def bedside_scans(bag, wristband=None, **overrides):
    """Everything the nurse scans and gives at the bedside for `bag`: its three barcodes, the
    wristband of its recipient (or `wristband`) and that recipient's date of birth as the
    second patient identifier."""
    from batches.models import Recipient

    din, product = scan(bag)
    subject = wristband or bag.recipient.subject_id
    recipient = Recipient.objects.filter(subject_id=subject).first()
    return {
        "scanned_bag": din,
        "scanned_product_code": product,
        "scanned_coi": coi_scan(bag),
        "scanned_wristband": subject,
        "date_of_birth": recipient.date_of_birth if recipient else None,
        **overrides,
    }


def formulate(batch, technician, divisions=("A0",), *, presentation="cryopreserved", volume="40"):
    """Fill the batch's harvest into bags (one per division), signed by the technician."""
    from decimal import Decimal

    from batches.services import release
    from tests.factories import PASSWORD

    return release.dose_units_formulate(
        actor=technician,
        password=PASSWORD,
        batch=batch,
        bags=[
            {"division": d, "presentation": presentation, "volume_ml": Decimal(volume)}
            for d in divisions
        ],
    )


def record_steps(batch, technician, *, day0=None, codes=None, first=None):
    """Record the template's steps on `batch` in order, each signed by the technician: all of
    them, those in `codes`, or the `first` n; from `day0` (default twenty days ago)."""
    from batches.services import batch_record
    from tests.factories import PASSWORD

    day0 = day0 or timezone.now() - timedelta(days=20)
    steps = {s.code: s for s in batch.template.steps.all()}
    for code, at, values, materials in step_payloads(day0, din=batch.source_unit.din)[:first]:
        if codes is not None and code not in codes:
            continue
        batch_record.step_record(
            actor=technician,
            password=PASSWORD,
            batch=batch,
            template_step=steps[code],
            performed_at=at,
            values=values,
            materials=materials,
        )
    batch.refresh_from_db()
    return batch


def record_baseline_sample(infusion, actor):
    """The recipient's pre-treatment RCR sample recorded, so that the first visit overdue
    after the infusion is day 3's."""
    from batches.models import FollowUpVisit
    from batches.services import clinical

    baseline = FollowUpVisit.objects.get(infusion=infusion, day=0)
    taken = infusion.started_at - timedelta(days=6)
    return clinical.follow_up_record(
        actor=actor, visit=baseline, done_at=taken, rcr_result="negative"
    )


def bedside_day(minutes_ago):
    """The lab's calendar day of a bedside check made `minutes_ago` before now: an infusion
    planned for that day, whichever side of midnight now is."""
    return timezone.localdate(timezone.now() - timedelta(minutes=minutes_ago))


def lymphodeplete(recipient, actor, *, infusion_on=None, days=(-5, -4, -3)):
    """Record the default regimen as given to `recipient` (fludarabine 30 and cyclophosphamide
    500 mg/m2) on `days` relative to `infusion_on` (default today), as the infusion needs."""
    from decimal import Decimal

    from batches.services import recipients

    infusion_on = infusion_on or timezone.localdate()
    for day in days:
        for agent, dose in (("fludarabine", "30"), ("cyclophosphamide", "500")):
            recipients.lymphodepletion_record(
                actor=actor,
                recipient=recipient,
                agent=agent,
                dose_mg_per_m2=Decimal(dose),
                body_surface_area_m2=Decimal("1.85"),
                given_on=infusion_on + timedelta(days=day),
            )


def issue_to_ward(bag, *, released_by, received_by):
    """The lab hands the bag over to the ward's nurse, both signing, now."""
    from decimal import Decimal

    from batches.services import bedside
    from tests.factories import PASSWORD

    bedside.dose_custody(
        actor=received_by,
        dose_unit=bag,
        kind="issue",
        released_by=released_by.username,
        released_by_password=PASSWORD,
        received_by=received_by.username,
        received_by_password=PASSWORD,
        from_location="Cell therapy lab",
        to_location="Ward 7",
        occurred_at=timezone.now(),
        temperature_c=Decimal("-150"),
    )


# The bedside check of `infuse_now`, this many minutes ago.
INFUSE_NOW_CHECKED = 35


def infuse_now(bag, clinician, volume_ml):
    """The issued bag checked at the bedside 35 minutes ago, infused from 5 minutes later
    until now (lymphodeplete for `bedside_day(INFUSE_NOW_CHECKED)`)."""
    from batches.services import bedside
    from tests.factories import PASSWORD

    now = timezone.now()
    with time_machine.travel(now - timedelta(minutes=INFUSE_NOW_CHECKED), tick=True):
        check = bedside.bedside_verify(actor=clinician, **bedside_scans(bag))
    return bedside.infusion_record(
        actor=clinician,
        password=PASSWORD,
        check=check,
        started_at=now - timedelta(minutes=30),
        ended_at=now,
        volume_ml=volume_ml,
        vitals={"pre": {"hr": 80}},
    )
