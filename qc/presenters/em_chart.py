"""The trend of one sampling point as coordinates for inline SVG (templates/qc/trends/
chart.html draws it): each read count in time order, with the alert and action limit lines
of the room's grade; alert and action results stand out. Drawn on the server, no script."""

from __future__ import annotations

from qc.models import EmLevel, EmSample
from qc.presenters.trend_chart import HEIGHT, LEFT, RIGHT, TOP, WIDTH, Scale


def em_point_chart(samples: list[EmSample]) -> dict | None:
    """The chart of a point's read samples (oldest first), or None with none read. The limit
    lines are those the newest result was judged against."""
    if not samples:
        return None
    newest = samples[-1]
    limits: list[tuple[int, str, str]] = [
        (newest.action_limit or 0, "Action >", "spec"),
        (newest.alert_limit or 0, "Alert >", "control"),
    ]
    high = max([*(s.cfu or 0 for s in samples), *(value for value, _l, _k in limits)]) * 1.15 or 1
    scale = Scale(count=len(samples), low=0.0, high=float(high))
    points = [
        {
            "x": f"{scale.x(i):.1f}",
            "y": f"{scale.y(s.cfu or 0):.1f}",
            "title": f"{s.sampling_started_at:%Y-%m-%d %H:%M} {s.get_sample_type_display()}: "
            f"{s.cfu} CFU ({s.get_level_display().lower()})",
            "signal": s.level != EmLevel.WITHIN,
        }
        for i, s in enumerate(samples)
    ]
    step = scale.high / 4
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": f"{scale.top + scale.height:.1f}",
        "label_x": WIDTH - RIGHT + 6,
        "ticks": [{"y": f"{scale.y(k * step):.1f}", "label": f"{k * step:.0f}"} for k in range(5)],
        "points": points,
        "line": " ".join(f"{p['x']},{p['y']}" for p in points),
        "limits": [
            {"label": label, "kind": kind, "y": f"{scale.y(value):.1f}", "text": str(value)}
            for value, label, kind in limits
        ],
    }
