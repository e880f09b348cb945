"""Release documents (DESIGN section 6): the Certificate of Analysis and ISBT 128 bag labels.

Pure functions: no database, no Django. The inputs are frozen dataclasses defined here that
a caller fills from the models; the outputs are PDF bytes. Rendering is deterministic: the
same input gives byte-identical PDFs (reportlab's ``invariant`` mode, and the generation time
is an input), so a stored document can be re-created and compared.

Every date-time must be timezone-aware: it is printed in the zone it carries (convert it
first, e.g. with ``django.utils.timezone.localtime``), and the ISBT 128 expiry barcode
encodes that same wall-clock time, so the barcode and the eye-readable text always agree.

Text is set in Bitstream Vera (shipped inside reportlab) rather than the built-in Helvetica,
whose encoding has no "≥" or "≤" (used by specification texts); characters Vera lacks are
replaced by ASCII spellings (``_safe``) instead of printing as blank boxes.
"""

from __future__ import annotations

import enum
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch, mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from carnk_mfg.isbt128 import DIN

__all__ = [
    "CONSTRUCT",
    "PRODUCT_DESCRIPTION",
    "BagLabel",
    "CoaData",
    "DeviationLine",
    "DonorEligibility",
    "QcResultLine",
    "QcStatus",
    "SignatureLine",
    "bag_labels_pdf",
    "certificate_of_analysis_pdf",
    "din_data_structure",
    "expiry_data_structure",
    "label_barcode_values",
    "label_warnings",
    "product_code_data_structure",
]

PRODUCT_DESCRIPTION = "CAR-NK cells (anti-CD19 CAR, IL-15, iC9), allogeneic"
CONSTRUCT = "iC9/CAR.19/IL15"

# 21 CFR 1271.65(b)(2) (ineligible donor) and 1271.60(d)(2) (determination not complete).
WARNING_DISEASE_RISK = "WARNING: Advise patient of communicable disease risks"
WARNING_NOT_EVALUATED = "NOT EVALUATED FOR INFECTIOUS SUBSTANCES"
WARNING_REACTIVE = "WARNING: Reactive test results for {markers}"
RX_ONLY = "Rx only"

# ISBT 128 data identifiers (first two characters of a data structure's data content).
EXPIRY_DATA_IDENTIFIER = "&>"  # data structure 005: expiration date and time
PRODUCT_CODE_DATA_IDENTIFIER = "=<"  # data structure 003: product code
_PRODUCT_CODE = re.compile(r"[A-Z][0-9]{4}[A-Z0-9]{3}")  # same rule as the CBU model

# Code 128 X dimension: 0.01 inch (10 mil) is two dots on a 203 dpi label printer and three
# on a 300 dpi one, so bars print at exact, equal widths. Quiet zones are 10 X each side.
BAR_WIDTH = 0.01 * inch
BAR_HEIGHT = 9 * mm
QUIET_ZONE = 10 * BAR_WIDTH

# ISBT 128 base label: 100 mm x 100 mm.
LABEL_SIZE = (100 * mm, 100 * mm)

# Cells on a label: the figures may differ by rounding only.
_CELL_COUNT_TOLERANCE = 0.02

FONT = "CarnkVera"
FONT_BOLD = "CarnkVera-Bold"


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, "VeraBd.ttf"))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


_register_fonts()

# Characters Vera has no glyph for, spelled with ones it has.
_SUBSTITUTES = {
    "μ": "µ",  # Greek mu -> micro sign
    "→": "->",
    "←": "<-",
    "✓": "OK",
    "✗": "X",
    "≈": "~",
    "⁰": "^0",
    "¹": "^1",
    "⁴": "^4",
    "⁵": "^5",
    "⁶": "^6",
    "⁷": "^7",
    "⁸": "^8",
    "⁹": "^9",
    "⁻": "^-",
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
}
_FACE = pdfmetrics.getFont(FONT).face
_BOLD_FACE = pdfmetrics.getFont(FONT_BOLD).face


def _safe(text: str) -> str:
    """``text`` with every character the fonts cannot draw replaced by a drawable spelling."""
    out = []
    for char in str(text):
        if char in "\n\t" or (
            ord(char) in _FACE.charToGlyph and ord(char) in _BOLD_FACE.charToGlyph
        ):
            out.append(char)
        else:
            out.append(_SUBSTITUTES.get(char, "?"))
    return "".join(out)


def _markup(text: str) -> str:
    """Plain text made safe for a reportlab Paragraph (fonts and XML escaping)."""
    return escape(_safe(text)).replace("\n", "<br/>")


# --------------------------------------------------------------------------- inputs


class DonorEligibility(enum.StrEnum):
    """Donor eligibility of the source unit (21 CFR 1271.50/.60/.65); values match the model."""

    PENDING = "pending"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    INCOMPLETE = "incomplete"

    @property
    def label(self) -> str:
        return {
            "pending": "Not yet determined",
            "eligible": "Eligible",
            "ineligible": "Ineligible",
            "incomplete": "Incomplete (determination not complete)",
        }[self.value]


class QcStatus(enum.StrEnum):
    IN_SPEC = "in_spec"
    OUT_OF_SPEC = "out_of_spec"
    PENDING = "pending"


def _require_aware(value: datetime | None, what: str) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")


def _as_din(value: DIN | str, what: str) -> DIN:
    if isinstance(value, DIN):
        return value
    if isinstance(value, str):
        return DIN.from_text(value)
    raise TypeError(f"{what} must be a DIN or a 13-character string, got {type(value).__name__}")


def _require_text(value: str, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must not be empty")


@dataclass(frozen=True)
class QcResultLine:
    """One QC test of the batch against its specification.

    ``result`` is the value as it should be read ("94.1", "Negative"), without the unit;
    empty while the test is pending.
    """

    test_name: str
    method: str
    specification: str
    status: QcStatus
    result: str = ""
    unit: str = ""
    may_release_pending: bool = False
    reviewed_by: str = ""
    reviewed_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_text(self.test_name, "QC test name")
        object.__setattr__(self, "status", QcStatus(self.status))
        if self.status != QcStatus.PENDING and not str(self.result).strip():
            raise ValueError(f"QC test {self.test_name!r} is {self.status.value} but has no result")
        if bool(self.reviewed_by) != (self.reviewed_at is not None):
            raise ValueError(f"QC test {self.test_name!r}: give both reviewer and review time")
        _require_aware(self.reviewed_at, f"review time of {self.test_name!r}")

    @property
    def result_text(self) -> str:
        if not str(self.result).strip():
            return "(pending)"
        return f"{self.result} {self.unit}".strip()

    @property
    def status_text(self) -> str:
        if self.status == QcStatus.IN_SPEC:
            return "In spec"
        if self.status == QcStatus.OUT_OF_SPEC:
            return "OUT OF SPEC"
        return "Pending (may release pending)" if self.may_release_pending else "Pending"


@dataclass(frozen=True)
class DeviationLine:
    """A deviation of the batch and its QA disposition (empty while awaiting QA)."""

    kind: str
    what: str
    opened_by: str
    opened_at: datetime
    disposition: str = ""
    disposition_notes: str = ""
    dispositioned_by: str = ""
    dispositioned_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_text(self.kind, "deviation kind")
        _require_text(self.what, "deviation description")
        _require_aware(self.opened_at, "deviation opening time")
        _require_aware(self.dispositioned_at, "deviation disposition time")
        if self.disposition and not (self.dispositioned_by and self.dispositioned_at):
            raise ValueError(f"deviation {self.what!r}: a disposition needs who and when")


@dataclass(frozen=True)
class SignatureLine:
    """An electronic signature shown with the record (21 CFR 11.50)."""

    printed_name: str
    meaning: str
    signed_at: datetime

    def __post_init__(self) -> None:
        _require_text(self.printed_name, "signature printed name")
        _require_text(self.meaning, "signature meaning")
        _require_aware(self.signed_at, "signature time")


@dataclass(frozen=True)
class CoaData:
    """Everything the Certificate of Analysis shows. Sequences are stored as tuples."""

    lot_number: str
    coi_identifier: DIN
    source_unit_din: DIN
    donor_eligibility: DonorEligibility
    day0_at: datetime
    qc_results: Sequence[QcResultLine]
    deviations: Sequence[DeviationLine] = ()
    signatures: Sequence[SignatureLine] = ()
    recipient_subject_id: str | None = None  # None: off-the-shelf stock
    reactive_markers: Sequence[str] = ()
    urgent_medical_need: str = ""
    harvested_at: datetime | None = None
    expires_at: datetime | None = None
    source_unit_product_code: str = ""
    template: str = ""
    facility: str = ""
    description: str = PRODUCT_DESCRIPTION
    construct: str = CONSTRUCT
    generated_at: datetime | None = None  # None: now (UTC)

    def __post_init__(self) -> None:
        _require_text(self.lot_number, "lot number")
        object.__setattr__(self, "coi_identifier", _as_din(self.coi_identifier, "CoI"))
        object.__setattr__(self, "source_unit_din", _as_din(self.source_unit_din, "unit DIN"))
        object.__setattr__(self, "donor_eligibility", DonorEligibility(self.donor_eligibility))
        for name in ("qc_results", "deviations", "signatures", "reactive_markers"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("day0_at", "harvested_at", "expires_at", "generated_at"):
            _require_aware(getattr(self, name), name)
        if self.day0_at is None:
            raise ValueError("day0_at is required")


@dataclass(frozen=True)
class BagLabel:
    """One dose bag. ``din`` is the batch's Chain of Identity DIN, carried by every bag; the
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
    dose_level: str | None = None  # e.g. "DL2: 1 × 10^6 CAR-NK cells/kg"; needs a recipient
    facility: str = ""
    description: str = PRODUCT_DESCRIPTION

    def __post_init__(self) -> None:
        object.__setattr__(self, "din", _as_din(self.din, "DIN"))
        object.__setattr__(self, "donor_eligibility", DonorEligibility(self.donor_eligibility))
        object.__setattr__(self, "reactive_markers", tuple(self.reactive_markers))
        object.__setattr__(
            self, "product_code_data", _check_product_code_data(self.product_code_data)
        )
        _require_text(self.lot_number, "lot number")
        _require_aware(self.expires_at, "expiry")
        if self.expires_at is None:
            raise ValueError("expiry is required")
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
        if self.dose_level and not self.recipient_subject_id:
            raise ValueError("a dose level is assigned for a recipient; no recipient given")
        if self.donor_eligibility == DonorEligibility.PENDING:
            raise ValueError(
                "donor eligibility of the source unit is not determined; record it as "
                "eligible, ineligible or incomplete before labelling"
            )
        if self.reactive_markers and self.donor_eligibility != DonorEligibility.INELIGIBLE:
            raise ValueError("reactive test results make the source unit ineligible")

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
            f"product code data must be '=<' + a letter, 4 digits and 3 letters or digits "
            f"(e.g. =<S1145V00), got {data!r}"
        )
    return text


# ------------------------------------------------------------------ data structures


def din_data_structure(din: DIN | str, flags: str | None = None) -> str:
    """ISBT 128 data structure 001, donation identification number: ``=`` + DIN + 2 flags.

    Without ``flags`` the computed-check flags (60 + Mod 37-2 check value) are used, so a
    scanner can verify the read; flags 60..96 that do not match the DIN are refused.
    """
    value = _as_din(din, "DIN")
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
    _require_aware(dt, "expiry")
    century = (dt.year // 100) % 10
    day_of_year = dt.timetuple().tm_yday
    return (
        f"{EXPIRY_DATA_IDENTIFIER}{century}{dt.year % 100:02d}{day_of_year:03d}"
        f"{dt.hour:02d}{dt.minute:02d}"
    )


def label_barcode_values(label: BagLabel) -> list[str]:
    """The data content of the label's Code 128 barcodes, in drawing order:
    DIN with computed-check flags, product code, expiry date and time."""
    return [
        din_data_structure(label.din),
        label.product_code_data,
        expiry_data_structure(label.expires_at),
    ]


def label_warnings(label: BagLabel) -> list[str]:
    """The 21 CFR 1271 warnings a label must carry for its source unit's eligibility."""
    if label.donor_eligibility == DonorEligibility.INELIGIBLE:
        warnings = [WARNING_DISEASE_RISK]
        if label.reactive_markers:
            warnings.append(WARNING_REACTIVE.format(markers=", ".join(label.reactive_markers)))
        return warnings
    if label.donor_eligibility == DonorEligibility.INCOMPLETE:
        return [WARNING_NOT_EVALUATED, WARNING_DISEASE_RISK]
    return []


# ----------------------------------------------------------------------- formatting


def _zone(dt: datetime) -> str:
    offset = dt.utcoffset()
    minutes = round(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    utc = f"UTC{sign}{hours:02d}:{mins:02d}"
    name = dt.tzname() or ""
    if minutes == 0 and name in ("", "UTC", "GMT", "Z", "UTC+00:00", "Etc/UTC"):
        return "UTC"
    if not name or name.startswith(("UTC", "GMT")) or name[0] in "+-":
        return utc
    return f"{name} ({utc})"


def _when(dt: datetime | None, *, seconds: bool = False) -> str:
    if dt is None:
        return "-"
    return f"{dt:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {_zone(dt)}"


def _sci(value: float) -> str:
    """1.5e8 -> "1.50 × 10^8"."""
    exponent = math.floor(math.log10(value))
    mantissa = value / 10**exponent
    if round(mantissa, 2) >= 10:
        exponent += 1
        mantissa /= 10
    return f"{mantissa:.2f} × 10^{exponent}"


def _volume(value: Decimal | float) -> str:
    return f"{Decimal(str(value)).normalize():f} mL"


def _din_plain(din: DIN) -> str:
    return f"{din.facility_code} {din.year} {din.sequence}"


# -------------------------------------------------------------------------- drawing


class EyeReadableDin(Flowable):
    """The eye-readable DIN: facility, year and sequence, then the check character in a box
    (ISBT 128 prints the keyboard check character boxed so it is not read as part of the DIN).
    """

    def __init__(self, din: DIN, font_size: float = 11, bold: bool = True) -> None:
        super().__init__()
        self.din = din
        self.font = FONT_BOLD if bold else FONT
        self.font_size = font_size
        self.text = _din_plain(din)
        self.gap = font_size * 0.45
        self.pad = font_size * 0.25
        self.text_width = stringWidth(self.text, self.font, font_size)
        self.box_width = stringWidth("W", self.font, font_size) + 2 * self.pad
        self.box_height = font_size * 1.25
        self.width = self.text_width + self.gap + self.box_width
        self.height = self.box_height + 2

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        baseline = 1 + self.font_size * 0.3
        c.setFont(self.font, self.font_size)
        c.drawString(0, baseline, self.text)
        box_x = self.text_width + self.gap
        c.setLineWidth(0.8)
        c.rect(box_x, 1, self.box_width, self.box_height, stroke=1, fill=0)
        c.drawCentredString(box_x + self.box_width / 2, baseline, self.din.check_character)


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


def _style(name: str, size: float, *, bold: bool = False, leading: float | None = None, **kw):
    return ParagraphStyle(
        name,
        fontName=FONT_BOLD if bold else FONT,
        fontSize=size,
        leading=leading or size * 1.22,
        embeddedHyphenation=1,  # a long word may break after a hyphen it already has
        **kw,
    )


# ------------------------------------------------------------- certificate of analysis

_TITLE = _style("coa-title", 17, bold=True, leading=21, spaceAfter=1)
_SUBTITLE = _style("coa-subtitle", 9.5, leading=12, textColor=colors.HexColor("#333333"))
_H2 = _style("coa-h2", 11.5, bold=True, leading=14, spaceBefore=10, spaceAfter=4, keepWithNext=1)
_BODY = _style("coa-body", 8.5)
_BODY_BOLD = _style("coa-body-bold", 8.5, bold=True)
_CELL = _style("coa-cell", 7.5, leading=9)
_CELL_BOLD = _style("coa-cell-bold", 7.5, bold=True, leading=9)
_HEAD = _style("coa-head", 7.5, bold=True, leading=9, textColor=colors.white)
_LABEL = _style("coa-label", 8.5, bold=True)
_WARN = _style("coa-warn", 8.5, bold=True, textColor=colors.HexColor("#9b0000"))

_HEADER_BG = colors.HexColor("#2f3e4e")
_GRID = colors.HexColor("#9aa5b1")
_OOS_BG = colors.HexColor("#fbe3e3")
_PENDING_BG = colors.HexColor("#fff4d6")


def _p(text: str, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(_markup(text), style)


class _NumberedCanvas(pdfcanvas.Canvas):
    """Defers each page until the end so every footer can say "Page n of m"."""

    def __init__(self, *args, footer: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict] = []

    def showPage(self) -> None:  # reportlab API name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width, _ = self._pagesize
        self.saveState()
        self.setStrokeColor(_GRID)
        self.setLineWidth(0.5)
        self.line(18 * mm, 14 * mm, width - 18 * mm, 14 * mm)
        self.setFont(FONT, 7)
        self.setFillColor(colors.HexColor("#333333"))
        self.drawString(18 * mm, 10 * mm, self._footer)
        self.setFont(FONT_BOLD, 7.5)
        self.drawRightString(width - 18 * mm, 10 * mm, f"Page {number} of {total}")
        self.restoreState()


def _later_page_header(lot_number: str, coi: DIN):
    text = _safe(
        f"Certificate of Analysis (continued) | Lot {lot_number} | "
        f"CoI {coi.text} {coi.check_character}"
    )

    def draw(c: pdfcanvas.Canvas, doc: SimpleDocTemplate) -> None:
        width, height = doc.pagesize
        c.saveState()
        c.setFont(FONT, 7.5)
        c.setFillColor(colors.HexColor("#333333"))
        c.drawString(18 * mm, height - 11 * mm, text)
        c.restoreState()

    return draw


def _identification(coa: CoaData) -> Table:
    eligibility = coa.donor_eligibility.label
    if coa.reactive_markers:
        eligibility += f"; reactive: {', '.join(coa.reactive_markers)}"
    eligibility_cell: list[Flowable] = [
        _p(eligibility, _WARN if coa.donor_eligibility != "eligible" else _BODY)
    ]
    if coa.urgent_medical_need:
        eligibility_cell.append(_p(f"Urgent medical need: {coa.urgent_medical_need}", _BODY))
    unit_cell: list[Flowable] = [EyeReadableDin(coa.source_unit_din, 9.5, bold=False)]
    if coa.source_unit_product_code:
        unit_cell.append(_p(f"Product code {coa.source_unit_product_code}", _BODY))
    recipient = (
        f"Study subject {coa.recipient_subject_id}"
        if coa.recipient_subject_id
        else "Off-the-shelf (no intended recipient)"
    )
    dates = [f"Day 0 (cord blood thaw): {_when(coa.day0_at)}"]
    if coa.harvested_at:
        dates.append(f"Harvest: {_when(coa.harvested_at)}")
    if coa.expires_at:
        dates.append(f"Expiry: {_when(coa.expires_at)}")
    rows: list[list] = []
    if coa.facility:
        rows.append([_p("Manufacturer", _LABEL), _p(coa.facility, _BODY)])
    rows += [
        [_p("Batch lot number", _LABEL), _p(coa.lot_number, _BODY_BOLD)],
        [_p("Chain of Identity identifier", _LABEL), EyeReadableDin(coa.coi_identifier, 11)],
        [
            _p("Product", _LABEL),
            [_p(coa.description, _BODY), _p(f"Construct {coa.construct}", _BODY)],
        ],
    ]
    if coa.template:
        rows.append([_p("Process template", _LABEL), _p(coa.template, _BODY)])
    rows += [
        [_p("Source cord blood unit DIN", _LABEL), unit_cell],
        [_p("Donor eligibility", _LABEL), eligibility_cell],
        [_p("Intended recipient", _LABEL), _p(recipient, _BODY)],
        [_p("Manufacturing dates", _LABEL), [_p(line, _BODY) for line in dates]],
    ]
    table = Table(rows, colWidths=[48 * mm, None], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, _GRID),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _qc_table(results: Sequence[QcResultLine]) -> Table:
    rows: list[list] = [
        [_p(h, _HEAD) for h in ("Test", "Method", "Specification", "Result", "Status", "Reviewed")]
    ]
    styles: list[tuple] = [
        ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
        ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    for index, line in enumerate(results, start=1):
        reviewed = (
            f"{line.reviewed_by}\n{_when(line.reviewed_at)}" if line.reviewed_by else "Not reviewed"
        )
        status_style = _CELL if line.status == QcStatus.IN_SPEC else _CELL_BOLD
        rows.append(
            [
                _p(line.test_name, _CELL_BOLD),
                _p(line.method),
                _p(line.specification),
                _p(line.result_text),
                _p(line.status_text, status_style),
                _p(reviewed),
            ]
        )
        if line.status == QcStatus.OUT_OF_SPEC:
            styles.append(("BACKGROUND", (0, index), (-1, index), _OOS_BG))
        elif line.status == QcStatus.PENDING:
            styles.append(("BACKGROUND", (0, index), (-1, index), _PENDING_BG))
    widths = [32 * mm, 29 * mm, 30 * mm, 24 * mm, 24 * mm, None]
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT", splitByRow=1)
    table.setStyle(TableStyle(styles))
    return table


def _deviation_table(deviations: Sequence[DeviationLine]) -> Table:
    rows: list[list] = [
        [_p(h, _HEAD) for h in ("Kind", "What departed from procedure", "QA disposition", "By")]
    ]
    for line in deviations:
        if line.disposition:
            disposition = line.disposition
            if line.disposition_notes:
                disposition += f"\n{line.disposition_notes}"
            closed = f"\nDispositioned: {line.dispositioned_by}, {_when(line.dispositioned_at)}"
        else:
            disposition, closed = "Awaiting QA disposition", ""
        rows.append(
            [
                _p(line.kind, _CELL_BOLD),
                _p(line.what),
                _p(disposition, _CELL if line.disposition else _CELL_BOLD),
                _p(f"Opened: {line.opened_by}, {_when(line.opened_at)}{closed}"),
            ]
        )
    widths = [30 * mm, 55 * mm, 40 * mm, None]
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT", splitByRow=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
                ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _signature_table(signatures: Sequence[SignatureLine]) -> Table:
    rows: list[list] = [[_p(h, _HEAD) for h in ("Printed name", "Meaning", "Date and time")]]
    rows += [
        [
            _p(s.printed_name, _CELL_BOLD),
            _p(s.meaning),
            _p(_when(s.signed_at, seconds=True)),
        ]
        for s in signatures
    ]
    table = Table(rows, colWidths=[55 * mm, 45 * mm, None], repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
                ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 1), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 1), (-1, -1), 5),
            ]
        )
    )
    return table


def certificate_of_analysis_pdf(coa: CoaData, *, page_size: tuple[float, float] = A4) -> bytes:
    """Render the Certificate of Analysis of one batch as PDF (portrait A4 by default; pass
    ``reportlab.lib.pagesizes.LETTER`` for US Letter). Tables split across pages by row,
    repeating their header row; every page carries "Page n of m" and the generation time."""
    generated_at = coa.generated_at or datetime.now(UTC)
    counts = {status: 0 for status in QcStatus}
    for line in coa.qc_results:
        counts[line.status] += 1
    summary = (
        f"{len(coa.qc_results)} tests: {counts[QcStatus.IN_SPEC]} in spec, "
        f"{counts[QcStatus.OUT_OF_SPEC]} out of spec, {counts[QcStatus.PENDING]} pending."
    )

    story: list[Flowable] = [
        _p("Certificate of Analysis", _TITLE),
        _p(f"{coa.description}; construct {coa.construct}", _SUBTITLE),
        Spacer(1, 6),
        _identification(coa),
        _p("Quality control results", _H2),
        _p(summary, _BODY),
        Spacer(1, 3),
    ]
    story.append(_qc_table(coa.qc_results) if coa.qc_results else _p("No QC results.", _BODY))
    story.append(_p("Deviations", _H2))
    story.append(_deviation_table(coa.deviations) if coa.deviations else _p("None", _BODY))
    signatures: list[Flowable] = [_p("Signatures", _H2)]
    signatures.append(
        _signature_table(coa.signatures) if coa.signatures else _p("Not signed.", _WARN)
    )
    story.append(KeepTogether(signatures))

    buffer = io.BytesIO()
    width, height = page_size
    doc = SimpleDocTemplate(
        buffer,
        pagesize=(min(width, height), max(width, height)),  # portrait
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=20 * mm,
        title=_safe(f"Certificate of Analysis {coa.lot_number}"),
        subject=_safe(PRODUCT_DESCRIPTION),
        author=_safe(coa.facility),
        creator="carnk_mfg",
        invariant=1,
    )
    footer = _safe(
        f"Generated {_when(generated_at, seconds=True)} | Lot {coa.lot_number} | "
        f"CoI {coa.coi_identifier.text} {coa.coi_identifier.check_character}"
    )
    doc.build(
        story,
        onLaterPages=_later_page_header(coa.lot_number, coa.coi_identifier),
        canvasmaker=partial(_NumberedCanvas, footer=footer),
    )
    return buffer.getvalue()


# ------------------------------------------------------------------------ bag labels

_L_DATA = _style("label-data", 6.5, leading=7.5)
_L_TEXT = _style("label-text", 7, leading=8.4)
_L_BOLD = _style("label-bold", 7, bold=True, leading=8.4)
_L_PRODUCT = _style("label-product", 8, bold=True, leading=9.6)
_L_BIG = _style("label-big", 9, bold=True, leading=11)
_L_WARN = _style("label-warn", 7.5, bold=True, leading=9, alignment=TA_CENTER)
_L_RX = _style("label-rx", 10, bold=True, leading=12)


class LabelOverflowError(ValueError):
    """The label's content does not fit on the label; nothing is cut off silently."""


def _place(
    c: pdfcanvas.Canvas,
    flowables: list[Flowable],
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
    return _place(c, [_p(value, _L_DATA)], x + QUIET_ZONE, top, width - QUIET_ZONE, 0, value)


def _draw_label(c: pdfcanvas.Canvas, label: BagLabel, size: tuple[float, float]) -> None:
    width, height = size
    margin = 3 * mm
    gutter = 3 * mm
    column = (width - 2 * margin - gutter) / 2
    left, right = margin, margin + column + gutter
    din_data, product_data, expiry_data = label_barcode_values(label)

    c.setLineWidth(0.5)
    c.setStrokeColor(colors.HexColor("#666666"))
    c.rect(1 * mm, 1 * mm, width - 2 * mm, height - 2 * mm, stroke=1, fill=0)
    c.setStrokeColor(colors.black)

    # Upper band: the DIN (left), the expiry (right).
    top = height - margin
    y = _barcode_block(c, din_data, left, top, column)
    y = _place(c, [EyeReadableDin(label.din, 10.5)], left, y - 1, column, 0, "eye-readable DIN")
    band_bottom = y
    y = _barcode_block(c, expiry_data, right, top, column)
    y = _place(
        c,
        [_p("EXPIRES", _L_BOLD), _p(_when(label.expires_at), _L_BIG)],
        right + QUIET_ZONE,
        y - 1,
        column - QUIET_ZONE,
        0,
        "expiry",
    )
    top = min(band_bottom, y) - 2 * mm
    c.setLineWidth(0.4)
    c.line(margin, top + 1 * mm, width - margin, top + 1 * mm)

    # Middle band: product code and description (left), contents (right).
    y = _barcode_block(c, product_data, left, top, column)
    y = _place(
        c, [_p(label.description, _L_PRODUCT)], left, y - 1, column, margin, "product description"
    )
    band_bottom = y
    contents = [
        _p(f"Volume: {_volume(label.volume_ml)}", _L_TEXT),
        _p(f"CAR-NK cells: {_sci(label.car_nk_cells)}", _L_BOLD),
        _p(f"Concentration: {_sci(label.cells_per_ml)} cells/mL", _L_TEXT),
        _p(f"Lot {label.lot_number}  Division {label.division}", _L_TEXT),
        _p(f"Chain of Identity: {label.din.text} {label.din.check_character}", _L_TEXT),
    ]
    if label.facility:
        contents.append(_p(label.facility, _L_TEXT))
    y = _place(c, contents, right, top - 1, column, margin, "contents")
    top = min(band_bottom, y) - 2 * mm
    c.line(margin, top + 1 * mm, width - margin, top + 1 * mm)

    # Lower band: recipient and dose (left), Rx only; warnings (right).
    if label.recipient_subject_id:
        who = [_p(f"Recipient: {label.recipient_subject_id}", _L_BIG)]
        if label.dose_level:
            who.append(_p(f"Dose level: {label.dose_level}", _L_BOLD))
    else:
        who = [_p("Off-the-shelf: not assigned to a recipient", _L_BOLD)]
    who.append(Spacer(1, 2))
    who.append(_p(RX_ONLY, _L_RX))
    _place(c, who, left, top, column, margin, "recipient")

    warnings = label_warnings(label)
    if warnings:
        box = Table(
            [[_p(text, _L_WARN)] for text in warnings],
            colWidths=[column],
            style=[
                ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ],
        )
        _place(c, [box], right, top, column, margin, "warnings")


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
    seen: dict[tuple[str, str], int] = {}
    for number, label in enumerate(labels, start=1):
        key = (label.din.text, label.product_code_data)
        if key in seen:
            raise ValueError(
                f"labels {seen[key]} and {number} both carry DIN {key[0]} and product code "
                f"{key[1]}: each bag needs its own division"
            )
        seen[key] = number

    buffer = io.BytesIO()
    c = pdfcanvas.Canvas(buffer, pagesize=label_size, invariant=1)
    c.setTitle(_safe(f"Bag labels {labels[0].lot_number}"))
    c.setCreator("carnk_mfg")
    for label in labels:
        _draw_label(c, label, label_size)
        c.showPage()
    c.save()
    return buffer.getvalue()
