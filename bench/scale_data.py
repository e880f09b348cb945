"""The scale bench's generator: a facility's database at a given size, through the real
models (bench/scale.py says what is in it). Runs in a process of its own on that database."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import timedelta

from bench.scale import ROLES, SEED, VERSION, lot_number

# The work in hand at either size (per 100 batches of a small facility, as many at a large
# one): what each role's worklists show. The rest of the batches are history.
ACTIVE_PER_100 = {"planned": 4, "in_process": 8, "harvested": 2, "in_qc": 5, "on_hold": 1}
HISTORY_STATES = ("released", "rejected", "terminated")
HISTORY_WEIGHTS = (88, 6, 6)
# Culture days with a count, and the day each step is performed (template order 1-5).
HARVEST_DAY = 14
STEP_DAYS = (0, 0, 2, 7, HARVEST_DAY)
BATCH_SPACING = timedelta(hours=4)


@dataclass
class Plan:
    """What one batch becomes."""

    n: int
    state: str
    created_at: object
    steps: int  # executed steps (template order 1..steps)
    count_days: int  # cell counts on days 0..count_days-1
    tests: bool  # its QC panel was triggered (harvested)
    deviation: bool


def _plans(size: int, rng: random.Random, now) -> list[Plan]:
    small = min(size, 100)
    active = []
    for state, per_100 in ACTIVE_PER_100.items():
        active += [state] * max(1 if size >= 20 else 0, round(per_100 * small / 100))
    rng.shuffle(active)
    history = rng.choices(HISTORY_STATES, weights=HISTORY_WEIGHTS, k=size - len(active))
    plans = []
    for n, state in enumerate(history + active):
        if n < len(history):
            # History: every BATCH_SPACING, oldest first, all of it done 20 days ago.
            created = now - timedelta(days=20) - BATCH_SPACING * (len(history) - n)
        else:
            created = now - timedelta(days=19) + timedelta(hours=9 * (n - len(history)))
        if state == "planned":
            steps, days = 0, 0
        elif state in ("in_process", "on_hold"):
            steps = rng.randint(1, 4)
            days = min(STEP_DAYS[steps - 1] + rng.randint(1, 4), HARVEST_DAY)
        elif state == "terminated":
            steps = rng.randint(1, 4)
            days = STEP_DAYS[steps - 1] + 1
        else:
            steps, days = 5, HARVEST_DAY + 1
        # Active batches are younger than their culture: no step in the future.
        if state in ("in_process", "on_hold", "harvested", "in_qc"):
            created = min(created, now - timedelta(days=days + 3))
        plans.append(
            Plan(
                n=n,
                state=state,
                created_at=created,
                steps=steps,
                count_days=days,
                tests=state in ("harvested", "in_qc", "released", "rejected"),
                deviation=state == "on_hold" or (steps > 0 and rng.random() < 0.12),
            )
        )
    return plans


def _users():
    from bench.fixtures import bench_user

    return {role: bench_user(f"scale-{role}", role) for role in [*ROLES, "admin"]}


def build_database(size: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    started = time.perf_counter()
    rng = random.Random(SEED)
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        users = _users()
        plans = _plans(size, rng, now)
        batches = _batches(plans, users, rng, size)
        _walk_lifecycle(plans, batches, users)
        steps = _steps(plans, batches, users)
        _counts(plans, batches, users, rng)
        _qc_tests(plans, batches, users, rng, now)
        _deviations(plans, batches, steps, users, rng)
        _custody(plans, batches, users)
        _bags(plans, batches, users, rng)
        _readings(users)
        with connection.cursor() as cur:
            cur.execute(
                "CREATE TABLE bench_scale_marker (size int, seed int, version int, "
                "built_at timestamptz, seconds float)"
            )
            cur.execute(
                "INSERT INTO bench_scale_marker VALUES (%s, %s, %s, now(), %s)",
                [size, SEED, VERSION, time.perf_counter() - started],
            )
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
        cur.execute(
            "SELECT (SELECT count(*) FROM batches_batch), (SELECT count(*) FROM qc_qctest), "
            "(SELECT count(*) FROM qc_instrumentreading), "
            "(SELECT count(*) FROM batches_cellcount), (SELECT count(*) FROM batches_deviation)"
        )
        b, t, r, c, d = cur.fetchone()
        cur.execute("SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE relname LIKE '%%event'")
        trail = cur.fetchone()[0]
    print(
        f"scale: {size:,} batches: {b:,} batches, {c:,} counts, {t:,} QC tests, {d:,} "
        f"deviations, {r:,} readings, about {trail or 0:,} trail events, in "
        f"{time.perf_counter() - started:.0f} s"
    )


def _batches(plans, users, rng, size):
    from batches.models import Batch, ProcessTemplate
    from qc.models import QcSpecSet
    from tests.factories import CordBloodUnitFactory

    template = ProcessTemplate.objects.get(code="CB-CAR-NK", version=1)
    ProcessTemplate.objects.filter(pk=template.pk, status="draft").update(status="approved")
    QcSpecSet.objects.filter(template=template, status="draft").update(status="approved")
    # A cord blood unit shared by a few batches (a share of it each).
    units = [
        CordBloodUnitFactory.create(registered_by=users["admin"]) for _ in range(max(1, size // 20))
    ]
    Batch.objects.bulk_create(
        [
            Batch(
                lot_number=lot_number(p.n),
                din=f"W042028{p.n:06d}",
                source_unit=units[p.n % len(units)],
                template=template,
                unit_fraction_used_pct=rng.choice((5, 10, 20, 25)),
                state="planned",
                state_changed_at=p.created_at,
                day0_at=p.created_at + timedelta(days=2) if p.steps else None,
                created_by=users["technician"],
                created_at=p.created_at,
            )
            for p in plans
        ],
        batch_size=2000,
    )
    return dict(
        Batch.objects.filter(lot_number__startswith="SCALE-").values_list("lot_number", "id")
    )


def _walk_lifecycle(plans, batches, users) -> None:
    """Each group of batches along its path, one UPDATE per transition (the trail keeps each)."""
    from batches.models import Batch, ReleaseDecision

    def ids(states):
        return [batches[lot_number(p.n)] for p in plans if p.state in states]

    def move(states, to, **extra):
        Batch.objects.filter(pk__in=ids(states)).update(state=to, **extra)

    decided = ("released", "rejected")
    move(("in_process", "on_hold", "terminated", "harvested", "in_qc", *decided), "in_process")
    move(("harvested", "in_qc", *decided), "harvested")
    move(("in_qc", *decided), "in_qc")
    move(("on_hold",), "on_hold", held_from_state="in_process")
    move(("terminated",), "terminated")
    ReleaseDecision.objects.bulk_create(
        [
            ReleaseDecision(
                batch_id=batches[lot_number(p.n)],
                decision="release" if p.state == "released" else "reject",
                reason="All release tests in specification."
                if p.state == "released"
                else "Out-of-specification result.",
                decided_by=users["qa"],
                decided_at=p.created_at + timedelta(days=HARVEST_DAY + 4),
            )
            for p in plans
            if p.state in decided
        ],
        batch_size=2000,
    )
    move(("released",), "released")
    move(("rejected",), "rejected")


def _steps(plans, batches, users) -> dict[tuple[int, int], int]:
    """Executed steps; (batch id, template order) -> step id."""
    from batches.models import ExecutedStep, TemplateStep

    template_steps = list(TemplateStep.objects.filter(template__code="CB-CAR-NK").order_by("order"))
    rows = []
    for p in plans:
        day0 = p.created_at + timedelta(days=2)
        for order in range(p.steps):
            at = day0 + timedelta(days=STEP_DAYS[order], hours=2 + order)
            rows.append(
                ExecutedStep(
                    batch_id=batches[lot_number(p.n)],
                    template_step=template_steps[order],
                    performed_by=users["technician"],
                    performed_at=at,
                    values={},
                    recorded_at=at + timedelta(minutes=10),
                )
            )
    made = ExecutedStep.objects.bulk_create(rows, batch_size=2000)
    order_of = {s.pk: s.order for s in template_steps}
    return {(s.batch_id, order_of[s.template_step_id]): s.pk for s in made}


def _counts(plans, batches, users, rng) -> None:
    from decimal import Decimal

    from batches.models import CellCount

    rows = []
    for p in plans:
        day0 = p.created_at + timedelta(days=2)
        for day in range(p.count_days):
            total = 1.0e6 * 1.35**day * rng.uniform(0.9, 1.1)
            viability = rng.uniform(85, 98)
            volume = Decimal(20 + 40 * day)
            at = day0 + timedelta(days=day, hours=9)
            rows.append(
                CellCount(
                    batch_id=batches[lot_number(p.n)],
                    day=day,
                    measured_at=at,
                    total_cells_per_ml=total,
                    viable_cells_per_ml=total * viability / 100,
                    viability_pct=Decimal(f"{viability:.2f}"),
                    volume_ml=volume,
                    total_viable_cells=total * viability / 100 * float(volume),
                    source="instrument",
                    recorded_by=users["technician"],
                    recorded_at=at + timedelta(minutes=5),
                )
            )
    CellCount.objects.bulk_create(rows, batch_size=5000)


def _qc_tests(plans, batches, users, rng, now) -> None:
    from qc.models import QcTest, QcTestDefinition

    definitions = list(
        QcTestDefinition.objects.filter(spec_set__template__code="CB-CAR-NK").order_by("id")
    )
    rows = []
    for p in plans:
        if not p.tests:
            continue
        harvest = p.created_at + timedelta(days=2 + HARVEST_DAY, hours=6)
        failed = rng.randrange(len(definitions)) if p.state == "rejected" else None
        for i, d in enumerate(definitions):
            due = harvest + timedelta(hours=d.turnaround_hours)
            if p.state in ("released", "rejected"):
                state = "reviewed"
            elif p.state == "in_qc":
                state = rng.choice(("planned", "sampled", "resulted", "reviewed"))
            else:
                state = "planned"
            test = QcTest(
                batch_id=batches[lot_number(p.n)],
                definition=d,
                state=state,
                triggered_at=harvest,
                sample_due_at=harvest + timedelta(hours=d.sample_offset_hours),
                due_at=due,
                result_text="",
                result_unit=d.unit,
                evaluation="",
                result_source="instrument" if d.result_type == "numeric" else "manual",
            )
            if state != "planned":
                test.sampled_at, test.sampled_by = harvest + timedelta(hours=1), users["technician"]
            if state in ("resulted", "reviewed"):
                in_spec = i != failed
                test.resulted_at = min(due - timedelta(hours=1), now)
                test.resulted_by = users["qc_analyst"]
                test.in_spec = in_spec
                test.evaluation = "in spec" if in_spec else "out of spec"
                if d.result_type == "numeric":
                    low, high = d.lower_limit, d.upper_limit
                    value = (
                        (low + high) / 2
                        if low is not None and high is not None
                        else (low or 0) + 1
                        if low is not None
                        else (high or 1) / 2
                    )
                    test.result_numeric = value if in_spec else (high or 0) * 2 + 1
                else:
                    test.result_text = "Pass" if in_spec else "Fail"
            if state == "reviewed":
                test.reviewed_at, test.reviewed_by = test.resulted_at, users["qa"]
            rows.append(test)
    QcTest.objects.bulk_create(rows, batch_size=5000)


def _deviations(plans, batches, steps, users, rng) -> None:
    from batches.models import Deviation

    rows = []
    for p in plans:
        if not p.deviation:
            continue
        batch_id = batches[lot_number(p.n)]
        order = rng.randint(1, p.steps) if p.steps else None
        opened = p.created_at + timedelta(days=2 + STEP_DAYS[(order or 1) - 1], hours=5)
        still_open = p.state == "on_hold"
        rows.append(
            Deviation(
                batch_id=batch_id,
                step_id=steps.get((batch_id, order)) if order else None,
                kind=rng.choice(("out_of_range", "late", "material", "other")),
                what="Incubator temperature 38.1 °C for 20 minutes.",
                why="Door left ajar during a feeder addition.",
                impact="Within the validated excursion; no impact expected.",
                state="open" if still_open else "closed",
                opened_by=users["technician"],
                opened_at=opened,
                disposition="" if still_open else "accept",
                disposition_notes="" if still_open else "Accepted: within validated limits.",
                dispositioned_by=None if still_open else users["qa"],
                dispositioned_at=None if still_open else opened + timedelta(hours=20),
            )
        )
    Deviation.objects.bulk_create(rows, batch_size=2000)


def _custody(plans, batches, users) -> None:
    from batches.models import CustodyEvent

    rows = []
    for p in plans:
        if not p.steps:
            continue
        batch_id = batches[lot_number(p.n)]
        moves = [("Cleanroom B2", "Incubator INC-04", 0)]
        if p.steps == 5:
            moves.append(("Cleanroom B2", "QC laboratory", HARVEST_DAY))
        for from_, to, day in moves:
            at = p.created_at + timedelta(days=2 + day, hours=7)
            rows.append(
                CustodyEvent(
                    batch_id=batch_id,
                    kind="hand-off",
                    released_by=users["technician"],
                    received_by=users["qc_analyst"] if to == "QC laboratory" else users["qa"],
                    from_location=from_,
                    to_location=to,
                    occurred_at=at,
                    recorded_by=users["technician"],
                    recorded_at=at + timedelta(minutes=3),
                )
            )
    CustodyEvent.objects.bulk_create(rows, batch_size=2000)


def _bags(plans, batches, users, rng) -> None:
    """Two bags per released batch: the older ones infused, the newer still on the shelf."""
    from decimal import Decimal

    from batches.models import DoseUnit

    released = [p for p in plans if p.state == "released"]
    rows = []
    for k, p in enumerate(released):
        made = p.created_at + timedelta(days=2 + HARVEST_DAY, hours=8)
        for division in ("A0", "B0"):
            rows.append(
                DoseUnit(
                    batch_id=batches[lot_number(p.n)],
                    division=division,
                    product_code=f"S1145V{division}",
                    presentation="cryopreserved",
                    volume_ml=Decimal(50),
                    total_cells_per_ml=2.0e7 * rng.uniform(0.8, 1.2),
                    car_positive_pct=Decimal(f"{rng.uniform(30, 70):.2f}"),
                    cd3_positive_pct=Decimal("0.050"),
                    expires_at=made + timedelta(days=365 * 5),
                    status="infused" if k < len(released) * 0.9 else "released",
                    created_by=users["technician"],
                    created_at=made,
                )
            )
    DoseUnit.objects.bulk_create(rows, batch_size=2000)


def _readings(users) -> None:
    """One reading per count (the count it became), and replicates (3 to 9) per numeric QC
    result: written in SQL from the rows already there, ids and values drawn from them."""
    from django.db import connection

    from bench.fixtures import bench_instrument

    instrument = bench_instrument(users["admin"])
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO qc_instrumentreading (reading_id, instrument_id, sample_id, batch_id,
                measured_at, "values", cell_count_id, received_at)
            SELECT md5('count-' || c.id)::uuid, %s,
                b.lot_number || '-D' || lpad(c.day::text, 2, '0'), c.batch_id, c.measured_at,
                jsonb_build_object('total_cells_per_ml', c.total_cells_per_ml,
                                   'viable_cells_per_ml', c.viable_cells_per_ml),
                c.id, c.recorded_at
            FROM batches_cellcount c JOIN batches_batch b ON b.id = c.batch_id
            ORDER BY c.id
            """,
            [instrument.pk],
        )
        cur.execute(
            """
            INSERT INTO qc_instrumentreading (reading_id, instrument_id, sample_id, batch_id,
                measured_at, "values", qc_test_id, received_at)
            SELECT md5('qc-' || t.id || '-' || g)::uuid, %s,
                b.lot_number || '-QC' || t.definition_id || '-' || g, t.batch_id,
                t.resulted_at - interval '1 hour' + g * interval '1 minute',
                jsonb_build_object('value', t.result_numeric, 'replicate', g),
                t.id, t.resulted_at
            FROM qc_qctest t JOIN batches_batch b ON b.id = t.batch_id
            CROSS JOIN LATERAL generate_series(1, 3 + (t.id %% 7)) g
            WHERE t.result_numeric IS NOT NULL
            ORDER BY t.id, g
            """,
            [instrument.pk],
        )
