"""The demo's process history for continued process verification: 25 batches of the default
template made in the weeks before the others and released, whose day-13 fold expansion
drifts down over the later ones. The trend scan reads them into points, and QA fixes the
control limits on the first twelve, which raises the signals of the drift for QA."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from batches.management.demo import DEMO_PASSWORD
from batches.management.demo.lifecycle import HOUR, Lab
from batches.models import Batch

# The trend scan and the baseline are QC's; the demo shows them on its own history.
from qc.models import TrendAttribute
from qc.services.trends import scan_trends, trend_baseline_fix

# Day-13 viable cells of each history batch against the demo's usual expansion, in thaw
# order: steady at first, then sliding down to the usual level of the later batches.
DAY13_EXPANSION = [
    *(1.09, 1.13, 1.05, 1.10, 1.07, 1.14, 1.06, 1.11, 1.04, 1.09, 1.12, 1.08),
    *(1.10, 1.07, 1.09, 1.06, 1.07, 1.05, 1.05, 1.04, 1.03, 1.02, 1.03, 1.01, 1.00),
]
BASELINE_BATCHES = 12
# The first history batch was thawed this long ago, the next ones a little under a day
# apart (released 36 days after the thaw, so the last one was released before today).
FIRST_THAW_DAYS_AGO = 58
THAW_EVERY_DAYS = 0.9
# The history batches share the one eligible unit left after the other demo batches.
SHARE_OF_UNIT = Decimal(100) / len(DAY13_EXPANSION)
TRENDED = "fold:13"


def history_batch(lab: Lab, unit, days_ago: float, day13: float) -> Batch:
    """A batch taken from thaw to release on the usual plan, its day-13 count scaled."""
    batch, day0 = lab.thawed(days_ago, unit=unit, share_pct=SHARE_OF_UNIT)
    harvest = lab.into_qc(batch, day0, scale={13: day13})
    lab.formulate(batch, harvest + 2 * HOUR, {"A0": 45})
    lab.panel(batch, harvest)
    lab.release(batch, harvest + timedelta(days=22))
    return batch


def load_trend_history(lab: Lab) -> dict[str, Batch]:
    """The history batches, the trend scan over the whole record, and QA's baseline of the
    day-13 fold expansion on the first twelve (which judges the points after them); the
    first and last history batch by what they show."""
    unit = next(lab.units)
    history = [
        history_batch(lab, unit, FIRST_THAW_DAYS_AGO - THAW_EVERY_DAYS * n, day13)
        for n, day13 in enumerate(DAY13_EXPANSION)
    ]
    # Today, as the load ends: the scan reads everything, then QA signs the limits.
    scan_trends()
    trend_baseline_fix(
        actor=lab.people.qa,
        password=DEMO_PASSWORD,
        attribute=TrendAttribute.objects.get(template=lab.template, key=TRENDED),
        lots=[batch.lot_number for batch in history[:BASELINE_BATCHES]],
        reason="The first twelve lots of the validated process, all released in "
        "specification: the control limits for continued process verification",
    )
    count = len(history)
    return {
        f"process history, first of {count}": history[0],
        f"process history, last of {count}": history[-1],
    }
