"""The demo lab's stock: cord blood units, material lots and recipients, registered when the
lab was set up, and the QA work that waits today (a lot to disposition, a template draft)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from batches.management.demo import DEMO_PASSWORD
from batches.management.demo.equipment import irradiate, set_up_equipment
from batches.models import (
    CordBloodUnit,
    DonorMarker,
    DonorTestResult,
    Eligibility,
    ProcessTemplate,
    Recipient,
)
from batches.selectors.donor import required_donor_markers
from batches.services import donor, inventory, materials, recipients, templates
from carnk_mfg import isbt128

# Ten units found eligible (one for each demo batch, and one for a new batch), one with its
# donor evaluation incomplete (no CMV result), one from an ineligible donor (HBsAg reactive),
# one still awaiting QA's determination.
ELIGIBLE_UNITS = 10
UNIT_ELIGIBILITY = [Eligibility.ELIGIBLE] * ELIGIBLE_UNITS + [
    Eligibility.INCOMPLETE,
    Eligibility.INELIGIBLE,
    None,
]
NOTES = {
    Eligibility.ELIGIBLE: "",
    Eligibility.INCOMPLETE: "Maternal CMV result missing",
    Eligibility.INELIGIBLE: "Maternal HBsAg reactive",
}
# How each determination's donor panel differs from a complete, non-reactive one.
PANEL_CHANGES: dict[str | None, dict[str, str | None]] = {
    Eligibility.INCOMPLETE: {DonorMarker.CMV: None},
    Eligibility.INELIGIBLE: {DonorMarker.HBSAG: DonorTestResult.REACTIVE},
}

# subject, diagnosis, dose level, weight (kg)
RECIPIENTS = [
    ("CARNK-001", "NHL", "DL1", "68.0"),
    ("CARNK-002", "CLL", "DL2", "81.5"),
    ("CARNK-003", "NHL", "DL3", "59.2"),
    ("CARNK-004", "NHL", "DL2", "74.3"),
    ("CARNK-005", "CLL", "DL1", "66.8"),
]


def register_units(tech: User, qa: User) -> list[CordBloodUnit]:
    """The units, in order; all but the last with QA's eligibility determination."""
    now = timezone.now()
    units = []
    for n, decided in enumerate(UNIT_ELIGIBILITY, start=1):
        din = f"W0420{now:%y}{100000 + n:06d}"
        collected = now - timedelta(days=300 + 20 * n)
        unit = donor.cord_blood_unit_register(
            actor=tech,
            password=DEMO_PASSWORD,
            din=din,
            check_character=isbt128.check_character(din),
            product_code="S1145V00",
            source_bank="Lone Star Cord Blood Bank",
            collected_at=collected,
            # One unit was frozen 27 h after collection (more than 24 h: flagged).
            cryopreserved_at=collected + timedelta(hours=27 if decided == "incomplete" else 18),
            volume_ml=Decimal("24.5") + n,
            tnc_count=1.1e9 + n * 1e8,
            cd34_count=3.5e6 + n * 2e5,
            # The undecided unit has more nucleated red cells than 8 x 10^7 (flagged).
            nrbc_count=9.1e7 if decided is None else 3.0e7,
            viability_pct=Decimal("91.0"),
            hla_a="A*02:01, A*03:01",
            hla_b="B*07:02, B*08:01",
            hla_c="C*07:01, C*07:02",
            hla_drb1="DRB1*03:01, DRB1*15:01",
            kir_ligand_group="C1/C2",
            freezer="LN2-01",
            rack=f"R{(n - 1) // 4 + 1}",
            box="B01",
            position=f"A{n}",
        )
        record_donor_panel(tech, unit, PANEL_CHANGES.get(decided, {}))
        if decided:
            unit = donor.cord_blood_unit_determine_eligibility(
                actor=qa,
                password=DEMO_PASSWORD,
                unit=unit,
                eligibility=decided,
                notes=NOTES[decided],
            )
        units.append(unit)
    return units


def record_donor_panel(tech: User, unit: CordBloodUnit, changes: dict[str, str | None]) -> None:
    """The mother's specimen, drawn the day after the birth, tested for every required marker
    and for HIV-1 and HCV by NAT; `changes` alters a result, or leaves a marker out (None)."""
    tested = [*required_donor_markers(), DonorMarker.HIV_1_NAT, DonorMarker.HCV_NAT]
    results: dict[str, str | None] = dict.fromkeys(tested, DonorTestResult.NON_REACTIVE)
    results.update(changes)
    sampled = timezone.localdate(unit.collected_at) + timedelta(days=1)
    for marker, result in results.items():
        if result is None:
            continue
        nat = marker in (DonorMarker.HIV_1_NAT, DonorMarker.HCV_NAT)
        donor.donor_test_record(
            actor=tech,
            unit=unit,
            marker=marker,
            sample_date=sampled,
            result=result,
            test_kit="Procleix Ultrio Elite" if nat else "Abbott PRISM",
            kit_lot="UE-2407" if nat else "PR-2411",
            laboratory="Creative Testing Solutions, Tempe AZ",
            reason="Maternal panel from the bank's donor report",
        )


def _certificate(tech: User, lot) -> None:
    """The supplier's certificate of analysis, scanned at receipt (QA releases on it)."""
    inventory.lot_certificate_upload(
        actor=tech,
        lot=lot,
        filename=f"CoA-{lot.lot_number}.pdf",
        data=f"%PDF-1.4\nCertificate of analysis\n{lot.manufacturer} {lot.lot_number}\n".encode(),
    )


def _release(qa: User, lot, reason: str = "CoA reviewed") -> None:
    materials.material_lot_disposition(
        actor=qa, password=DEMO_PASSWORD, lot=lot, status="released", reason=reason
    )


def register_lots(tech: User, qa: User, *, today: date) -> None:
    """The lots the demo batches use, released by QA, in date until after `today` (the real
    day, not the set-up day)."""
    setup = timezone.localdate()
    set_up_equipment(tech=tech, qa=qa, today=today)
    vector = materials.material_lot_register(
        actor=tech,
        kind="vector",
        lot_number="RV-iC9-CAR19-IL15-0007",
        manufacturer="MDACC Vector Core",
        received_on=setup - timedelta(days=40),
        expiry_date=today + timedelta(days=320),
        titer_iu_per_ml=2.1e7,
        rcr_result="negative",
        quantity_received=Decimal("900"),
        unit="ml",
    )
    _certificate(tech, vector)
    _release(qa, vector, "CoA reviewed; RCR negative")
    feeder = materials.material_lot_register(
        actor=tech,
        kind="feeder",
        lot_number="uAPC-2211",
        manufacturer="MDACC Cell Core",
        received_on=setup - timedelta(days=2),
        expiry_date=today + timedelta(days=170),
        irradiation_dose_gy=Decimal("100.0"),
        irradiated_on=setup - timedelta(days=4),
        quantity_received=Decimal("150"),
        unit="bag",
    )
    irradiate(tech, feeder.lot_number)
    _certificate(tech, feeder)
    _release(qa, feeder, "Irradiation record and sterility reviewed")
    register_reagents(tech, qa, setup=setup, today=today)


def register_reagents(tech: User, qa: User, *, setup: date, today: date) -> None:
    """The reagent lots, released with their CoA (two IL-2 vials broken on arrival), and an
    expired RetroNectin lot nobody may use."""
    for lot_number, reagent, maker, description, received, unit in (
        ("IL2-PROLEUKIN-5521", "il2", "Clinigen", "IL-2 22 MIU vial", "80", "vial"),
        ("ISO-CD3-0421", "isolation", "Miltenyi", "CD3/CD14/CD19 depletion kit", "60", "kit"),
        ("RN-T100A-902", "retronectin", "Takara", "RetroNectin 2.5 mg", "60", "vial"),
    ):
        lot = materials.material_lot_register(
            actor=tech,
            kind="reagent",
            lot_number=lot_number,
            reagent=reagent,
            manufacturer=maker,
            received_on=setup - timedelta(days=20),
            expiry_date=today + timedelta(days=200),
            description=description,
            quantity_received=Decimal(received),
            unit=unit,
        )
        _certificate(tech, lot)
        _release(qa, lot)
        if reagent == "il2":
            inventory.lot_stock_adjust(
                actor=tech,
                lot=lot,
                adjustment_kind="breakage",
                change=Decimal("-2"),
                reason="Two vials cracked in the shipper; discarded per SOP-MAT-004",
            )
    materials.material_lot_register(
        actor=tech,
        kind="reagent",
        lot_number="RN-T100A-889",
        reagent="retronectin",
        manufacturer="Takara",
        received_on=setup - timedelta(days=400),
        expiry_date=today - timedelta(days=5),
        description="RetroNectin 2.5 mg",
        quantity_received=Decimal("10"),
        unit="vial",
    )


# Treated by the second clinician; the others by `clinic`, who enrols them all.
TREATED_BY_CLINIC2 = ("CARNK-005",)


def register_recipients(clinic: User, clinic2: User) -> None:
    setup = timezone.localdate()
    for n, (subject, diagnosis, level, kg) in enumerate(RECIPIENTS, start=1):
        recipients.recipient_register(
            actor=clinic,
            treating_clinician=clinic2 if subject in TREATED_BY_CLINIC2 else clinic,
            subject_id=subject,
            diagnosis=diagnosis,
            dose_level=level,
            # Made-up second identifiers for the bedside check.
            date_of_birth=date(1960 + 3 * n, n, 10 + n),
            medical_record_number=f"MRN-{700100 + n}",
            weight_kg=Decimal(kg),
            weight_measured_on=setup - timedelta(days=n),
        )


def weigh(clinic: User, subject_id: str) -> None:
    """Weigh a recipient today (a dose needs a recent weight), at the enrolment weight."""
    recipient = Recipient.objects.get(subject_id=subject_id)
    kg = next(Decimal(kg) for subject, _d, _l, kg in RECIPIENTS if subject == subject_id)
    recipients.recipient_record_weight(
        actor=clinic, recipient=recipient, weight_kg=kg, measured_on=timezone.localdate()
    )


def qa_work_today(tech: User, admin: User) -> None:
    """What waits for QA besides the batches: a feeder lot received yesterday (quarantined
    until QA dispositions it) and a new draft version of the process template."""
    today = timezone.localdate()
    feeder = materials.material_lot_register(
        actor=tech,
        kind="feeder",
        lot_number="uAPC-2302",
        manufacturer="MDACC Cell Core",
        received_on=today - timedelta(days=1),
        expiry_date=today + timedelta(days=180),
        irradiation_dose_gy=Decimal("100.0"),
        irradiated_on=today - timedelta(days=2),
        quantity_received=Decimal("40"),
        unit="bag",
    )
    irradiate(tech, "uAPC-2302")
    _certificate(tech, feeder)
    templates.template_new_version(
        actor=admin,
        template=ProcessTemplate.objects.get(code="CB-CAR-NK", version=1),
        reason="Change control CC-26-014: draft for the day-12 harvest option",
    )
