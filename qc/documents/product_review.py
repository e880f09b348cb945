"""The periodic product review of one process template version over a date range: the
batches made and what became of them, deviations by kind, out-of-specification results, and
for each trended figure its control chart, limits, capability and signals with QA's
assessments.

Pure: the inputs are frozen dataclasses a selector fills; the output is PDF bytes, the same
bytes for the same input (reportlab's ``invariant`` mode; the generation time is an input).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, SimpleDocTemplate, Spacer, Table, TableStyle

from batches.documents.coa import NumberedCanvas
from batches.documents.drawing import FONT, paragraph, safe, sci, style, when
from batches.documents.inputs import require_aware
from qc import spc

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class BatchLine:
    lot_number: str
    made_at: datetime
    state: str  # as the lab reads it: "Released", "In QC"

    def __post_init__(self) -> None:
        require_aware(self.made_at, f"start of batch {self.lot_number}")


@dataclass(frozen=True)
class OosLine:
    """A QC result out of its specification."""

    lot_number: str
    test_name: str
    result: str
    specification: str
    resulted_at: datetime
    state: str

    def __post_init__(self) -> None:
        require_aware(self.resulted_at, f"result time of {self.test_name!r}")


@dataclass(frozen=True)
class ChartPoint:
    lot_number: str
    observed_at: datetime
    value: float
    signalled: bool = False  # fired at least one run rule


@dataclass(frozen=True)
class SignalLine:
    """A run rule a point fired, and QA's signed assessment (empty while not assessed)."""

    lot_number: str
    rule: str
    value: float
    raised_at: datetime
    assessment: str = ""
    comment: str = ""
    investigation_reference: str = ""
    assessed_by: str = ""
    assessed_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.raised_at, f"time of signal {self.rule!r}")
        require_aware(self.assessed_at, f"assessment time of signal {self.rule!r}")


@dataclass(frozen=True)
class AttributeReview:
    """One trended figure over the period: its points oldest first, the limits of the
    baseline in force at the end of the period, its capability (or why there is none)."""

    name: str
    unit: str
    spec_lower: float | None
    spec_upper: float | None
    points: Sequence[ChartPoint]
    limits: spc.ControlLimits | None
    baseline: str  # how the baseline was chosen and when it was signed; "" for none
    capability: spc.Capability | None
    capability_missing: str
    signals: Sequence[SignalLine] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", tuple(self.points))
        object.__setattr__(self, "signals", tuple(self.signals))


@dataclass(frozen=True)
class ProductReview:
    template: str
    start: date
    end: date
    generated_at: datetime
    batches: Sequence[BatchLine]
    released: int
    rejected: int
    recalled: int
    deviations_by_kind: Sequence[tuple[str, int]]
    deviations_open: int
    out_of_spec: Sequence[OosLine]
    attributes: Sequence[AttributeReview]

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the review period ends before it starts")
        require_aware(self.generated_at, "generation time")
        for name in ("batches", "deviations_by_kind", "out_of_spec", "attributes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


# ------------------------------------------------------------------------ formatting


def figure(value: float | None) -> str:
    """A figure as printed: four significant digits, powers of ten for very large or small."""
    if value is None:
        return "-"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return ("-" if value < 0 else "") + sci(abs(value))
    return f"{value:.4g}"


def spec_text(lower: float | None, upper: float | None, unit: str = "") -> str:
    unit = f" {unit}" if unit else ""
    if lower is not None and upper is not None:
        return f"{figure(lower)} to {figure(upper)}{unit}"
    if lower is not None:
        return f"at least {figure(lower)}{unit}"
    if upper is not None:
        return f"at most {figure(upper)}{unit}"
    return "none"


def limits_text(limits: spc.ControlLimits) -> str:
    return (
        f"Centre {figure(limits.centre)}, UCL {figure(limits.upper)}, "
        f"LCL {figure(limits.lower)} (sigma {figure(limits.sigma)}, "
        f"from {limits.baseline_points} baseline points)"
    )


def capability_text(capability: spc.Capability) -> str:
    low, high = capability.cpk_interval
    p_low, p_high = capability.ppk_interval
    level = f"{capability.confidence:.0%}"
    return (
        f"Cpk {capability.cpk:.2f} ({level} CI {low:.2f} to {high:.2f}), "
        f"Ppk {capability.ppk:.2f} ({level} CI {p_low:.2f} to {p_high:.2f}), "
        f"over {capability.points} points"
    )


# -------------------------------------------------------------------------- drawing

_TITLE = style("apr-title", 17, bold=True, leading=21, spaceAfter=1)
_SUBTITLE = style("apr-subtitle", 9.5, leading=12, textColor=colors.HexColor("#333333"))
_H2 = style("apr-h2", 12.5, bold=True, leading=15, spaceBefore=10, spaceAfter=4, keepWithNext=1)
_H3 = style("apr-h3", 10.5, bold=True, leading=13, spaceBefore=8, spaceAfter=3, keepWithNext=1)
_BODY = style("apr-body", 8.5)
_CELL = style("apr-cell", 7.5, leading=9)
_CELL_BOLD = style("apr-cell-bold", 7.5, bold=True, leading=9)
_HEAD = style("apr-head", 7.5, bold=True, leading=9, textColor=colors.white)
_WARN = style("apr-warn", 8.5, bold=True, textColor=colors.HexColor("#9b0000"))
_NOTE = style("apr-note", 7.5, leading=9, textColor=colors.HexColor("#333333"))

_HEADER_BG = colors.HexColor("#2f3e4e")
_GRID = colors.HexColor("#9aa5b1")
_POINT = colors.HexColor("#0f6e6a")
_SIGNAL = colors.HexColor("#b00020")
_CENTRE = colors.HexColor("#2e7d32")
_SPEC = colors.HexColor("#333333")


def _p(text: str, paragraph_style: Any = _CELL) -> Flowable:
    return paragraph(text, paragraph_style)


def _table(header: Sequence[str], rows: Sequence[list[Any]], widths: list[Any]) -> Table:
    body: list[list[Any]] = [[_p(h, _HEAD) for h in header], *rows]
    table = Table(body, colWidths=widths, repeatRows=1, hAlign="LEFT", splitByRow=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
                ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


def individuals_chart(attribute: AttributeReview, width: float, height: float = 55 * mm) -> Drawing:
    """The I chart: each point in time order, the centre line, the control limits (dashed)
    and the spec limits (dotted); points that fired a rule in red. Labels say which line is
    which at the right edge."""
    drawing = Drawing(width, height)
    left, right, bottom, top = 4, width - 34, 6, height - 6
    frame = Rect(left, bottom, right - left, top - bottom)
    frame.strokeColor, frame.fillColor = _GRID, None
    drawing.add(frame)
    values = [p.value for p in attribute.points]
    lines: list[tuple[str, float, Any, Any]] = []
    if attribute.limits is not None:
        lines += [
            ("UCL", attribute.limits.upper, _SIGNAL, (3, 2)),
            ("CL", attribute.limits.centre, _CENTRE, None),
            ("LCL", attribute.limits.lower, _SIGNAL, (3, 2)),
        ]
    if attribute.spec_upper is not None:
        lines.append(("USL", attribute.spec_upper, _SPEC, (1, 2)))
    if attribute.spec_lower is not None:
        lines.append(("LSL", attribute.spec_lower, _SPEC, (1, 2)))
    every = values + [y for _, y, _, _ in lines]
    if not values:
        return drawing
    low, high = min(every), max(every)
    pad = (high - low) * 0.08 or abs(high) * 0.05 or 1.0
    low, high = low - pad, high + pad

    def y_of(value: float) -> float:
        return bottom + (value - low) / (high - low) * (top - bottom)

    def x_of(index: int) -> float:
        if len(values) == 1:
            return (left + right) / 2
        return left + 6 + index * (right - left - 12) / (len(values) - 1)

    for label, value, colour, dash in lines:
        y = y_of(value)
        drawing.add(
            Line(left, y, right, y, strokeColor=colour, strokeWidth=0.7, strokeDashArray=dash)
        )
        drawing.add(
            String(right + 3, y - 2.5, label, fontName=FONT, fontSize=6.5, fillColor=colour)
        )
    coordinates = [c for i, v in enumerate(values) for c in (x_of(i), y_of(v))]
    if len(values) > 1:
        drawing.add(PolyLine(coordinates, strokeColor=_POINT, strokeWidth=0.8))
    radius = 1.6 if len(values) <= 200 else 0.8
    for i, point in enumerate(attribute.points):
        signal = point.signalled
        drawing.add(
            Circle(
                x_of(i),
                y_of(point.value),
                radius * (1.5 if signal else 1),
                fillColor=_SIGNAL if signal else _POINT,
                strokeColor=None,
            )
        )
    return drawing


def _signal_rows(signals: Sequence[SignalLine]) -> list[list[Any]]:
    rows = []
    for s in signals:
        if s.assessment:
            assessed = s.assessment
            if s.investigation_reference:
                assessed += f" ({s.investigation_reference})"
            assessed += f": {s.comment}\n{s.assessed_by}, {when(s.assessed_at)}"
            cell = _p(assessed)
        else:
            cell = _p("Not yet assessed", _CELL_BOLD)
        rows.append(
            [
                _p(s.lot_number, _CELL_BOLD),
                _p(s.rule),
                _p(figure(s.value)),
                _p(when(s.raised_at)),
                cell,
            ]
        )
    return rows


def _attribute_section(attribute: AttributeReview, width: float) -> list[Flowable]:
    unit = f" ({attribute.unit})" if attribute.unit else ""
    head: list[Flowable] = [
        _p(f"{attribute.name}{unit}", _H3),
        _p(
            f"{len(attribute.points)} points in the period. Specification: "
            f"{spec_text(attribute.spec_lower, attribute.spec_upper, attribute.unit)}.",
            _BODY,
        ),
    ]
    if attribute.limits is not None:
        head.append(_p(f"Control limits: {limits_text(attribute.limits)}.", _BODY))
        head.append(_p(f"Baseline: {attribute.baseline}.", _NOTE))
    else:
        head.append(_p("No baseline fixed: no control limits, no run rules judged.", _WARN))
    if attribute.points:
        head += [Spacer(1, 3), individuals_chart(attribute, width)]
    story: list[Flowable] = [KeepTogether(head)]
    if attribute.capability is not None:
        story.append(_p(f"Capability: {capability_text(attribute.capability)}.", _BODY))
        story.append(_p(attribute.capability.caveat, _NOTE))
    else:
        story.append(_p(f"Capability not computed: {attribute.capability_missing}", _BODY))
    if attribute.signals:
        story.append(Spacer(1, 3))
        story.append(
            _table(
                ("Lot", "Rule fired", "Value", "Raised", "QA assessment"),
                _signal_rows(attribute.signals),
                [30 * mm, 40 * mm, 20 * mm, 30 * mm, None],
            )
        )
    else:
        story.append(_p("No signals in the period.", _BODY))
    return story


def _batches_section(review: ProductReview) -> list[Flowable]:
    summary = (
        f"Batches made: {len(review.batches)}. Of these, released: {review.released}; "
        f"rejected: {review.rejected}; recalled: {review.recalled}."
    )
    story: list[Flowable] = [_p("Batches", _H2), _p(summary, _BODY), Spacer(1, 3)]
    if review.batches:
        rows = [
            [_p(b.lot_number, _CELL_BOLD), _p(when(b.made_at)), _p(b.state)] for b in review.batches
        ]
        story.append(_table(("Lot", "Started", "State today"), rows, [40 * mm, 50 * mm, None]))
    return story


def _quality_section(review: ProductReview) -> list[Flowable]:
    total = sum(count for _, count in review.deviations_by_kind)
    story: list[Flowable] = [
        _p("Deviations", _H2),
        _p(f"Deviations opened: {total}; still open: {review.deviations_open}.", _BODY),
    ]
    if review.deviations_by_kind:
        rows = [[_p(kind), _p(str(count))] for kind, count in review.deviations_by_kind]
        story += [Spacer(1, 3), _table(("Kind", "Opened"), rows, [80 * mm, 25 * mm])]
    story += [
        _p("Out-of-specification results", _H2),
        _p(f"Out-of-specification results: {len(review.out_of_spec)}.", _BODY),
    ]
    if review.out_of_spec:
        rows = [
            [
                _p(line.lot_number, _CELL_BOLD),
                _p(line.test_name),
                _p(line.result),
                _p(line.specification),
                _p(when(line.resulted_at)),
                _p(line.state),
            ]
            for line in review.out_of_spec
        ]
        widths = [30 * mm, 32 * mm, 22 * mm, 32 * mm, 30 * mm, None]
        story += [
            Spacer(1, 3),
            _table(("Lot", "Test", "Result", "Specification", "Resulted", "State"), rows, widths),
        ]
    return story


def product_review_pdf(review: ProductReview, *, page_size: tuple[float, float] = A4) -> bytes:
    """Render the periodic product review as PDF (portrait; "Page n of m" on every page)."""
    width, height = min(page_size), max(page_size)
    frame_width = width - 36 * mm
    period = f"{review.start:%Y-%m-%d} to {review.end:%Y-%m-%d}"
    story: list[Flowable] = [
        _p("Periodic product review", _TITLE),
        _p(f"{review.template}; period {period} (both days included)", _SUBTITLE),
        Spacer(1, 4),
        *_batches_section(review),
        *_quality_section(review),
        _p("Trended figures", _H2),
    ]
    if not review.attributes:
        story.append(_p("No trended figures for this template version.", _BODY))
    for attribute in review.attributes:
        story += _attribute_section(attribute, frame_width)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=(width, height),
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=20 * mm,
        title=safe(f"Periodic product review {review.template} {period}"),
        creator="carnk_mfg",
        invariant=1,
    )
    footer = safe(
        f"Generated {when(review.generated_at, seconds=True)} | Product review "
        f"{review.template} | {period}"
    )
    doc.build(story, canvasmaker=partial(NumberedCanvas, footer=footer))
    return buffer.getvalue()
