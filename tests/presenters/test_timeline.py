"""The batch timeline: steps, counts, custody hand-offs and state changes merged in the order
they happened, and each step's values against their ranges."""

from datetime import timedelta
from decimal import Decimal

import pytest

from batches import selectors
from batches.models import ExecutedStep
from batches.presenters.timeline import batch_timeline, step_values
from batches.services import batch_record

pytestmark = pytest.mark.django_db


def timeline_of(batch, latest=10):
    return batch_timeline(
        batch,
        params_by_step={s.pk: list(s.parameters.all()) for s in batch.template.steps.all()},
        series=selectors.growth_series(batch),
        latest=latest,
    )


def test_entries_are_in_the_order_they_happened(
    started_batch, record_steps, read, day0, technician, qa
):
    batch = record_steps(started_batch, 2)  # thaw at day 0, stimulation 3 h later
    batch_record.cell_count_record(
        actor=technician,
        batch=batch,
        day=0,
        measured_at=day0 + timedelta(hours=1),
        total_cells_per_ml=1.1e6,
        viable_cells_per_ml=1e6,
        volume_ml=Decimal("10"),
    )
    batch_record.custody_record(
        actor=technician,
        released_by=technician.username,
        received_by=qa.username,
        from_location="Cleanroom A",
        to_location="Incubator 2",
        occurred_at=day0 + timedelta(hours=2),
        batch=batch,
    )
    entries = timeline_of(read(batch))
    # Steps, count and hand-off at the times typed (two days ago); the state changes at the
    # times the trail wrote them (the database's clock: just now), planning first.
    assert [(e["kind"], e.get("of")) for e in entries] == [
        ("step", None),
        ("count", None),
        ("custody", "batch"),
        ("step", None),
        ("state", None),
        ("state", None),
    ]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    thaw, count, custody, stimulation, planned, started = entries
    assert (planned["old"], planned["new"], planned["new_value"]) == ("", "Planned", "planned")
    assert (started["old"], started["new"], started["why"]) == ("Planned", "In process", "go")
    assert started["who"] != "—"
    assert thaw["step"].template_step.code == "thaw_isolation"
    assert stimulation["step"].template_step.code == "stimulation"
    assert [m.lot.lot_number for m in thaw["materials"]] == ["ISO-1"]
    assert len(thaw["signatures"]) == 1
    assert count["point"]["total_viable_cells"] == pytest.approx(1e7)
    assert custody["event"].to_location == "Incubator 2"


def test_setting_day_0_is_not_a_state_change(started_batch, record_steps, read):
    batch = read(record_steps(started_batch, 1))
    states = [e for e in timeline_of(batch) if e["kind"] == "state"]
    assert [(e["old"], e["new"]) for e in states] == [("", "Planned"), ("Planned", "In process")]


def test_step_values_show_each_parameter_against_its_range(approved_template):
    thaw = approved_template.steps.get(code="thaw_isolation")
    params = list(thaw.parameters.order_by("id"))
    executed = ExecutedStep(
        template_step=thaw,
        values={"post_thaw_tnc": 9e8, "post_thaw_viability_pct": 45, "nk_purity_pct": 92.5},
    )
    shown = step_values(executed, params)
    assert [row["name"] for row in shown] == [p.name for p in params]
    rows = {p.code: row for p, row in zip(params, shown, strict=True)}
    assert rows["cbu_din"]["value"] == "—"  # not recorded
    assert rows["post_thaw_tnc"]["number"] == 9e8  # written 9 × 10^8 by the page's filter
    assert rows["post_thaw_viability_pct"]["outside"] is True  # below 50 %
    purity = next(p for p in params if p.code == "nk_purity_pct")
    assert rows["nk_purity_pct"] == {
        "name": "NK purity (CD56+CD3-)",
        "number": 92.5,
        "value": 92.5,
        "unit": "%",
        "low": purity.min_value,
        "high": purity.max_value,
        "outside": False,
    }
    assert [code for code, row in rows.items() if row["outside"]] == ["post_thaw_viability_pct"]
