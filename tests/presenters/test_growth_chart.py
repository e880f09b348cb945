"""Coordinates of the growth curve for known counts. The plot area is 576 x 244 SVG units,
its top left corner at (80, 20)."""

import math
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from batches.presenters.growth_chart import chart_scale, growth_chart, plotted_points


def point(day, cells, viability, fold=None):
    count = SimpleNamespace(measured_at=datetime(2026, 1, 1 + day, 9, 30, tzinfo=UTC))
    return {
        "count": count,
        "day": day,
        "total_viable_cells": cells,
        "viability_pct": viability,
        "fold_expansion": fold,
    }


def drawn(series, harvest_day=None) -> dict[str, Any]:
    """The chart of counts that can all be plotted (so there is one)."""
    chart = growth_chart(series, harvest_day=harvest_day)
    assert chart is not None
    return chart


def test_known_counts_on_a_log_scale():
    series = [point(0, 1e6, 90.0), point(14, 1e9, 80.0, fold=1000)]
    chart = drawn(series, harvest_day=14)
    # Days 0..14 across 576 units; decades 6..9 down 244 units; viability 100..0 likewise.
    assert [(p["x"], p["y"]) for p in chart["cells"]] == [("80.0", "264.0"), ("656.0", "20.0")]
    assert [(p["x"], p["y"]) for p in chart["viability"]] == [("80.0", "44.4"), ("656.0", "68.8")]
    assert chart["cells_line"] == "80.0,264.0 656.0,20.0"
    assert chart["viability_line"] == "80.0,44.4 656.0,68.8"
    assert chart["harvest_x"] == "656.0"
    assert [t["exponent"] for t in chart["cell_ticks"]] == [6, 7, 8, 9]
    assert [t["y"] for t in chart["cell_ticks"]] == ["264.0", "182.7", "101.3", "20.0"]
    assert [t["label"] for t in chart["x_ticks"]] == list(range(15))
    assert [t["y"] for t in chart["viability_ticks"]] == ["264.0", "203.0", "142.0", "81.0", "20.0"]
    assert (chart["left"], chart["right"], chart["top"], chart["bottom"]) == (80, 656, 20, 264)
    assert (chart["mid_x"], chart["mid_y"]) == (368.0, 142.0)


def test_titles_name_the_day_the_count_and_the_fold():
    chart = drawn([point(0, 1e6, 90.0), point(14, 1.5e9, 80.0, fold=1500)])
    assert chart["cells"][0]["title"] == (
        "Day 0 (2026-01-01 09:30): 1 × 10⁶ total viable cells, 90.0 % viable"
    )
    assert chart["cells"][1]["title"].endswith(
        "1.5 × 10⁹ total viable cells, 80.0 % viable, 1,500-fold since day 0"
    )


def test_one_count_gets_one_decade_and_no_harvest_line():
    chart = drawn([point(0, 1e6, 95.0)])
    assert [t["exponent"] for t in chart["cell_ticks"]] == [6, 7]
    assert chart["cells"][0]["x"] == "80.0"  # day 0 at the left edge of a one-day axis
    assert chart["harvest_x"] == ""


def test_a_long_culture_ticks_every_fifth_day():
    chart = drawn([point(0, 1e6, 90.0), point(28, 1e9, 85.0)])
    assert [t["label"] for t in chart["x_ticks"]] == [0, 5, 10, 15, 20, 25]


def test_the_harvest_day_stretches_the_axis_past_the_last_count():
    scale = chart_scale([point(0, 1e6, 90.0), point(7, 1e8, 90.0)], harvest_day=14)
    assert scale.last_day == 14
    assert scale.x(7) == 80 + 576 / 2


def test_counts_a_log_scale_cannot_show_are_left_out():
    series = [point(0, 0, 90.0), point(1, math.nan, 90.0), point(2, None, 90.0)]
    assert plotted_points(series) == []
    assert growth_chart(series) is None
    assert growth_chart([]) is None


def test_viability_is_clamped_to_the_plot():
    chart = drawn([point(0, 1e6, 120.0), point(1, 1e7, -5.0)])
    assert [p["y"] for p in chart["viability"]] == ["20.0", "264.0"]
