"""The demo's batches, one in each state of the lifecycle (DESIGN section 4), each taken
there through the services the lab uses, at the times it would have happened. `now` is the
real time of the load: culture day N means the batch was thawed N days before it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from batches.management.demo import DEMO_PASSWORD, at, oos
from batches.management.demo.environment import BATCH_ROOM, EXCURSION_ROOM
from batches.management.demo.equipment import STEP_CABINET
from batches.management.demo.lab import weigh
from batches.management.demo.ward import bedside_day, infuse, issue, lymphodeplete, start_infusion
from batches.models import (
    Batch,
    CordBloodUnit,
    Deviation,
    DoseUnit,
    ProcessTemplate,
    Recipient,
    Room,
)
from batches.services import (
    batch_record,
    capa,
    clinical,
    lifecycle,
    release,
)

# The demo loads the whole product: its batches go through QC on their way to release.
from qc.models import QcTest
from qc.services import results

DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
# When each step of the default template is done after the thaw: on its planned day (the
# feeders go in three hours after the thaw).
STEP_AFTER_THAW = [timedelta(0), 3 * HOUR, 4 * DAY, 7 * DAY, 14 * DAY]
# A good expansion: viable cells/mL and viability (%) on the count days.
COUNTS = {
    0: (2.0e5, 88),
    3: (1.1e6, 91),
    5: (4.0e6, 90),
    7: (1.6e7, 93),
    10: (2.6e7, 94),
    13: (3.1e7, 95),
}
# The release panel's results as the analysts type them (all in specification).
RESULTS = {
    "viability": "91.5",
    "gram_stain": "negative",
    "identity_nk": "93.1",
    "cd3_pct": "0.2",
    "car_positive": "55",
    "endotoxin": "0.6",
    "mycoplasma": "negative",
    "residual_feeder": "0.02",
    "vcn": "1.7",
    "sterility": "negative",
    "rcr": "negative",
}
SAME_DAY = ("viability", "gram_stain", "identity_nk", "cd3_pct", "car_positive")
NEXT_DAY = ("endotoxin", "mycoplasma", "residual_feeder")


@dataclass
class People:
    tech: User
    qc: User
    qc2: User
    qa: User
    clinic: User
    courier: User


def step_plans(unit: CordBloodUnit) -> list[tuple[dict[str, Any], list[tuple[str, str, str]]]]:
    """(values, materials as (kind, lot, quantity used)) of the five default steps, as recorded
    at the bench; the quantities draw down the lots' stock."""
    return [
        (
            {
                "cbu_din": unit.din_eye_readable,
                "post_thaw_tnc": 9.2e8,
                "post_thaw_viability_pct": 86,
                "nk_purity_pct": 91,
            },
            [("reagent", "ISO-CD3-0421", "1")],
        ),
        (
            {"feeder_nk_ratio": 2, "il2_iu_per_ml": 200, "feeder_irradiation_gy": 100},
            [("feeder", "uAPC-2211", "1"), ("reagent", "IL2-PROLEUKIN-5521", "1")],
        ),
        (
            {"vector_titer": 2.1e7, "moi": 10, "vector_volume_ml": 12},
            [("vector", "RV-iC9-CAR19-IL15-0007", "12"), ("reagent", "RN-T100A-902", "1")],
        ),
        ({"feeder_nk_ratio": 1}, [("feeder", "uAPC-2211", "1")]),
        (
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


class Lab:
    """The bench, QC and QA as the demo batches pass through them."""

    def __init__(
        self, people: People, template: ProcessTemplate, units: list[CordBloodUnit], now: datetime
    ):
        self.people, self.template, self.now = people, template, now
        self.units: Iterator[CordBloodUnit] = iter(units)
        self.template_steps = list(template.steps.order_by("order"))

    def thawed(
        self,
        days_ago: float,
        *,
        recipient: str = "",
        unit: CordBloodUnit | None = None,
        share_pct: Decimal = Decimal(100),
        room: str = BATCH_ROOM,
    ) -> tuple[Batch, datetime]:
        """A batch planned (in its room) the day before its thaw and started for it; and its
        day 0. It uses the whole of the next unit, or `share_pct` of `unit`."""
        tech, day0 = self.people.tech, self.now - timedelta(days=days_ago)
        with at(day0 - DAY):
            batch = batch_record.batch_create(
                actor=tech,
                source_unit=unit or next(self.units),
                template=self.template,
                unit_fraction_used_pct=share_pct,
                intended_recipient=Recipient.objects.get(subject_id=recipient)
                if recipient
                else None,
                room=Room.objects.filter(identifier=room).first(),
            )
        with at(day0 - HOUR):
            batch = lifecycle.batch_transition(
                actor=tech, batch=batch, to_state="in_process", reason="Thaw scheduled"
            )
        return batch, day0

    def step(self, batch: Batch, day0: datetime, index: int, **departure: Any) -> None:
        """Record step `index` (from 0) on its day, twenty minutes after it was done;
        `values` and `deviation` replace what a step that went to plan records."""
        values, used = step_plans(batch.source_unit)[index]
        performed = day0 + STEP_AFTER_THAW[index]
        with at(performed + 20 * MINUTE):
            batch_record.step_record(
                actor=self.people.tech,
                password=DEMO_PASSWORD,
                batch=batch,
                template_step=self.template_steps[index],
                performed_at=performed,
                values={**values, **departure.get("values", {})},
                materials=[
                    {"kind": kind, "lot_number": lot, "quantity": quantity}
                    for kind, lot, quantity in used
                ],
                equipment=[STEP_CABINET],
                deviation=departure.get("deviation"),
            )

    def steps(self, batch: Batch, day0: datetime, count: int) -> None:
        for index in range(count):
            self.step(batch, day0, index)

    def counts(
        self,
        batch: Batch,
        day0: datetime,
        days: tuple[int, ...],
        scale: Mapping[int, float] | None = None,
    ) -> None:
        """The counts of these culture days; `scale` multiplies a day's viable cells."""
        for day in days:
            viable, viability = COUNTS[day]
            viable *= (scale or {}).get(day, 1.0)
            measured = day0 + timedelta(days=day, hours=2)
            with at(measured + 10 * MINUTE):
                batch_record.cell_count_record(
                    actor=self.people.tech,
                    batch=batch,
                    day=day,
                    measured_at=measured,
                    total_cells_per_ml=viable * 100 / viability,
                    viable_cells_per_ml=viable,
                    volume_ml=Decimal(20 + 10 * day),
                )

    def into_qc(
        self, batch: Batch, day0: datetime, scale: Mapping[int, float] | None = None
    ) -> datetime:
        """Every step and count to the harvest, then harvested (signed) and into QC, which
        opens the release panel; returns the harvest time."""
        tech = self.people.tech
        self.steps(batch, day0, 4)
        self.counts(batch, day0, tuple(COUNTS), scale)
        self.step(batch, day0, 4)
        harvest = day0 + STEP_AFTER_THAW[4]
        with at(harvest + HOUR):
            lifecycle.batch_transition(
                actor=tech,
                batch=batch,
                to_state="harvested",
                reason="Harvested",
                password=DEMO_PASSWORD,
            )
            lifecycle.batch_transition(
                actor=tech, batch=batch, to_state="in_qc", reason="Samples to QC"
            )
        return harvest

    def result(
        self,
        batch: Batch,
        codes: tuple[str, ...],
        when: datetime,
        analyst: User,
        reviewer: User | None = None,
        value: str = "",
    ) -> None:
        """Results of these tests entered at `when` and, given a reviewer, reviewed two hours
        later (second person, signed)."""
        tests = list(
            QcTest.objects.filter(batch=batch, definition__code__in=codes).select_related(
                "definition", "batch"
            )
        )
        with at(when):
            for test in tests:
                code = test.definition.code
                results.qc_result_enter(
                    actor=analyst,
                    test=test,
                    value=value or RESULTS[code],
                    unit=test.definition.unit,
                )
        if reviewer is not None:
            with at(when + 2 * HOUR):
                for test in tests:
                    results.qc_result_review(actor=reviewer, password=DEMO_PASSWORD, test=test)

    def panel(
        self,
        batch: Batch,
        harvest: datetime,
        *,
        pending: bool = False,
        endotoxin_retested: bool = False,
    ) -> None:
        """The release panel resulted and reviewed as the assays finish; with `pending`,
        sterility (14 days) and RCR (21 days) are still running; with `endotoxin_retested`,
        the first endotoxin result was out of specification, investigated and retested."""
        qc, qc2 = self.people.qc, self.people.qc2
        self.result(batch, SAME_DAY, harvest + 6 * HOUR, qc, qc2)
        if endotoxin_retested:
            others = tuple(code for code in NEXT_DAY if code != "endotoxin")
            self.result(batch, others, harvest + 26 * HOUR, qc2, qc)
            oos.endotoxin_retested(self, batch, harvest + 26 * HOUR)
        else:
            self.result(batch, NEXT_DAY, harvest + 26 * HOUR, qc2, qc)
        self.result(batch, ("vcn",), harvest + 3 * DAY, qc, qc2)
        if not pending:
            self.result(batch, ("sterility",), harvest + 14 * DAY, qc, qc2)
            self.result(batch, ("rcr",), harvest + 21 * DAY, qc2, qc)

    def formulate(self, batch: Batch, when: datetime, volumes: dict[str, int]) -> None:
        """Cryopreserved bags of these divisions and volumes (mL), dated by the stability."""
        with at(when):
            release.dose_units_formulate(
                actor=self.people.tech,
                password=DEMO_PASSWORD,
                batch=batch,
                bags=[
                    {"division": d, "presentation": "cryopreserved", "volume_ml": Decimal(v)}
                    for d, v in volumes.items()
                ],
            )

    def release(self, batch: Batch, when: datetime, *, conditional: bool = False) -> None:
        """QA reviews the batch record and, an hour later, releases the batch (signed)."""
        qa = self.people.qa
        with at(when):
            release.batch_record_review(actor=qa, password=DEMO_PASSWORD, batch=batch)
        reason = (
            "Conditional release: all results in specification; sterility and RCR pending"
            if conditional
            else "All release results in specification; batch record reviewed"
        )
        with at(when + HOUR):
            release.batch_release_decide(
                actor=qa,
                password=DEMO_PASSWORD,
                batch=batch,
                decision="release",
                reason=reason,
                conditional=conditional,
            )


def load_batches(lab: Lab) -> dict[str, Batch]:
    """Every demo batch by what it shows, planned oldest first (so lot numbers run in the
    order the batches were planned)."""
    made = {
        "released": released(lab),
        "awaiting release": awaiting_release(lab),
        "recalled": recalled(lab),
        "conditionally released": conditionally_released(lab),
        "in QC": in_qc(lab),
        "terminated": terminated(lab),
        "in process, step late": in_process_late(lab),
        "on hold": on_hold(lab),
        "in process, step due today": in_process_due_today(lab),
    }
    for batch in made.values():
        batch.refresh_from_db()
    return made


def in_process_due_today(lab: Lab) -> Batch:
    """Culture day 4: thawed and stimulated; the transduction is due today."""
    batch, day0 = lab.thawed(4 + 2 / 24)
    lab.steps(batch, day0, 2)
    lab.counts(batch, day0, (0, 3))
    return batch


def in_process_late(lab: Lab) -> Batch:
    """Culture day 9: transduced on day 4; the day-7 restimulation is late."""
    batch, day0 = lab.thawed(9, recipient="CARNK-004")
    lab.steps(batch, day0, 3)
    lab.counts(batch, day0, (0, 3, 5, 7))
    return batch


def on_hold(lab: Lab) -> Batch:
    """Culture day 6: an incubator excursion last night put it on hold; QA to disposition.
    Made in the second suite, where a settle plate of day 2 grew above the action limit."""
    batch, day0 = lab.thawed(6, room=EXCURSION_ROOM)
    lab.steps(batch, day0, 3)
    lab.counts(batch, day0, (0, 3, 5))
    with at(day0 + timedelta(days=5, hours=9)):
        batch_record.deviation_open(
            actor=lab.people.tech,
            batch=batch,
            kind="other",
            what="Incubator INC-03 CO2 at 3.1 % for two hours overnight (alarm 02:10 to 04:15)",
            why="The CO2 cylinder ran empty and the automatic change-over valve stuck",
            impact="Possible pH drift in culture; count and viability before restimulation",
        )
    return batch


def in_qc(lab: Lab) -> Batch:
    """Harvested two days ago: the quick assays are resulted (three await second-person
    review), the overnight ones are overdue, the rest due later."""
    qc, qc2 = lab.people.qc, lab.people.qc2
    batch, day0 = lab.thawed(16)
    harvest = lab.into_qc(batch, day0)
    lab.result(batch, ("viability", "gram_stain"), harvest + 6 * HOUR, qc, qc2)
    lab.result(batch, ("identity_nk", "cd3_pct", "car_positive"), harvest + 9 * HOUR, qc)
    return batch


def awaiting_release(lab: Lab) -> Batch:
    """Every result reviewed in specification and the bags filled: QA to review the batch
    record and release it. Its first endotoxin read out of specification: a laboratory error
    found by the phase I investigation, which QA approved, and the retest in specification
    (the record review shows both)."""
    batch, day0 = lab.thawed(38, recipient="CARNK-004")
    harvest = lab.into_qc(batch, day0)
    lab.formulate(batch, harvest + 2 * HOUR, {"A0": 45, "B0": 45})
    lab.panel(batch, harvest, endotoxin_retested=True)
    return batch


def released(lab: Lab) -> Batch:
    """Off-the-shelf stock released nine days ago: bag A0 assigned to CARNK-002 (for the
    courier to pick up), B0 issued to the courier on the way to the ward, C0 infused into
    CARNK-001 a week ago (day-3 visit overdue, week 1 due today, a CRS still open), D0 on the
    shelf for no recipient yet, E0 running into CARNK-004 now (started, not completed)."""
    batch, day0 = lab.thawed(45)
    harvest = lab.into_qc(batch, day0)
    lab.formulate(batch, harvest + 2 * HOUR, {"A0": 15, "B0": 40, "C0": 15, "D0": 15, "E0": 15})
    lab.panel(batch, harvest)
    lab.release(batch, lab.now - timedelta(days=9, hours=4))
    bags = {bag.division: bag for bag in DoseUnit.objects.filter(batch=batch)}
    clinic = lab.people.clinic
    with at(lab.now - 9 * DAY):
        for division, subject, level in (
            ("A0", "CARNK-002", "DL2"),
            ("B0", "CARNK-003", "DL3"),
            ("C0", "CARNK-001", "DL1"),
            ("E0", "CARNK-004", "DL2"),
        ):
            weigh(clinic, subject)
            release.dose_assign(
                actor=clinic,
                dose_unit=bags[division],
                recipient=Recipient.objects.get(subject_id=subject),
                level_code=level,
            )
    # Fludarabine and cyclophosphamide on days -5 to -3 before each infusion; CARNK-002's
    # course is under way (day -3's doses due today), so its infusion is blocked for now.
    # Each infusion is planned for the day of its bedside check, which comes a few minutes
    # before the start and so, shortly after midnight, on the day before.
    c0_start = lab.now - timedelta(days=7, hours=-3)
    e0_start = lab.now - 20 * MINUTE
    lymphodeplete(lab, "CARNK-001", bedside_day(c0_start))
    lymphodeplete(lab, "CARNK-003", lab.now.date())
    lymphodeplete(lab, "CARNK-004", bedside_day(e0_start))
    lymphodeplete(lab, "CARNK-002", lab.now.date() + 3 * DAY, days=(-5, -4))
    infusion = infuse(lab, bags["C0"], c0_start)
    with at(infusion.started_at + 20 * HOUR):
        clinical.adverse_event_report(
            actor=clinic,
            infusion=infusion,
            kind="crs",
            grade=1,
            crs_temperature_c=Decimal("38.6"),
            crs_hypotension="none",
            crs_hypoxia="none",
            onset_at=infusion.started_at + 19 * HOUR,
            description="Fever 38.6 °C without hypotension or hypoxia; paracetamol given",
        )
    issue(lab, bags["B0"], lab.now - 2 * HOUR, to=lab.people.courier)
    start_infusion(lab, bags["E0"], e0_start)
    return batch


def conditionally_released(lab: Lab) -> Batch:
    """Released four days ago with sterility and RCR still running."""
    batch, day0 = lab.thawed(20, recipient="CARNK-005")
    harvest = lab.into_qc(batch, day0)
    lab.formulate(batch, harvest + 2 * HOUR, {"A0": 45})
    lab.panel(batch, harvest, pending=True)
    lab.release(batch, lab.now - 4 * DAY, conditional=True)
    return batch


def recalled(lab: Lab) -> Batch:
    """Released pending sterility eight days ago; yesterday the sterility culture turned
    positive, which recalled the batch at once (bags blocked, QA and clinic told)."""
    batch, day0 = lab.thawed(24)
    harvest = lab.into_qc(batch, day0)
    lab.formulate(batch, harvest + 2 * HOUR, {"A0": 30, "B0": 30})
    lab.panel(batch, harvest, pending=True)
    lab.release(batch, lab.now - 8 * DAY, conditional=True)
    lab.result(batch, ("sterility",), lab.now - DAY, lab.people.qc, value="positive")
    return batch


def terminated(lab: Lab) -> Batch:
    """Thawed at 42 % viability (the minimum is 50 %): saved with a deviation, which QA
    classified major with its root cause and a CAPA (now overdue: its owner has not recorded
    it done), and dispositioned by terminating the batch."""
    batch, day0 = lab.thawed(12)
    lab.step(
        batch,
        day0,
        0,
        values={"post_thaw_viability_pct": 42},
        deviation=batch_record.DeviationInput(
            what="",
            why="The unit waited 12 minutes between the LN2 shipper and the water bath",
            impact="Too few viable NK cells to reach the minimum dose",
        ),
    )
    deviation = Deviation.objects.get(batch=batch)
    with at(day0 + 19 * HOUR):
        capa.capa_raise(
            actor=lab.people.qa,
            deviations=[deviation],
            action=(
                "Thaw station prepared and the water bath at 37 °C before the LN2 shipper is "
                "opened; SOP-MFG-001 revised and the floor retrained"
            ),
            owner=lab.people.tech,
            due_on=timezone.localdate(day0 + 7 * DAY),
            effectiveness_check_on=timezone.localdate(day0 + 60 * DAY),
        )
    with at(day0 + 20 * HOUR):
        batch_record.deviation_disposition(
            classification="major",
            root_cause=(
                "The water bath was not ready when the shipper was opened: the thaw sequence "
                "in SOP-MFG-001 does not say to prepare it first"
            ),
            actor=lab.people.qa,
            password=DEMO_PASSWORD,
            deviation=deviation,
            disposition="reject_batch",
            notes="Post-thaw viability 42 % against a minimum of 50 %: batch terminated",
        )
    return batch
