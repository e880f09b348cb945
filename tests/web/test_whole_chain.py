"""The whole chain through the web pages alone: donor unit, batch, steps, QC, release at a dose
level for a recipient, issue, bedside verification, infusion, an adverse event and a follow-up
visit; every action lands in the audit trail with its signatures.

Every write is a POST to a page with the Django test client; the database is only read."""

import re
from datetime import timedelta

import pghistory.models
import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from batches.models import (
    AdverseEvent,
    Batch,
    BedsideCheck,
    CordBloodUnit,
    DoseUnit,
    ExecutedStep,
    FollowUpVisit,
    Infusion,
    ProcessTemplate,
    Recipient,
)
from carnk_mfg import isbt128
from carnk_mfg.models import ElectronicSignature
from qc.models import QcSpecSet, QcTest
from tests.batch_steps import bedside_day, clock_days_ago, coi_scan, step_payloads
from tests.factories import PASSWORD, UserFactory, check_char, make_din

SUBJECT = "CARNK-700"

# In-spec values per test code (as tests/batch_steps.py::result_all enters them).
QC_VALUES = {
    "endotoxin": "1.0",
    "residual_feeder": "0.01",
    "vcn": "2",
    "cd3_pct": "0.2",
    "car_positive": "50",
}
QC_DEFAULT = {"numeric": "80", "pass_fail": "negative"}


def local(moment):
    """A datetime as the browser's datetime-local input sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def day(n):
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def _errors(response):
    """The form errors of a re-rendered page, else the start of its markup."""
    context = getattr(response, "context", None)
    found = {}
    if context is not None:
        for ctx in context:
            for key, value in ctx.flatten().items():
                errors = getattr(value, "errors", None)
                if hasattr(value, "is_bound") and errors:
                    found[key] = dict(errors) if hasattr(errors, "items") else errors
    if found:
        return found
    text = response.content.decode(errors="replace")
    messages = re.findall(r'class="[^"]*error[^"]*"[^>]*>(.*?)<', text)
    return messages or text[:3000]


def post(client, what, url, data, expected=302):
    response = client.post(url, data)
    assert response.status_code == expected, (what, response.status_code, _errors(response))
    return response


# Kept in one piece: it walks one unit from receipt to the last follow-up visit through the
# pages alone, in the order the lab does it; each step needs the record the one before made.
@pytest.mark.django_db
def test_donor_unit_to_follow_up_through_the_pages(
    client, request, technician, qc_analyst, qa, clinical
):
    qc2 = UserFactory(username="qc2", role="qc_analyst")
    now = timezone.now()
    # Unit, lots, approvals and the batch's planning happen 16 days ago; its steps since are
    # recorded on their days (none may predate the batch's planning).
    stop_clock = clock_days_ago(request, 16)

    # --- the donor unit: registered by the technician, eligibility by QA ---
    din = make_din(777900)
    client.force_login(technician)
    post(
        client,
        "register unit",
        reverse("cbu-register"),
        {
            "din": din,
            "check_character": check_char(din),
            "product_code": "S1145V00",
            "source_bank": "Lone Star Cord Blood Bank",
            "collected_at": local(now - timedelta(days=300)),
            "cryopreserved_at": local(now - timedelta(days=300) + timedelta(hours=10)),
            "volume_ml": "25.00",
            "tnc_count": "1.2e9",
            "cd34_count": "4.0e6",
            "nrbc_count": "2.0e7",
            "viability_pct": "92.5",
            "hla_a": "A*02:01, A*24:02",
            "hla_b": "B*07:02",
            "hla_c": "C*05:01",
            "hla_drb1": "DRB1*04:01",
            "kir_ligand_group": "C1/C2",
            "freezer": "LN2-02",
            "rack": "R1",
            "box": "B3",
            "position": "C5",
            "password": PASSWORD,
        },
    )
    # The donor's tests from the laboratory's report, one by one.
    for marker in settings.DONOR_TESTS_REQUIRED:
        post(
            client,
            f"donor test {marker}",
            reverse("cbu-donor-test", args=[din]),
            {
                "marker": marker,
                "result": "non_reactive",
                "sample_date": timezone.localdate(now - timedelta(days=301)).isoformat(),
                "test_kit": "PRISM",
                "kit_lot": "K-88",
                "laboratory": "Creative Testing Solutions",
                "reason": "Maternal panel from the bank's report",
            },
        )
    client.force_login(qa)
    post(
        client,
        "eligibility",
        reverse("cbu-eligibility", args=[din]),
        {"eligibility": "eligible", "notes": "", "password": PASSWORD},
    )
    unit = CordBloodUnit.objects.get(din=din)
    assert unit.eligibility == "eligible"

    # --- material lots: registered by the technician, released by QA ---
    common = {
        "manufacturer": "Takara Bio",
        "received_on": day(-30),
        "expiry_date": day(300),
        "quantity_received": "20",
        "unit": "vial",
    }
    lots = [
        (
            "vector",
            {
                "lot_number": "RV-1",
                "construct": "iC9/CAR.19/IL15",
                "titer_iu_per_ml": "2e7",
                "rcr_result": "negative",
            },
        ),
        (
            "feeder",
            {
                "lot_number": "FD-1",
                "cell_line": "K562 uAPC",
                "irradiation_dose_gy": "100",
                "irradiated_on": day(-3),
            },
        ),
        ("reagent", {"lot_number": "IL2-1", "reagent": "il2", "description": "IL-2"}),
        ("reagent", {"lot_number": "RN-1", "reagent": "retronectin", "description": "RN"}),
        ("reagent", {"lot_number": "ISO-1", "reagent": "isolation", "description": "Iso"}),
    ]
    for kind, body in lots:
        client.force_login(technician)
        post(
            client,
            f"register {kind} lot {body['lot_number']}",
            reverse("lot-register", args=[kind]),
            {**common, **body},
        )
        post(
            client,
            f"certificate of analysis of {body['lot_number']}",
            reverse("lot-certificate-upload", args=[kind, body["lot_number"]]),
            {"file": SimpleUploadedFile(f"CoA-{body['lot_number']}.pdf", b"%PDF-1.4 CoA")},
        )
        client.force_login(qa)
        post(
            client,
            f"release {kind} lot {body['lot_number']}",
            reverse("lot-detail", args=[kind, body["lot_number"]]),
            {"status": "released", "reason": "CoA reviewed", "password": PASSWORD},
        )

    # --- the feeder cells' irradiation, on a calibrated irradiator ---
    client.force_login(qa)
    post(
        client,
        "register irradiator",
        reverse("equipment-register"),
        {"identifier": "IRR-01", "name": "Gamma irradiator", "kind": "irradiator", "location": ""},
    )
    client.force_login(technician)
    post(
        client,
        "calibrate irradiator",
        reverse("equipment-calibration", args=["IRR-01"]),
        {
            "performed_on": day(-30),
            "next_due_on": day(335),
            "performed_by": "Dosimetry service",
            "result": "passed",
            "notes": "",
        },
    )
    feeder_page = client.get(reverse("lot-detail", args=["feeder", "FD-1"])).content.decode()
    assert "No irradiation recorded" in feeder_page
    post(
        client,
        "record feeder irradiation",
        reverse("feeder-irradiation", args=["FD-1"]),
        {"dose_gy": "100", "irradiated_on": day(-3), "irradiator": "IRR-01"},
    )
    feeder_page = client.get(reverse("lot-detail", args=["feeder", "FD-1"])).content.decode()
    assert "No irradiation recorded" not in feeder_page and "IRR-01" in feeder_page

    # --- the recipient, enrolled at DL2 ---
    client.force_login(clinical)
    post(
        client,
        "enrol recipient",
        reverse("recipient-register"),
        {
            "subject_id": SUBJECT,
            "diagnosis": "CLL",
            "diagnosis_detail": "Relapsed",
            "hla_a": "A*02:01",
            "hla_b": "B*08:01",
            "hla_c": "C*07:01",
            "hla_drb1": "DRB1*03:01",
            "dose_level": "DL2",
            "planned_infusion_on": day(20),
            "date_of_birth": "1971-03-09",
            "medical_record_number": "MRN-55021",
            "weight_kg": "71.4",
            "weight_measured_on": day(-1),
        },
    )
    recipient = Recipient.objects.get(subject_id=SUBJECT)
    assert recipient.dose_level == "DL2"

    # --- QA approves the template and the QC specification set ---
    template = ProcessTemplate.objects.get(code="CB-CAR-NK", version=1)
    client.force_login(qa)
    post(
        client,
        "approve template",
        reverse("template-detail", args=[template.pk]),
        {"reason": "Approved for use", "password": PASSWORD},
    )
    spec_set = QcSpecSet.objects.get(template=template, version=1)
    post(client, "approve spec set", f"/qc/spec-sets/{spec_set.pk}/", {"password": PASSWORD})

    # --- the batch: planned, started, five steps, harvested, to QC ---
    client.force_login(technician)
    post(
        client,
        "plan batch",
        reverse("batch-new"),
        {
            "source_unit": din,
            "template": template.pk,
            "intended_recipient": SUBJECT,
            "unit_fraction_used_pct": "100",
        },
    )
    batch = Batch.objects.get(source_unit=unit)
    lot = batch.lot_number
    assert batch.intended_recipient == recipient

    def transition(to_state, expected, **extra):
        post(
            client,
            f"transition to {to_state}",
            reverse("batch-transition", args=[lot]),
            {"to_state": to_state, "expected_state": expected, "reason": "As planned", **extra},
        )

    transition("in_process", "planned")
    stop_clock()
    client.force_login(technician)  # the session of 16 days ago has expired
    day0 = timezone.now().replace(second=0, microsecond=0) - timedelta(days=15)
    for code, at, values, materials in step_payloads(day0, din=din):
        data = {"step": code, "performed_at": local(at), "password": PASSWORD}
        data.update({f"values.{name}": str(value) for name, value in values.items()})
        for row, item in enumerate(materials):
            data[f"materials.{row}.kind"] = item["kind"]
            data[f"materials.{row}.lot_number"] = item["lot_number"]
        post(client, f"step {code}", reverse("batch-step", args=[lot]), data)
    transition("harvested", "in_process", password=PASSWORD)
    transition("in_qc", "harvested")
    batch.refresh_from_db()
    assert batch.state == "in_qc"
    assert ExecutedStep.objects.filter(batch=batch).count() == 5

    # --- QC: a result by one analyst, the review by a second ---
    tests = list(QcTest.objects.filter(batch=batch).select_related("definition"))
    assert tests, "the harvest should have planned the release panel"
    for test in tests:
        definition = test.definition
        value = QC_VALUES.get(definition.code, QC_DEFAULT[definition.result_type])
        client.force_login(qc_analyst)
        assert client.get(reverse("qc-test", args=[test.pk])).status_code == 200
        body = {"value": value}
        if definition.result_type == "numeric":
            body["unit"] = definition.unit
        post(client, f"QC result {definition.code}", reverse("qc-result", args=[test.pk]), body)
        client.force_login(qc2)
        post(
            client,
            f"QC review {definition.code}",
            reverse("qc-review", args=[test.pk]),
            {"password": PASSWORD},
        )
    assert set(QcTest.objects.filter(batch=batch).values_list("state", flat=True)) == {"reviewed"}

    # --- release queue: formulate (technician), record review and release (QA) ---
    client.force_login(technician)
    assert lot in client.get(reverse("release-queue")).content.decode()
    post(
        client,
        "formulate",
        reverse("release-formulate", args=[lot]),
        {
            "password": PASSWORD,
            "bags.0.division": "A0",
            "bags.0.presentation": "cryopreserved",
            "bags.0.volume_ml": "40",
            "bags.1.division": "B0",
            "bags.1.presentation": "cryopreserved",
            "bags.1.volume_ml": "40",
        },
    )
    client.force_login(qa)
    post(client, "record review", reverse("release-review", args=[lot]), {"password": PASSWORD})
    post(
        client,
        "release",
        reverse("release-decide", args=[lot]),
        {"decision": "release", "reason": "All release QC in spec", "password": PASSWORD},
    )
    batch.refresh_from_db()
    assert batch.state == "released"

    # --- dose: DL2 assigned to the recipient (clinical) ---
    bag = DoseUnit.objects.get(batch=batch, division="A0")
    client.force_login(clinical)
    # Weighed again before the dose (a dose may use a weight at most 14 days old).
    post(
        client,
        "pre-dose weight",
        recipient.get_absolute_url(),
        {"weight_kg": "71.4", "measured_on": timezone.localdate().isoformat()},
    )
    calculator = reverse("dose-calculator", args=[SUBJECT])
    page = client.get(calculator, {"dose_unit": bag.pk, "dose_level": "DL2"}).content.decode()
    assert 'id="assign-form"' in page, page[:3000]
    post(
        client,
        "assign dose",
        calculator,
        {"dose_unit": bag.pk, "dose_level": "DL2", "reason": "Dose assigned"},
    )
    bag.refresh_from_db()
    assert bag.status == "assigned" and bag.dose_volume_ml

    # --- issue hand-off: from QA (lab) to clinical (ward) ---
    assert client.get(reverse("bag-detail", args=[bag.pk])).status_code == 200
    post(
        client,
        "issue hand-off",
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

    # --- lymphodepletion: fludarabine and cyclophosphamide on days -5 to -3 ---
    for days_before in (5, 4, 3):
        for agent, dose in (("fludarabine", "30"), ("cyclophosphamide", "500")):
            post(
                client,
                f"{agent} day -{days_before}",
                reverse("recipient-lymphodepletion", args=[SUBJECT]),
                {
                    "agent": agent,
                    "dose_mg_per_m2": dose,
                    "body_surface_area_m2": "1.82",
                    "given_on": (bedside_day(25) - timedelta(days=days_before)).isoformat(),
                },
            )

    # --- bedside: scan bag, product code and wristband: MATCH ---
    din = batch.din
    # Scanned 25 minutes ago; the infusion started 5 minutes later.
    with time_machine.travel(timezone.now() - timedelta(minutes=25), tick=True):
        response = post(
            client,
            "bedside scan",
            reverse("bedside"),
            {
                "scanned_bag": isbt128.DIN.from_text(din).barcode(
                    isbt128.computed_check_flags(din)
                ),
                "scanned_product_code": f"=<S1145V{bag.division}",
                "scanned_coi": coi_scan(bag),
                "scanned_wristband": SUBJECT,
                "medical_record_number": "MRN-55021",
            },
            expected=200,
        )
    page = response.content.decode()
    assert "MATCH" in page and "BLOCKED" not in page, _errors(response)
    check = BedsideCheck.objects.get(dose_unit=bag)
    assert check.outcome == "match"

    # --- the infusion: its signed start at the bedside, then its signed completion ---
    infused_at = timezone.now()
    post(
        client,
        "infusion start",
        reverse("infusion-record", args=[check.pk]),
        {
            "started_at": local(infused_at - timedelta(minutes=20)),
            "pre_temp_c": "36.8",
            "pre_hr": "78",
            "pre_bp": "124/78",
            "pre_spo2": "98",
            "password": PASSWORD,
        },
    )
    infusion = Infusion.objects.get(bedside_check=check)
    assert infusion.in_progress
    post(
        client,
        "infusion completion",
        reverse("infusion-detail", args=[infusion.pk]),
        {
            "form": "complete",
            "ended_at": local(infused_at),
            "volume_ml": str(bag.dose_volume_ml),
            "post_temp_c": "37.0",
            "post_hr": "84",
            "post_bp": "120/76",
            "post_spo2": "97",
            "reactions": "",
            "notes": "",
            "password": PASSWORD,
        },
    )
    infusion.refresh_from_db()
    assert not infusion.in_progress
    bag.refresh_from_db()
    assert bag.status == "infused"

    # --- after infusion: an adverse event, then the day-3 visit ---
    post(
        client,
        "adverse event",
        reverse("infusion-detail", args=[infusion.pk]),
        {
            "form": "ae",
            "kind": "crs",
            "grade": "1",
            "onset_at": local(timezone.now()),
            "description": "Fever 38.4",
            # Fever alone: ASTCT CRS grade 1.
            "crs_temperature_c": "38.4",
            "crs_hypotension": "none",
            "crs_hypoxia": "none",
        },
    )
    visit = FollowUpVisit.objects.get(infusion=infusion, day=3)
    assert client.get(reverse("follow-up-worklist")).status_code == 200
    post(
        client,
        "day-3 visit",
        reverse("follow-up-worklist"),
        {
            "visit_id": visit.pk,
            "done_at": local(timezone.now()),
            "car_nk_copies_per_ug": "2500",
        },
    )

    # --- every record exists ---
    assert AdverseEvent.objects.filter(infusion=infusion, kind="crs", grade=1).exists()
    visit.refresh_from_db()
    assert visit.done_at is not None and visit.car_nk_copies_per_ug == 2500

    # --- the audit trail has every kind of record the chain touched ---
    labels = set(pghistory.models.Events.objects.values_list("pgh_model", flat=True))
    for model in (
        "batches.CordBloodUnitEvent",
        "batches.BatchEvent",
        "batches.ExecutedStepEvent",
        "qc.QcTestEvent",
        "batches.DoseUnitEvent",
        "batches.BedsideCheckEvent",
        "batches.InfusionEvent",
        "batches.AdverseEventEvent",
        "batches.FollowUpVisitEvent",
    ):
        assert model in labels, (model, sorted(labels))
    meanings = set(ElectronicSignature.objects.values_list("meaning", flat=True))
    assert {"performed", "approved", "reviewed", "released"} <= meanings, meanings
