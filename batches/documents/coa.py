"""The Certificate of Analysis of one batch (DESIGN section 6): its inputs and its PDF.

The inputs are frozen dataclasses a caller fills from the models; every date-time must be
timezone-aware and is printed in the zone it carries.
"""

from __future__ import annotations

import enum
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
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

from batches.documents.drawing import (
    FONT,
    FONT_BOLD,
    EyeReadableDin,
    paragraph,
    safe,
    style,
    when,
)
from batches.documents.inputs import (
    CONSTRUCT,
    PRODUCT_DESCRIPTION,
    DonorEligibility,
    as_din,
    require_aware,
    require_text,
)
from carnk_mfg.isbt128 import DIN, coi_check_character, coi_eye_readable, validate_coi

# --------------------------------------------------------------------------- inputs


class QcStatus(enum.StrEnum):
    IN_SPEC = "in_spec"
    OUT_OF_SPEC = "out_of_spec"
    PENDING = "pending"


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
        require_text(self.test_name, "QC test name")
        object.__setattr__(self, "status", QcStatus(self.status))
        if self.status != QcStatus.PENDING and not str(self.result).strip():
            raise ValueError(f"QC test {self.test_name!r} is {self.status.value} but has no result")
        if bool(self.reviewed_by) != (self.reviewed_at is not None):
            raise ValueError(f"QC test {self.test_name!r}: give both reviewer and review time")
        require_aware(self.reviewed_at, f"review time of {self.test_name!r}")

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
        require_text(self.kind, "deviation kind")
        require_text(self.what, "deviation description")
        require_aware(self.opened_at, "deviation opening time")
        require_aware(self.dispositioned_at, "deviation disposition time")
        if self.disposition and not (self.dispositioned_by and self.dispositioned_at):
            raise ValueError(f"deviation {self.what!r}: a disposition needs who and when")


@dataclass(frozen=True)
class SignatureLine:
    """An electronic signature shown with the record (21 CFR 11.50)."""

    printed_name: str
    meaning: str
    signed_at: datetime

    def __post_init__(self) -> None:
        require_text(self.printed_name, "signature printed name")
        require_text(self.meaning, "signature meaning")
        require_aware(self.signed_at, "signature time")


@dataclass(frozen=True)
class CoaData:
    """Everything the Certificate of Analysis shows. Sequences are stored as tuples."""

    lot_number: str
    din: DIN
    source_unit_din: DIN
    donor_eligibility: DonorEligibility
    day0_at: datetime
    qc_results: Sequence[QcResultLine]
    deviations: Sequence[DeviationLine] = ()
    signatures: Sequence[SignatureLine] = ()
    recipient_subject_id: str | None = None  # None: off-the-shelf stock
    # The Chain of Identity identifier of the batch and its intended recipient.
    coi_identifier: str | None = None
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
        require_text(self.lot_number, "lot number")
        object.__setattr__(self, "din", as_din(self.din, "DIN"))
        object.__setattr__(self, "source_unit_din", as_din(self.source_unit_din, "unit DIN"))
        object.__setattr__(self, "donor_eligibility", DonorEligibility(self.donor_eligibility))
        if self.coi_identifier is not None:
            object.__setattr__(self, "coi_identifier", validate_coi(self.coi_identifier))
        for name in ("qc_results", "deviations", "signatures", "reactive_markers"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("day0_at", "harvested_at", "expires_at", "generated_at"):
            require_aware(getattr(self, name), name)
        if self.day0_at is None:
            raise ValueError("day0_at is required")


# -------------------------------------------------------------------------- drawing

_TITLE = style("coa-title", 17, bold=True, leading=21, spaceAfter=1)
_SUBTITLE = style("coa-subtitle", 9.5, leading=12, textColor=colors.HexColor("#333333"))
_H2 = style("coa-h2", 11.5, bold=True, leading=14, spaceBefore=10, spaceAfter=4, keepWithNext=1)
_BODY = style("coa-body", 8.5)
_BODY_BOLD = style("coa-body-bold", 8.5, bold=True)
_CELL = style("coa-cell", 7.5, leading=9)
_CELL_BOLD = style("coa-cell-bold", 7.5, bold=True, leading=9)
_HEAD = style("coa-head", 7.5, bold=True, leading=9, textColor=colors.white)
_LABEL = style("coa-label", 8.5, bold=True)
_WARN = style("coa-warn", 8.5, bold=True, textColor=colors.HexColor("#9b0000"))

_HEADER_BG = colors.HexColor("#2f3e4e")
_GRID = colors.HexColor("#9aa5b1")
_OOS_BG = colors.HexColor("#fbe3e3")
_PENDING_BG = colors.HexColor("#fff4d6")


def _p(text: str, paragraph_style: ParagraphStyle = _CELL) -> Paragraph:
    return paragraph(text, paragraph_style)


class NumberedCanvas(pdfcanvas.Canvas):
    """Defers each page until the end so every footer can say "Page n of m"."""

    def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab API name
        self._pages.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # reportlab's page-count recipe

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width, _ = self._pagesize  # type: ignore[attr-defined]  # kept only here by reportlab
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


def _later_page_header(
    lot_number: str, din: DIN
) -> Callable[[pdfcanvas.Canvas, SimpleDocTemplate], None]:
    text = safe(
        f"Certificate of Analysis (continued) | Lot {lot_number} | "
        f"DIN {din.text} {din.check_character}"
    )

    def draw(c: pdfcanvas.Canvas, doc: SimpleDocTemplate) -> None:
        width, height = doc.pagesize
        c.saveState()
        c.setFont(FONT, 7.5)
        c.setFillColor(colors.HexColor("#333333"))
        c.drawString(18 * mm, height - 11 * mm, text)
        c.restoreState()

    return draw


def _eligibility_cell(coa: CoaData) -> list[Flowable]:
    eligibility = coa.donor_eligibility.label
    if coa.reactive_markers:
        eligibility += f"; reactive: {', '.join(coa.reactive_markers)}"
    cell: list[Flowable] = [
        _p(eligibility, _WARN if coa.donor_eligibility != "eligible" else _BODY)
    ]
    if coa.urgent_medical_need:
        cell.append(_p(f"Urgent medical need: {coa.urgent_medical_need}", _BODY))
    return cell


def _unit_cell(coa: CoaData) -> list[Flowable]:
    cell: list[Flowable] = [EyeReadableDin(coa.source_unit_din, 9.5, bold=False)]
    if coa.source_unit_product_code:
        cell.append(_p(f"Product code {coa.source_unit_product_code}", _BODY))
    return cell


def _manufacturing_dates(coa: CoaData) -> list[str]:
    dates = [f"Day 0 (cord blood thaw): {when(coa.day0_at)}"]
    if coa.harvested_at:
        dates.append(f"Harvest: {when(coa.harvested_at)}")
    if coa.expires_at:
        dates.append(f"Expiry: {when(coa.expires_at)}")
    return dates


def _coi_text(identifier: str) -> str:
    return f"{coi_eye_readable(identifier)} {coi_check_character(identifier)}"


def _identification(coa: CoaData) -> Table:
    recipient = (
        f"Study subject {coa.recipient_subject_id}"
        if coa.recipient_subject_id
        else "Off-the-shelf (no intended recipient)"
    )
    rows: list[list[Any]] = []
    if coa.facility:
        rows.append([_p("Manufacturer", _LABEL), _p(coa.facility, _BODY)])
    rows += [
        [_p("Batch lot number", _LABEL), _p(coa.lot_number, _BODY_BOLD)],
        [_p("DIN", _LABEL), EyeReadableDin(coa.din, 11)],
        [
            _p("Product", _LABEL),
            [_p(coa.description, _BODY), _p(f"Construct {coa.construct}", _BODY)],
        ],
    ]
    if coa.template:
        rows.append([_p("Process template", _LABEL), _p(coa.template, _BODY)])
    rows += [
        [_p("Source cord blood unit DIN", _LABEL), _unit_cell(coa)],
        [_p("Donor eligibility", _LABEL), _eligibility_cell(coa)],
        [_p("Intended recipient", _LABEL), _p(recipient, _BODY)],
        *(
            [
                [
                    _p("Chain of Identity identifier", _LABEL),
                    _p(_coi_text(coa.coi_identifier), _BODY_BOLD),
                ]
            ]
            if coa.coi_identifier
            else []
        ),
        [
            _p("Manufacturing dates", _LABEL),
            [_p(line, _BODY) for line in _manufacturing_dates(coa)],
        ],
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
    rows: list[list[Any]] = [
        [_p(h, _HEAD) for h in ("Test", "Method", "Specification", "Result", "Status", "Reviewed")]
    ]
    styles: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
        ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    for index, line in enumerate(results, start=1):
        reviewed = (
            f"{line.reviewed_by}\n{when(line.reviewed_at)}" if line.reviewed_by else "Not reviewed"
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
    rows: list[list[Any]] = [
        [_p(h, _HEAD) for h in ("Kind", "What departed from procedure", "QA disposition", "By")]
    ]
    for line in deviations:
        if line.disposition:
            disposition = line.disposition
            if line.disposition_notes:
                disposition += f"\n{line.disposition_notes}"
            closed = f"\nDispositioned: {line.dispositioned_by}, {when(line.dispositioned_at)}"
        else:
            disposition, closed = "Awaiting QA disposition", ""
        rows.append(
            [
                _p(line.kind, _CELL_BOLD),
                _p(line.what),
                _p(disposition, _CELL if line.disposition else _CELL_BOLD),
                _p(f"Opened: {line.opened_by}, {when(line.opened_at)}{closed}"),
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
    rows: list[list[Any]] = [[_p(h, _HEAD) for h in ("Printed name", "Meaning", "Date and time")]]
    rows += [
        [
            _p(s.printed_name, _CELL_BOLD),
            _p(s.meaning),
            _p(when(s.signed_at, seconds=True)),
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


def _qc_summary(results: Sequence[QcResultLine]) -> str:
    counts = {status: 0 for status in QcStatus}
    for line in results:
        counts[line.status] += 1
    return (
        f"{len(results)} tests: {counts[QcStatus.IN_SPEC]} in spec, "
        f"{counts[QcStatus.OUT_OF_SPEC]} out of spec, {counts[QcStatus.PENDING]} pending."
    )


def _story(coa: CoaData) -> list[Flowable]:
    """The certificate's content, top to bottom; the signatures are kept on one page."""
    story: list[Flowable] = [
        _p("Certificate of Analysis", _TITLE),
        _p(f"{coa.description}; construct {coa.construct}", _SUBTITLE),
        Spacer(1, 6),
        _identification(coa),
        _p("Quality control results", _H2),
        _p(_qc_summary(coa.qc_results), _BODY),
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
    return story


def certificate_of_analysis_pdf(coa: CoaData, *, page_size: tuple[float, float] = A4) -> bytes:
    """Render the Certificate of Analysis of one batch as PDF (portrait A4 by default; pass
    ``reportlab.lib.pagesizes.LETTER`` for US Letter). Tables split across pages by row,
    repeating their header row; every page carries "Page n of m" and the generation time."""
    generated_at = coa.generated_at or datetime.now(UTC)
    story = _story(coa)

    buffer = io.BytesIO()
    width, height = page_size
    doc = SimpleDocTemplate(
        buffer,
        pagesize=(min(width, height), max(width, height)),  # portrait
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=20 * mm,
        title=safe(f"Certificate of Analysis {coa.lot_number}"),
        subject=safe(PRODUCT_DESCRIPTION),
        author=safe(coa.facility),
        creator="carnk_mfg",
        invariant=1,
    )
    footer = safe(
        f"Generated {when(generated_at, seconds=True)} | Lot {coa.lot_number} | "
        f"DIN {coa.din.text} {coa.din.check_character}"
    )
    doc.build(
        story,
        onLaterPages=_later_page_header(coa.lot_number, coa.din),
        canvasmaker=partial(NumberedCanvas, footer=footer),
    )
    return buffer.getvalue()
