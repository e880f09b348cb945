"""The whole chain through the API alone: donor unit, batch, steps, QC, release at a dose level
for a recipient, issue, bedside verification, infusion, an adverse event and a follow-up visit;
every action lands in the audit trail with its signatures."""

from datetime import timedelta

import pghistory.models
import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from carnk_mfg.models import ElectronicSignature
from tests.batch_steps import bedside_day, clock_days_ago, step_payloads
from tests.factories import PASSWORD, UserFactory, check_char, make_din

pytestmark = pytest.mark.django_db


def ok(response, code=(200, 201)):
    assert response.status_code in code, (response.status_code, response.content[:800])
    return response.json() if response["Content-Type"].startswith("application/json") else response


# Kept in one piece: it walks one unit from receipt to the last follow-up visit through the
# API alone, in the order the lab does it; each step needs the record the one before made.
def test_donor_unit_to_follow_up_through_the_api(
    api, request, technician, qc_analyst, qa, clinical
):
    from rest_framework.test import APIClient

    def client(user):
        c = APIClient()
        from knox.models import AuthToken

        c.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
        return c

    T, QC, QA, CL = (client(u) for u in (technician, qc_analyst, qa, clinical))
    QC2 = client(UserFactory.create(username="qc-second", role="qc_analyst"))
    now = timezone.now()
    # Unit, lots, approvals and the batch's planning happen 16 days ago; its steps since are
    # recorded on their days (none may predate the batch's planning).
    stop_clock = clock_days_ago(request, 16)
    din = make_din(9001)
    ok(
        T.post(
            "/api/v1/donor-units/",
            {
                "din": din,
                "check_character": check_char(din),
                "product_code": "S1145V00",
                "source_bank": "Bank",
                "collected_at": (now - timedelta(days=300)).isoformat(),
                "cryopreserved_at": (now - timedelta(days=300, hours=-10)).isoformat(),
                "volume_ml": "25",
                "tnc_count": 1.2e9,
                "cd34_count": 4e6,
                "nrbc_count": 2e7,
                "viability_pct": "92",
                "freezer": "LN2-1",
                "rack": "1",
                "box": "1",
                "position": "A1",
                "password": PASSWORD,
            },
            format="json",
        )
    )
    for marker in settings.DONOR_TESTS_REQUIRED:
        body = {
            "marker": marker,
            "sample_date": timezone.localdate(now - timedelta(days=299)).isoformat(),
            "result": "non_reactive",
            "test_kit": "PRISM",
            "kit_lot": "K-88",
            "laboratory": "Creative Testing Solutions",
        }
        ok(T.post(f"/api/v1/donor-units/{din}/donor-tests/", body, format="json"))
    ok(
        QA.post(
            f"/api/v1/donor-units/{din}/eligibility/",
            {"eligibility": "eligible", "password": PASSWORD},
            format="json",
        )
    )
    today = timezone.localdate()
    lots: list[tuple[str, dict[str, object]]] = [
        ("vector", {"lot_number": "RV-1", "titer_iu_per_ml": 2e7, "rcr_result": "negative"}),
        (
            "feeder",
            {
                "lot_number": "FD-1",
                "irradiation_dose_gy": "100",
                "irradiated_on": today.isoformat(),
            },
        ),
        ("reagent", {"lot_number": "IL2-1", "reagent": "il2"}),
        ("reagent", {"lot_number": "RN-1", "reagent": "retronectin"}),
        ("reagent", {"lot_number": "ISO-1", "reagent": "isolation"}),
    ]
    for kind, body in lots:
        ok(
            T.post(
                f"/api/v1/{kind}-lots/",
                {
                    **body,
                    "manufacturer": "M",
                    "received_on": (today - timedelta(days=30)).isoformat(),
                    "expiry_date": (today + timedelta(days=300)).isoformat(),
                    "quantity_received": "20",
                    "unit": "vial",
                },
                format="json",
            )
        )
        coa = SimpleUploadedFile(f"CoA-{body['lot_number']}.pdf", b"%PDF-1.4 CoA")
        ok(
            T.post(
                f"/api/v1/{kind}-lots/{body['lot_number']}/certificates/",
                {"file": coa},
                format="multipart",
            )
        )
        ok(
            QA.post(
                f"/api/v1/{kind}-lots/{body['lot_number']}/disposition/",
                {"status": "released", "reason": "CoA ok", "password": PASSWORD},
                format="json",
            )
        )
    # The feeder cells are irradiated on a calibrated irradiator, and the irradiation recorded
    # against their lot: a step may use a feeder lot only with that record.
    ok(
        QA.post(
            "/api/v1/equipment/",
            {"identifier": "IRR-01", "name": "Gamma irradiator", "kind": "irradiator"},
            format="json",
        )
    )
    ok(
        T.post(
            "/api/v1/equipment/IRR-01/calibrations/",
            {
                "performed_on": (today - timedelta(days=30)).isoformat(),
                "next_due_on": (today + timedelta(days=335)).isoformat(),
                "performed_by": "Dosimetry service",
            },
            format="multipart",
        )
    )
    ok(
        T.post(
            "/api/v1/feeder-irradiations/",
            {
                "feeder_lot": "FD-1",
                "dose_gy": "100",
                "irradiated_on": today.isoformat(),
                "irradiator": "IRR-01",
            },
            format="json",
        )
    )
    ok(
        CL.post(
            "/api/v1/recipients/",
            {
                "subject_id": "CARNK-900",
                "diagnosis": "NHL",
                "dose_level": "DL1",
                "date_of_birth": "1966-11-30",
                "weight_kg": "70",
                "weight_measured_on": today.isoformat(),
            },
            format="json",
        )
    )
    template = ok(T.get("/api/v1/process-templates/"))["results"][0]
    ok(
        QA.post(
            f"/api/v1/process-templates/{template['id']}/approve/",
            {"password": PASSWORD},
            format="json",
        )
    )
    spec_set = ok(T.get("/api/v1/qc-spec-sets/"))["results"][0]
    ok(
        QA.post(
            f"/api/v1/qc-spec-sets/{spec_set['id']}/approve/", {"password": PASSWORD}, format="json"
        )
    )
    batch = ok(
        T.post(
            "/api/v1/batches/",
            {
                "source_unit": din,
                "template": template["id"],
                "unit_fraction_used_pct": "100",
                "intended_recipient": "CARNK-900",
            },
            format="json",
        )
    )
    lot = batch["lot_number"]
    ok(
        T.post(
            f"/api/v1/batches/{lot}/transitions/",
            {"to_state": "in_process", "reason": "Thaw"},
            format="json",
        )
    )
    stop_clock()
    # Weighed again before the dose (a dose may use a weight at most 14 days old).
    ok(
        CL.post(
            "/api/v1/recipients/CARNK-900/weights/",
            {
                "weight_kg": "70",
                "measured_on": timezone.localdate().isoformat(),
                "reason": "Pre-dose weight",
            },
            format="json",
        )
    )
    day0 = now - timedelta(days=15)
    for code, at, values, materials in step_payloads(day0, din=din):
        ok(
            T.post(
                f"/api/v1/batches/{lot}/steps/",
                {
                    "step": code,
                    "performed_at": at.isoformat(),
                    "values": values,
                    "materials": materials,
                    "password": PASSWORD,
                },
                format="json",
            )
        )
    ok(
        T.post(
            f"/api/v1/batches/{lot}/transitions/",
            {"to_state": "harvested", "reason": "Harvest", "password": PASSWORD},
            format="json",
        )
    )
    ok(
        T.post(
            f"/api/v1/batches/{lot}/transitions/",
            {"to_state": "in_qc", "reason": "To QC"},
            format="json",
        )
    )
    values = {
        "endotoxin": 1.0,
        "residual_feeder": 0.01,
        "vcn": 2,
        "cd3_pct": 0.2,
        "car_positive": 50,
    }
    for test in ok(QC.get("/api/v1/qc-tests/", {"batch": lot, "limit": 50}))["results"]:
        value = values.get(test["code"], "negative" if test["specification"] == "negative" else 80)
        unit = {
            "endotoxin": "EU/mL",
            "residual_feeder": "%",
            "vcn": "copies/cell",
        }.get(test["code"], "%")
        ok(
            QC.post(
                f"/api/v1/qc-tests/{test['id']}/result/",
                {"value": value, "unit": unit if not isinstance(value, str) else ""},
                format="json",
            )
        )
        ok(
            QC2.post(
                f"/api/v1/qc-tests/{test['id']}/review/", {"password": PASSWORD}, format="json"
            )
        )
    ok(
        T.post(
            f"/api/v1/batches/{lot}/formulate/",
            {
                "bags": [{"division": "A0", "presentation": "fresh", "volume_ml": "40"}],
                "password": PASSWORD,
            },
            format="json",
        )
    )
    ok(QA.post(f"/api/v1/batches/{lot}/record-review/", {"password": PASSWORD}, format="json"))
    ok(
        QA.post(
            f"/api/v1/batches/{lot}/release/",
            {"decision": "release", "reason": "Meets spec", "password": PASSWORD},
            format="json",
        )
    )
    bag = ok(CL.get("/api/v1/doses/", {"batch__lot_number": lot}))["results"][0]
    calc = ok(
        CL.get(
            f"/api/v1/doses/{bag['id']}/calculation/",
            {"recipient": "CARNK-900", "dose_level": "DL1"},
        )
    )
    assert calc["refusals"] == [], calc
    assigned = ok(
        CL.post(
            f"/api/v1/doses/{bag['id']}/assign/",
            {"recipient": "CARNK-900", "dose_level": "DL1"},
            format="json",
        )
    )
    # The bag's chain begins with its assignment to the recipient.
    coi = assigned["coi_identifier"]
    assert coi and coi != batch["din"]
    ok(
        CL.post(
            f"/api/v1/doses/{bag['id']}/custody/",
            {
                "kind": "issue",
                "released_by": qa.username,
                "released_by_password": PASSWORD,
                "received_by": clinical.username,
                "received_by_password": PASSWORD,
                "from_location": "Lab",
                "to_location": "Ward",
                # Read now, not at the start: the bag was filled moments ago, and a slow
                # run can cross a minute between the two.
                "occurred_at": timezone.now().isoformat(),
            },
            format="json",
        )
    )
    from carnk_mfg import isbt128

    # Lymphodepletion: fludarabine and cyclophosphamide on days -5 to -3.
    for days_before in (5, 4, 3):
        for agent, dose in (("fludarabine", "30"), ("cyclophosphamide", "500")):
            ok(
                CL.post(
                    "/api/v1/recipients/CARNK-900/lymphodepletion/",
                    {
                        "agent": agent,
                        "dose_mg_per_m2": dose,
                        "body_surface_area_m2": "1.82",
                        "given_on": (bedside_day(25) - timedelta(days=days_before)).isoformat(),
                    },
                    format="json",
                )
            )
    din = batch["din"]
    # Scanned at the bedside 25 minutes ago; the infusion started 5 minutes later.
    with time_machine.travel(timezone.now() - timedelta(minutes=25), tick=True):
        check = ok(
            CL.post(
                "/api/v1/bedside-checks/",
                {
                    "scanned_bag": isbt128.DIN.from_text(din).barcode(
                        isbt128.computed_check_flags(din)
                    ),
                    "scanned_product_code": "=<S1145VA0",
                    "scanned_coi": coi + isbt128.coi_check_character(coi),
                    "scanned_wristband": "CARNK-900",
                    "date_of_birth": "1966-11-30",
                },
                format="json",
            )
        )
    assert check["outcome"] == "match", check
    infusion = ok(
        CL.post(
            "/api/v1/infusions/",
            {
                "bedside_check": check["id"],
                "started_at": (timezone.now() - timedelta(minutes=20)).isoformat(),
                "ended_at": timezone.now().isoformat(),
                # The volume the assignment prescribed, as infused.
                "volume_ml": assigned["dose_volume_ml"],
                "vitals": {"pre": {"hr": 80}, "post": {"hr": 82}},
                "password": PASSWORD,
            },
            format="json",
        )
    )
    ok(
        CL.post(
            "/api/v1/adverse-events/",
            {
                "infusion": infusion["id"],
                "kind": "crs",
                "grade": 1,
                "crs_temperature_c": "38.4",
                "crs_hypotension": "none",
                "crs_hypoxia": "none",
                "onset_at": timezone.now().isoformat(),
                "description": "Fever 38.4",
            },
            format="json",
        )
    )
    visits = ok(CL.get("/api/v1/follow-ups/", {"recipient__subject_id": "CARNK-900"}))["results"]
    day3 = next(v for v in visits if v["visit"] == "day 3")
    ok(
        CL.post(
            f"/api/v1/follow-ups/{day3['id']}/record/",
            {"done_at": timezone.now().isoformat(), "car_nk_copies_per_ug": 5400},
            format="json",
        )
    )
    # The trail has every kind of record the chain touched, each with who and why.
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
        assert model in labels, model
    meanings = set(ElectronicSignature.objects.values_list("meaning", flat=True))
    assert {"performed", "approved", "reviewed", "released"} <= meanings
