"""ISBT 128 bag labels (DESIGN section 6): one label per dose bag, with Code 128 barcodes for
the DIN, the product code, the expiry and, on a bag for a recipient, the Chain of Identity
identifier.

The ISBT 128 expiry barcode encodes the wall-clock time of the expiry in the zone it carries,
the same time the label prints, so the barcode and the eye-readable text always agree.
"""

from __future__ import annotations

import enum
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import inch, mm
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import Flowable, Spacer, Table

from batches.documents.drawing import (
    BiohazardLegend,
    EyeReadableDin,
    din_plain,
    paragraph,
    safe,
    sci,
    style,
    volume,
    when,
)
from batches.documents.inputs import (
    PRODUCT_DESCRIPTION,
    DonorEligibility,
    as_din,
    require_aware,
    require_text,
)
from carnk_mfg.isbt128 import (
    COLLECTION_TYPES,
    DIN,
    coi_check_character,
    coi_eye_readable,
    validate_coi,
)

# 21 CFR 1271.65(b)(2) (ineligible donor) and 1271.60(d)(2) (determination not complete).
# The ineligible donor's label carries the Biohazard legend first: the word, beside the
# drawn symbol.
BIOHAZARD_LEGEND = BiohazardLegend.WORD
WARNING_DISEASE_RISK = "WARNING: Advise patient of communicable disease risks"
WARNING_NOT_EVALUATED = "NOT EVALUATED FOR INFECTIOUS SUBSTANCES"
WARNING_REACTIVE = "WARNING: Reactive test results for {markers}"
# 21 CFR 312.6(a): an investigational product's label carries this in place of "Rx only".
INVESTIGATIONAL_CAUTION = (
    "Caution: New Drug--Limited by Federal (or United States) law to investigational use."
)
DO_NOT_IRRADIATE = "Do not irradiate"
DO_NOT_LEUKOREDUCE = "Do not use a leukoreduction filter"

# ISBT 128 data identifiers (first two characters of a data structure's data content).
EXPIRY_DATA_IDENTIFIER = "&>"  # data structure 005: expiration date and time
PRODUCT_CODE_DATA_IDENTIFIER = "=<"  # data structure 003: product code
# Product description code, collection type character, division (ST-001; "00": a product
# never divided).
_PRODUCT_CODE = re.compile(
    r"[A-Z][0-9]{4}[" + "".join(sorted(COLLECTION_TYPES)) + r"](?:00|[A-Z][a-z0])"
)

# Code 128 X dimension: 0.01 inch (10 mil) is two dots on a 203 dpi label printer and three
# on a 300 dpi one, so bars print at exact, equal widths. Quiet zones are 10 X each side.
BAR_WIDTH = 0.01 * inch
BAR_HEIGHT = 9 * mm
QUIET_ZONE = 10 * BAR_WIDTH

# ISBT 128 base label: 100 mm x 100 mm.
LABEL_SIZE = (100 * mm, 100 * mm)

# Cells on a label: the figures may differ by rounding only.
_CELL_COUNT_TOLERANCE = 0.02


# ---------------------------------------------------------------------------- input


@dataclass(frozen=True)
class BagLabel:
    """One dose bag. ``din`` is the batch's DIN, carried by every bag; the
    bag itself is told apart by the division in its product code (``=<S1145VA0`` ...)."""

    din: DIN
    product_code_data: str  # ISBT 128 data content, "=<" + 8-character product code
    lot_number: str
    expires_at: datetime
    volume_ml: Decimal | float
    car_nk_cells: float
    cells_per_ml: float
    donor_eligibility: DonorEligibility
    reactive_markers: Sequence[str] = ()
    recipient_subject_id: str | None = None  # None: off-the-shelf stock
    # The Chain of Identity identifier of this batch and recipient; None on stock bags.
    coi_identifier: str | None = None
    dose_level: str | None = None  # e.g. "DL2: 1 × 10^6 CAR-NK cells/kg"; needs a recipient
    facility: str = ""
    description: str = PRODUCT_DESCRIPTION
    caution: str = INVESTIGATIONAL_CAUTION
    storage_range_c: tuple[float, float] | None = None  # low and high, °C
    handling: Sequence[str] = (DO_NOT_IRRADIATE, DO_NOT_LEUKOREDUCE)

    def __post_init__(self) -> None:
        object.__setattr__(self, "din", as_din(self.din, "DIN"))
        object.__setattr__(self, "donor_eligibility", DonorEligibility(self.donor_eligibility))
        object.__setattr__(self, "reactive_markers", tuple(self.reactive_markers))
        object.__setattr__(self, "handling", tuple(self.handling))
        require_text(self.caution, "caution statement")
        if self.storage_range_c is not None:
            low, high = self.storage_range_c
            if not low < high:
                raise ValueError(f"storage range must run from low to high, got {low} to {high}")
        object.__setattr__(
            self, "product_code_data", _check_product_code_data(self.product_code_data)
        )
        require_text(self.lot_number, "lot number")
        require_aware(self.expires_at, "expiry")
        if self.expires_at is None:
            raise ValueError("expiry is required")
        self._check_figures()
        if self.dose_level and not self.recipient_subject_id:
            raise ValueError("a dose level is assigned for a recipient; no recipient given")
        if self.coi_identifier is not None:
            object.__setattr__(self, "coi_identifier", validate_coi(self.coi_identifier))
            if not self.recipient_subject_id:
                raise ValueError("a Chain of Identity names a recipient; no recipient given")
        if self.donor_eligibility == DonorEligibility.PENDING:
            raise ValueError(
                "donor eligibility of the source unit is not determined; record it as "
                "eligible, ineligible or incomplete before labelling"
            )
        if self.reactive_markers and self.donor_eligibility != DonorEligibility.INELIGIBLE:
            raise ValueError("reactive test results make the source unit ineligible")

    def _check_figures(self) -> None:
        """Volume, cells and concentration are positive and agree with each other."""
        for name in ("volume_ml", "car_nk_cells", "cells_per_ml"):
            value = getattr(self, name)
            if not isinstance(value, int | float | Decimal) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        expected = float(self.volume_ml) * float(self.cells_per_ml)
        if abs(expected - float(self.car_nk_cells)) > _CELL_COUNT_TOLERANCE * expected:
            raise ValueError(
                f"label figures disagree: {self.volume_ml} mL x {self.cells_per_ml:g} cells/mL "
                f"= {expected:g} cells, not {self.car_nk_cells:g}"
            )

    @property
    def division(self) -> str:
        """The product code's two division characters ("00": not divided)."""
        return self.product_code_data[-2:]


def _check_product_code_data(data: str) -> str:
    if not isinstance(data, str):
        raise TypeError(f"product code data must be a string, got {type(data).__name__}")
    text = data.strip()
    if not (
        text.startswith(PRODUCT_CODE_DATA_IDENTIFIER)
        and _PRODUCT_CODE.fullmatch(text[len(PRODUCT_CODE_DATA_IDENTIFIER) :])
    ):
        raise ValueError(
            f"product code data must be '=<' + a product description code (a letter and 4 "
            f"digits), a collection type and a division (e.g. =<S1145VA0), got {data!r}"
        )
    return text


# ------------------------------------------------------------------ data structures


def din_data_structure(din: DIN | str, flags: str | None = None) -> str:
    """ISBT 128 data structure 001, donation identification number: ``=`` + DIN + 2 flags.

    Without ``flags`` the computed-check flags (60 + Mod 37-2 check value) are used, so a
    scanner can verify the read; flags 60..96 that do not match the DIN are refused.
    """
    value = as_din(din, "DIN")
    return value.barcode(value.computed_check_flags if flags is None else flags)


def product_code_data_structure(product_code: str) -> str:
    """ISBT 128 data structure 003, product code: ``=<`` + 8-character product code."""
    return _check_product_code_data(PRODUCT_CODE_DATA_IDENTIFIER + str(product_code).strip())


def expiry_data_structure(dt: datetime) -> str:
    """ISBT 128 data structure 005, expiration date and time: ``&>cyyjjjhhmm``.

    c = century digit ((year // 100) mod 10: 0 for 2000-2099), yy = year within the century,
    jjj = day of the year (001-366, Julian date), hh = hour (00-23), mm = minute. Example:
    2026-12-01 14:30 -> ``&>0263351430``. The wall-clock time of ``dt`` in the zone it
    carries is encoded (ISBT 128 times are local times); ``dt`` must be timezone-aware so
    that zone is never a guess.
    """
    if not isinstance(dt, datetime):
        raise TypeError(f"expiry must be a datetime, got {type(dt).__name__}")
    require_aware(dt, "expiry")
    century = (dt.year // 100) % 10
    day_of_year = dt.timetuple().tm_yday
    return (
        f"{EXPIRY_DATA_IDENTIFIER}{century}{dt.year % 100:02d}{day_of_year:03d}"
        f"{dt.hour:02d}{dt.minute:02d}"
    )


def coi_data(identifier: str) -> str:
    """The Chain of Identity barcode's data: the identifier and its check character (the
    layout is modelled on the DIN's: carnk_mfg.isbt128)."""
    return validate_coi(identifier) + coi_check_character(identifier)


def label_barcode_values(label: BagLabel) -> list[str]:
    """The data content of the label's Code 128 barcodes, in drawing order:
    DIN with computed-check flags, product code, expiry date and time, and the Chain of
    Identity identifier when the bag has one."""
    values = [
        din_data_structure(label.din),
        label.product_code_data,
        expiry_data_structure(label.expires_at),
    ]
    if label.coi_identifier:
        values.append(coi_data(label.coi_identifier))
    return values


def label_warnings(label: BagLabel) -> list[str]:
    """The 21 CFR 1271 warnings a label must carry for its source unit's eligibility."""
    if label.donor_eligibility == DonorEligibility.INELIGIBLE:
        warnings = [BIOHAZARD_LEGEND, WARNING_DISEASE_RISK]
        if label.reactive_markers:
            warnings.append(WARNING_REACTIVE.format(markers=", ".join(label.reactive_markers)))
        return warnings
    if label.donor_eligibility == DonorEligibility.INCOMPLETE:
        return [WARNING_NOT_EVALUATED, WARNING_DISEASE_RISK]
    return []


# -------------------------------------------------------------------------- content


class Emphasis(enum.Enum):
    """How strongly a line of label text is set: the renderers map it to their own fonts."""

    NORMAL = "normal"
    STRONG = "strong"
    LARGE = "large"


@dataclass(frozen=True)
class LabelLine:
    text: str
    emphasis: Emphasis = Emphasis.NORMAL


@dataclass(frozen=True)
class LabelContent:
    """What one bag label says, band by band, worded once: the PDF and the thermal-printer
    (ZPL) renderers both draw this, so the two labels of a bag can never say different things.
    """

    din_barcode: str  # barcode data content: "=" + DIN + flags
    expiry_barcode: str  # "&>cyyjjjhhmm"
    product_barcode: str  # "=<" + product code
    din_eye_readable: str  # facility, year and sequence, spaced ("G1234 98 654321")
    din_check_character: str  # printed boxed after the eye-readable DIN
    expiry: tuple[LabelLine, ...]  # upper band, right column, under the expiry barcode
    description: str  # middle band, left column, under the product code barcode
    contents: tuple[LabelLine, ...]  # middle band, right column
    recipient: tuple[LabelLine, ...]  # lower band, left column
    handling: tuple[LabelLine, ...]  # under the recipient: storage range, handling statements
    caution: str  # under them: the investigational caution statement (21 CFR 312.6(a))
    warnings: tuple[str, ...]  # lower band, right column, boxed
    coi_barcode: str | None = None  # lower band, right column, above the warnings
    coi: LabelLine | None = None  # the eye-readable Chain of Identity, under its barcode


def label_content(label: BagLabel) -> LabelContent:
    """The words and barcode data of ``label``, as both renderers print them."""
    din_data, product_data, expiry_data, *coi_barcode = label_barcode_values(label)
    contents = [
        LabelLine(f"Volume: {volume(label.volume_ml)}"),
        LabelLine(f"CAR-NK cells: {sci(label.car_nk_cells)}", Emphasis.STRONG),
        LabelLine(f"Concentration: {sci(label.cells_per_ml)} cells/mL"),
        LabelLine(f"Lot {label.lot_number}  Division {label.division}"),
    ]
    if label.facility:
        contents.append(LabelLine(label.facility))
    if label.recipient_subject_id:
        recipient = [LabelLine(f"Recipient: {label.recipient_subject_id}", Emphasis.LARGE)]
        if label.dose_level:
            recipient.append(LabelLine(f"Dose level: {label.dose_level}", Emphasis.STRONG))
    else:
        recipient = [LabelLine("Off-the-shelf: not assigned to a recipient", Emphasis.STRONG)]
    return LabelContent(
        din_barcode=din_data,
        expiry_barcode=expiry_data,
        product_barcode=product_data,
        din_eye_readable=din_plain(label.din),
        din_check_character=label.din.check_character,
        expiry=(
            LabelLine("EXPIRES", Emphasis.STRONG),
            LabelLine(when(label.expires_at), Emphasis.LARGE),
        ),
        description=label.description,
        contents=tuple(contents),
        recipient=tuple(recipient),
        handling=tuple(_handling_lines(label)),
        caution=label.caution,
        warnings=tuple(label_warnings(label)),
        coi_barcode=coi_barcode[0] if coi_barcode else None,
        coi=(
            LabelLine(
                f"Chain of Identity: {coi_eye_readable(label.coi_identifier)} "
                f"{coi_check_character(label.coi_identifier)}",
                Emphasis.STRONG,
            )
            if label.coi_identifier
            else None
        ),
    )


def _degrees(value: float) -> str:
    return f"{value:g} °C"


def _handling_lines(label: BagLabel) -> list[LabelLine]:
    """Where to keep the bag and how not to handle it."""
    lines = []
    if label.storage_range_c is not None:
        low, high = label.storage_range_c
        lines.append(LabelLine(f"Store at {_degrees(low)} to {_degrees(high)}", Emphasis.STRONG))
    lines.extend(LabelLine(text, Emphasis.STRONG) for text in label.handling)
    return lines


# -------------------------------------------------------------------------- drawing

_L_DATA = style("label-data", 6.5, leading=7.5)
_L_TEXT = style("label-text", 7, leading=8.4)
_L_BOLD = style("label-bold", 7, bold=True, leading=8.4)
_L_PRODUCT = style("label-product", 8, bold=True, leading=9.6)
_L_BIG = style("label-big", 9, bold=True, leading=11)
_L_WARN = style("label-warn", 7.5, bold=True, leading=9, alignment=TA_CENTER)
_L_CAUTION = style("label-caution", 7, bold=True, leading=8.4)

_STYLES = {Emphasis.NORMAL: _L_TEXT, Emphasis.STRONG: _L_BOLD, Emphasis.LARGE: _L_BIG}


def _paragraphs(lines: Sequence[LabelLine]) -> list[Flowable]:
    return [paragraph(line.text, _STYLES[line.emphasis]) for line in lines]


_MARGIN = 3 * mm
_GUTTER = 3 * mm


class LabelOverflowError(ValueError):
    """The label's content does not fit on the label; nothing is cut off silently."""


def _code128(value: str) -> Code128:
    return Code128(
        value,
        barWidth=BAR_WIDTH,
        barHeight=BAR_HEIGHT,
        quiet=1,
        lquiet=QUIET_ZONE,
        rquiet=QUIET_ZONE,
        humanReadable=0,
    )


def _place(
    c: pdfcanvas.Canvas,
    flowables: Sequence[Flowable],
    x: float,
    top: float,
    width: float,
    bottom: float,
    what: str,
) -> float:
    """Draw ``flowables`` one under the other from ``top`` down; return the new top."""
    for flowable in flowables:
        w, h = flowable.wrap(width, top - bottom)
        if top - h < bottom - 0.01 or w > width + 0.01:
            raise LabelOverflowError(f"label content does not fit: {what}")
        flowable.drawOn(c, x, top - h)
        top -= h
    return top


def _barcode_block(c: pdfcanvas.Canvas, value: str, x: float, top: float, width: float) -> float:
    """A Code 128 symbol (with its quiet zones) and its data content written under it."""
    symbol = _code128(value)
    w, h = symbol.wrap(width, top)
    if w > width + 0.01:
        raise LabelOverflowError(f"barcode {value!r} is wider than its space on the label")
    symbol.drawOn(c, x, top - h)
    top -= h + 1.5
    return _place(c, [paragraph(value, _L_DATA)], x + QUIET_ZONE, top, width - QUIET_ZONE, 0, value)


@dataclass(frozen=True)
class _Columns:
    """The label's two columns: where each starts and how wide both are."""

    left: float
    right: float
    width: float

    @classmethod
    def on(cls, label_width: float) -> _Columns:
        width = (label_width - 2 * _MARGIN - _GUTTER) / 2
        return cls(left=_MARGIN, right=_MARGIN + width + _GUTTER, width=width)


def _draw_upper_band(
    c: pdfcanvas.Canvas, label: BagLabel, content: LabelContent, columns: _Columns, top: float
) -> float:
    """The DIN (left) and the expiry (right); returns the lowest point drawn."""
    left, right, column = columns.left, columns.right, columns.width
    y = _barcode_block(c, content.din_barcode, left, top, column)
    y = _place(c, [EyeReadableDin(label.din, 10.5)], left, y - 1, column, 0, "eye-readable DIN")
    band_bottom = y
    y = _barcode_block(c, content.expiry_barcode, right, top, column)
    y = _place(
        c,
        _paragraphs(content.expiry),
        right + QUIET_ZONE,
        y - 1,
        column - QUIET_ZONE,
        0,
        "expiry",
    )
    return min(band_bottom, y)


def _draw_middle_band(
    c: pdfcanvas.Canvas, content: LabelContent, columns: _Columns, top: float
) -> float:
    """Product code and description (left), contents (right); returns the lowest point."""
    left, right, column = columns.left, columns.right, columns.width
    y = _barcode_block(c, content.product_barcode, left, top, column)
    y = _place(
        c,
        [paragraph(content.description, _L_PRODUCT)],
        left,
        y - 1,
        column,
        _MARGIN,
        "product description",
    )
    band_bottom = y
    y = _place(c, _paragraphs(content.contents), right, top - 1, column, _MARGIN, "contents")
    return min(band_bottom, y)


def _draw_lower_band(
    c: pdfcanvas.Canvas, content: LabelContent, columns: _Columns, top: float
) -> None:
    """Recipient and dose, storage and handling, the caution statement (left); the Chain of
    Identity and the eligibility warnings (right)."""
    left, right, column = columns.left, columns.right, columns.width
    who = _paragraphs(content.recipient)
    who.append(Spacer(1, 2))
    who.extend(_paragraphs(content.handling))
    who.append(Spacer(1, 2))
    who.append(paragraph(content.caution, _L_CAUTION))
    _place(c, who, left, top, column, _MARGIN, "recipient")

    if content.coi_barcode and content.coi:
        top = _barcode_block(c, content.coi_barcode, right, top, column)
        top = _place(
            c,
            _paragraphs([content.coi]),
            right + QUIET_ZONE,
            top - 1,
            column - QUIET_ZONE,
            _MARGIN,
            "Chain of Identity",
        )
        top -= 2
    if content.warnings:
        box = Table(
            [
                [BiohazardLegend() if text == BIOHAZARD_LEGEND else paragraph(text, _L_WARN)]
                for text in content.warnings
            ],
            colWidths=[column],
            style=[
                ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ],
        )
        _place(c, [box], right, top, column, _MARGIN, "warnings")


def _draw_label(c: pdfcanvas.Canvas, label: BagLabel, size: tuple[float, float]) -> None:
    width, height = size
    columns = _Columns.on(width)
    content = label_content(label)

    c.setLineWidth(0.5)
    c.setStrokeColor(colors.HexColor("#666666"))
    c.rect(1 * mm, 1 * mm, width - 2 * mm, height - 2 * mm, stroke=1, fill=0)
    c.setStrokeColor(colors.black)

    top = _draw_upper_band(c, label, content, columns, height - _MARGIN)
    top -= 2 * mm
    c.setLineWidth(0.4)
    c.line(_MARGIN, top + 1 * mm, width - _MARGIN, top + 1 * mm)
    top = _draw_middle_band(c, content, columns, top) - 2 * mm
    c.line(_MARGIN, top + 1 * mm, width - _MARGIN, top + 1 * mm)
    _draw_lower_band(c, content, columns, top)


def _refuse_twin_bags(labels: list[BagLabel]) -> None:
    """Two labels with the same DIN and product code would be two bags no one can tell apart."""
    seen: dict[tuple[str, str], int] = {}
    for number, label in enumerate(labels, start=1):
        key = (label.din.text, label.product_code_data)
        if key in seen:
            raise ValueError(
                f"labels {seen[key]} and {number} both carry DIN {key[0]} and product code "
                f"{key[1]}: each bag needs its own division"
            )
        seen[key] = number


def bag_labels_pdf(
    labels: Sequence[BagLabel], *, label_size: tuple[float, float] = LABEL_SIZE
) -> bytes:
    """Render ISBT 128-style bag labels, one per page of ``label_size`` (100 mm x 100 mm).

    Raises ValueError for no labels or for two labels with the same DIN and product code
    (two bags that could not be told apart), and LabelOverflowError if a label's content
    does not fit (never cut off).
    """
    labels = list(labels)
    if not labels:
        raise ValueError("no labels to print")
    _refuse_twin_bags(labels)

    buffer = io.BytesIO()
    c = pdfcanvas.Canvas(buffer, pagesize=label_size, invariant=1)
    c.setTitle(safe(f"Bag labels {labels[0].lot_number}"))
    c.setCreator("carnk_mfg")
    for label in labels:
        _draw_label(c, label, label_size)
        c.showPage()
    c.save()
    return buffer.getvalue()
