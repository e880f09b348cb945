"""The growth curve of a batch as coordinates for an inline SVG: total viable cells on a log
scale (left axis) and viability % (right axis) against culture day. Drawn on the server: no
script, no CDN."""

from __future__ import annotations

import math
from dataclasses import dataclass

from carnk_mfg.notation import lab_number_text

# The plot area inside the SVG, in SVG units.
CHART_WIDTH, CHART_HEIGHT = 720, 320
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 80, 64, 20, 56
PLOT_WIDTH = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
PLOT_HEIGHT = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
VIABILITY_TICKS = (0, 25, 50, 75, 100)


@dataclass(frozen=True)
class Scale:
    """Maps culture days, log10 cell numbers and viability % to SVG coordinates."""

    last_day: int  # the right end of the day axis
    low: int  # log10 of the bottom of the cell axis
    high: int  # log10 of its top

    def x(self, day) -> float:
        return CHART_LEFT + day / self.last_day * PLOT_WIDTH

    def y_cells(self, log) -> float:
        return CHART_TOP + (self.high - log) / (self.high - self.low) * PLOT_HEIGHT

    def y_viability(self, pct) -> float:
        return CHART_TOP + (100 - min(max(pct, 0), 100)) / 100 * PLOT_HEIGHT


def plotted_points(series: list[dict]) -> list[dict]:
    """The counts a log scale can show: a finite, positive number of viable cells."""
    return [
        p
        for p in series
        if isinstance(p["total_viable_cells"], int | float)
        and math.isfinite(p["total_viable_cells"])
        and p["total_viable_cells"] > 0
    ]


def chart_scale(points: list[dict], harvest_day: int | None) -> Scale:
    """Days from 0 to the last count or the harvest day; whole decades of cells around the
    counts (at least one)."""
    last_day = max(max(p["day"] for p in points), harvest_day or 0, 1)
    logs = [math.log10(p["total_viable_cells"]) for p in points]
    low, high = math.floor(min(logs)), math.ceil(max(logs))
    return Scale(last_day=last_day, low=low, high=high + 1 if high == low else high)


def point_title(point: dict) -> str:
    """The hover text of one count."""
    pct = float(point["viability_pct"])
    fold = point["fold_expansion"]
    return (
        f"Day {point['day']} ({point['count'].measured_at:%Y-%m-%d %H:%M}): "
        f"{lab_number_text(point['total_viable_cells'])} total viable cells, {pct:.1f} % viable"
        + (f", {fold:,.0f}-fold since day 0" if fold else "")
    )


def growth_chart(series: list[dict], harvest_day: int | None = None) -> dict | None:
    """Everything the batch page's SVG draws, or None when no count can be plotted."""
    points = plotted_points(series)
    if not points:
        return None
    scale = chart_scale(points, harvest_day)
    cells, viability = [], []
    for p in points:
        title = point_title(p)
        x = f"{scale.x(p['day']):.1f}"
        log = math.log10(p["total_viable_cells"])
        cells.append({"x": x, "y": f"{scale.y_cells(log):.1f}", "title": title})
        y_viable = scale.y_viability(float(p["viability_pct"]))
        viability.append({"x": x, "y": f"{y_viable:.1f}", "title": title})
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH - CHART_RIGHT,
        "top": CHART_TOP,
        "bottom": CHART_HEIGHT - CHART_BOTTOM,
        "mid_y": CHART_TOP + PLOT_HEIGHT / 2,
        "mid_x": CHART_LEFT + PLOT_WIDTH / 2,
        **axis_ticks(scale),
        "harvest_x": f"{scale.x(harvest_day):.1f}" if harvest_day is not None else "",
        "cells": cells,
        "viability": viability,
        "cells_line": " ".join(f"{p['x']},{p['y']}" for p in cells),
        "viability_line": " ".join(f"{p['x']},{p['y']}" for p in viability),
    }


def axis_ticks(scale: Scale) -> dict:
    """Tick marks: each day (every fifth past day 20), each decade of cells, each quarter of
    viability."""
    day_step = 1 if scale.last_day <= 20 else 5
    return {
        "x_ticks": [
            {"x": f"{scale.x(day):.1f}", "label": day}
            for day in range(0, scale.last_day + 1, day_step)
        ],
        "cell_ticks": [
            {"y": f"{scale.y_cells(e):.1f}", "exponent": e}
            for e in range(scale.low, scale.high + 1)
        ],
        "viability_ticks": [
            {"y": f"{scale.y_viability(pct):.1f}", "label": pct} for pct in VIABILITY_TICKS
        ],
    }
