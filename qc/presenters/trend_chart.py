"""Control charts of one trended figure as coordinates for inline SVG: the individuals chart
(points, centre line, 3-sigma control limits, spec limits) and the moving-range chart, and
the sparkline of the trend list. Drawn on the server: no script, no CDN; each point carries
its hover text and its batch's page."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from carnk_mfg.notation import lab_number_text
from qc import spc
from qc.selectors.trends import AttributeChart

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 84, 96, 16, 40
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
SPARK_WIDTH, SPARK_HEIGHT = 120, 28


@dataclass(frozen=True)
class Scale:
    count: int
    low: float
    high: float
    width: float = PLOT_WIDTH
    height: float = PLOT_HEIGHT
    left: float = LEFT
    top: float = TOP

    def x(self, i: int) -> float:
        return self.left + (i / (self.count - 1) * self.width if self.count > 1 else self.width / 2)

    def y(self, value: float) -> float:
        return self.top + (self.high - value) / (self.high - self.low) * self.height


def _scale(values: Sequence[float], lines: Sequence[float], **box: float) -> Scale:
    """Room for every value and every line drawn, with a little margin."""
    everything = [v for v in (*values, *lines) if math.isfinite(v)]
    low, high = min(everything), max(everything)
    margin = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    return Scale(count=len(values), low=low - margin, high=high + margin, **box)


def _ticks(scale: Scale) -> list[dict]:
    step = (scale.high - scale.low) / 4
    return [
        {
            "y": f"{scale.y(scale.low + k * step):.1f}",
            "label": lab_number_text(scale.low + k * step),
        }
        for k in range(5)
    ]


def _lines(chart: AttributeChart) -> list[dict]:
    """Horizontal lines: the control limits of the baseline in force and the spec limits."""
    found = []
    if chart.limits is not None:
        found += [
            {"value": chart.limits.upper, "label": "UCL", "kind": "control"},
            {"value": chart.limits.centre, "label": "Centre", "kind": "centre"},
            {"value": chart.limits.lower, "label": "LCL", "kind": "control"},
        ]
    attribute = chart.attribute
    if attribute.spec_upper is not None:
        found.append({"value": attribute.spec_upper, "label": "Upper spec", "kind": "spec"})
    if attribute.spec_lower is not None:
        found.append({"value": attribute.spec_lower, "label": "Lower spec", "kind": "spec"})
    return found


def individuals_chart(chart: AttributeChart) -> dict | None:
    """The I chart of the attribute, or None with no point to draw."""
    if not chart.points:
        return None
    values = [p.value for p in chart.points]
    lines = _lines(chart)
    scale = _scale(values, [line["value"] for line in lines])
    unit = chart.attribute.unit
    points = []
    for i, point in enumerate(chart.points):
        fired = [s.rule for s in chart.signals.get(point.pk, [])]
        title = (
            f"{point.batch.lot_number}, {point.observed_at:%Y-%m-%d %H:%M}: "
            f"{lab_number_text(point.value)} {unit}".rstrip()
            + (f". Signal: {'; '.join(fired)}" if fired else "")
        )
        points.append(
            {
                "x": f"{scale.x(i):.1f}",
                "y": f"{scale.y(point.value):.1f}",
                "title": title,
                "signal": bool(fired),
                "lot": point.batch.lot_number,
            }
        )
    return {
        **_frame(scale),
        "points": points,
        "line": " ".join(f"{p['x']},{p['y']}" for p in points),
        "limits": [
            {**line, "y": f"{scale.y(line['value']):.1f}", "text": lab_number_text(line["value"])}
            for line in lines
        ],
    }


def moving_range_chart(chart: AttributeChart) -> dict | None:
    """The MR chart: each point's distance from the one before, with the MR upper limit."""
    ranges = chart.moving_ranges
    if not ranges:
        return None
    mean = chart.limits.mean_moving_range if chart.limits else None
    upper = spc.D4 * mean if mean is not None else None
    high = max([*ranges, upper or 0.0]) * 1.08 or 1.0
    scale = Scale(count=len(ranges) + 1, low=0.0, high=high, height=PLOT_HEIGHT / 2)
    points = [
        {
            "x": f"{scale.x(i + 1):.1f}",
            "y": f"{scale.y(r):.1f}",
            "title": f"{chart.points[i + 1].batch.lot_number}: moving range {lab_number_text(r)}",
        }
        for i, r in enumerate(ranges)
    ]
    limits = [
        {"y": f"{scale.y(value):.1f}", "label": label, "text": lab_number_text(value), "kind": kind}
        for value, label, kind in ((upper, "MR UCL", "control"), (mean, "MR mean", "centre"))
        if value is not None
    ]
    return {
        **_frame(scale, height=TOP + PLOT_HEIGHT / 2 + BOTTOM),
        "points": points,
        "line": " ".join(f"{p['x']},{p['y']}" for p in points),
        "limits": limits,
    }


def _frame(scale: Scale, height: float = HEIGHT) -> dict:
    bottom = scale.top + scale.height
    return {
        "width": WIDTH,
        "height": f"{height:.0f}",
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": f"{bottom:.1f}",
        "label_x": WIDTH - RIGHT + 6,
        "ticks": _ticks(scale),
    }


def sparkline(values: Sequence[float]) -> str:
    """The polyline points of a small trend line (empty with fewer than two values)."""
    if len(values) < 2:
        return ""
    scale = _scale(values, [], width=SPARK_WIDTH - 4, height=SPARK_HEIGHT - 4, left=2, top=2)
    return " ".join(f"{scale.x(i):.1f},{scale.y(v):.1f}" for i, v in enumerate(values))
