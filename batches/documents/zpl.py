"""The bag label in ZPL II, for thermal label printers: the same content as the PDF label
(``labels.label_content``), laid out on the same 100 mm x 100 mm label at 203 dpi.

Text reaches the printer only as hex escapes where it could mean anything to it: every field
is written with ``^FH`` and every character outside plain printable ASCII, and the caret,
tilde, underscore and backslash, is sent as ``_XX`` (its UTF-8 bytes, ``^CI28``). So no text
on a label (a recipient ID, a facility name) can end the label or run a printer command.

The barcodes are Code 128 (``^BC``, normal mode) with the subsets chosen here: subset B for
the ISBT 128 identifiers and subset C for runs of digits, so each symbol fits its column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from batches.documents.labels import (
    BIOHAZARD_LEGEND,
    BagLabel,
    Emphasis,
    LabelContent,
    LabelLine,
    LabelOverflowError,
    label_content,
)

DOTS_PER_MM = 8  # 203 dpi
LABEL_DOTS = 100 * DOTS_PER_MM  # 100 mm x 100 mm, as the PDF
MARGIN = 3 * DOTS_PER_MM
GUTTER = 3 * DOTS_PER_MM
COLUMN = (LABEL_DOTS - 2 * MARGIN - GUTTER) // 2
LEFT, RIGHT = MARGIN, MARGIN + COLUMN + GUTTER
# Two dots per module is 0.01 inch (10 mil), the PDF's bar width; quiet zones of 10 modules.
MODULE = 2
QUIET = 10 * MODULE
BAR_HEIGHT = 9 * DOTS_PER_MM

# Font 0 (scalable) heights in dots, by emphasis; a conservative average character width
# (0.6 of the height) decides how many lines a text takes, so nothing is cut off unseen.
_HEIGHT = {Emphasis.NORMAL: 20, Emphasis.STRONG: 22, Emphasis.LARGE: 26}
_DATA_HEIGHT = 18
_CHAR_WIDTH = 0.6
_LINE_GAP = 4

# Code 128 normal-mode invocations (ZPL ^BC): start subset B, switch to C, switch to B, ">".
_START_B, _TO_C, _TO_B, _GREATER = ">:", ">5", ">6", ">0"
_SAFE = {chr(c) for c in range(0x20, 0x7F)} - set("^~_\\")


def field_text(text: str) -> str:
    """``text`` as ``^FH`` field data: printable ASCII as itself, anything else as ``_XX``."""
    return "".join(
        char if char in _SAFE else "".join(f"_{b:02X}" for b in char.encode("utf-8"))
        for char in text
    )


def code128_data(value: str) -> str:
    """ISBT 128 data content as ``^BC`` normal-mode field data, subsets chosen explicitly:
    digit runs of four or more in subset C (two digits a symbol), the rest in subset B."""
    if not value or any(char not in _SAFE for char in value):
        raise ValueError(f"barcode data must be printable ASCII without ^ ~ _ \\, got {value!r}")
    out, i, subset = [_START_B], 0, "B"
    while i < len(value):
        run = len(value[i:]) - len(value[i:].lstrip("0123456789"))
        if run >= 4:
            if run % 2:  # an odd run: its first digit stays in subset B
                out.append(value[i] if subset == "B" else _TO_B + value[i])
                subset, i, run = "B", i + 1, run - 1
            if subset != "C":
                out.append(_TO_C)
                subset = "C"
            out.append(value[i : i + run])
            i += run
            continue
        if subset != "B":
            out.append(_TO_B)
            subset = "B"
        out.append(_GREATER if value[i] == ">" else value[i])
        i += 1
    return "".join(out)


def code128_width(data: str) -> int:
    """Dots a ``code128_data`` symbol takes, quiet zones included: start, symbols, check
    character and stop (11 modules each, the stop 13)."""
    symbols, i = 0, 0
    subset = "B"
    while i < len(data):
        if data[i] == ">":
            code = data[i + 1]
            subset = {"5": "C", "6": "B", ":": "B"}.get(code, subset)
            symbols += 1
            i += 2
        elif subset == "C":
            symbols += 1
            i += 2
        else:
            symbols += 1
            i += 1
    # The start invocation is the start character; add the check character, then the stop.
    return (11 * (symbols + 1) + 13) * MODULE + 2 * QUIET


class _Zpl:
    """A label being written: each method appends one field and says where the next goes."""

    def __init__(self) -> None:
        self.parts = [
            "^XA",
            "^CI28",  # UTF-8: the ^FH escapes below are UTF-8 bytes
            f"^PW{LABEL_DOTS}",
            f"^LL{LABEL_DOTS}",
            "^LH0,0",
            f"^FO{DOTS_PER_MM},{DOTS_PER_MM}"
            f"^GB{LABEL_DOTS - 2 * DOTS_PER_MM},{LABEL_DOTS - 2 * DOTS_PER_MM},2^FS",
        ]

    def text(self, text: str, x: int, y: int, width: int, height: int) -> int:
        """A wrapped text field; returns the y under it."""
        per_line = max(1, int(width / (height * _CHAR_WIDTH)))
        lines = max(1, math.ceil(len(text) / per_line))
        self.parts.append(
            f"^FO{x},{y}^A0N,{height},{height}^FB{width},{lines},0,L,0^FH^FD{field_text(text)}^FS"
        )
        return y + lines * (height + _LINE_GAP)

    def lines(self, lines: Sequence[LabelLine], x: int, y: int, width: int) -> int:
        for line in lines:
            y = self.text(line.text, x, y, width, _HEIGHT[line.emphasis])
        return y

    def barcode(self, value: str, x: int, y: int, width: int) -> int:
        """A Code 128 symbol with its data content written under it; returns the y under."""
        data = code128_data(value)
        if code128_width(data) > width:
            raise LabelOverflowError(f"barcode {value!r} is wider than its space on the label")
        self.parts.append(f"^FO{x + QUIET},{y}^BY{MODULE}^BCN,{BAR_HEIGHT},N,N,N,N^FD{data}^FS")
        y += BAR_HEIGHT + 4
        return self.text(value, x + QUIET, y, width - QUIET, _DATA_HEIGHT)

    def biohazard(self, x: int, y: int) -> int:
        """The biohazard legend: the symbol (three rings round a centre ring, ``^GC``) and the
        word beside it; returns the y under."""
        size = 40
        ring = 22
        for dx, dy in ((9, 0), (0, 16), (18, 16)):
            self.parts.append(f"^FO{x + dx},{y + dy}^GC{ring},3^FS")
        self.parts.append(f"^FO{x + 15},{y + 17}^GC10,2^FS")
        height = _HEIGHT[Emphasis.LARGE]
        self.text(BIOHAZARD_LEGEND, x + size + 8, y + (size - height) // 2, 200, height)
        return y + size + _LINE_GAP

    def box(self, x: int, y: int, width: int, height: int, thickness: int) -> None:
        self.parts.append(f"^FO{x},{y}^GB{width},{height},{thickness}^FS")

    def rule(self, y: int) -> None:
        self.box(MARGIN, y, LABEL_DOTS - 2 * MARGIN, 0, 2)

    def end(self, y: int) -> str:
        if y > LABEL_DOTS - MARGIN:
            raise LabelOverflowError("label content does not fit: the label is full")
        return "\n".join([*self.parts, "^PQ1^XZ"]) + "\n"


def _upper_band(z: _Zpl, content: LabelContent, top: int) -> int:
    """The DIN with its boxed check character (left), the expiry (right)."""
    y = z.barcode(content.din_barcode, LEFT, top, COLUMN)
    height = 30
    x = LEFT + QUIET
    z.text(content.din_eye_readable, x, y, COLUMN - QUIET - 2 * height, height)
    box_x = LEFT + COLUMN - 2 * height
    z.box(box_x, y - 4, height + 8, height + 8, 3)
    left = z.text(content.din_check_character, box_x + 8, y, height, height)
    right = z.barcode(content.expiry_barcode, RIGHT, top, COLUMN)
    right = z.lines(content.expiry, RIGHT + QUIET, right, COLUMN - QUIET)
    return max(left + 4, right)


def _middle_band(z: _Zpl, content: LabelContent, top: int) -> int:
    left = z.barcode(content.product_barcode, LEFT, top, COLUMN)
    description = LabelLine(content.description, Emphasis.STRONG)
    left = z.lines([description], LEFT, left, COLUMN)
    right = z.lines(content.contents, RIGHT, top, COLUMN)
    return max(left, right)


def _lower_band(z: _Zpl, content: LabelContent, top: int) -> int:
    left = z.lines(content.recipient, LEFT, top, COLUMN)
    left = z.lines(content.handling, LEFT, left + 4, COLUMN)
    left = z.text(content.caution, LEFT, left + 4, COLUMN, _HEIGHT[Emphasis.STRONG])
    right = top
    if content.coi_barcode and content.coi:
        right = z.barcode(content.coi_barcode, RIGHT, top, COLUMN)
        right = z.lines([content.coi], RIGHT + QUIET, right, COLUMN - QUIET) + 4
    if content.warnings:
        top = right
        y = top + 8
        for warning in content.warnings:
            if warning == BIOHAZARD_LEGEND:
                y = z.biohazard(RIGHT + 8, y)
                continue
            y = z.text(warning, RIGHT + 8, y, COLUMN - 16, _HEIGHT[Emphasis.STRONG])
        z.box(RIGHT, top, COLUMN, y - top + 4, 3)
        right = y + 4
    return max(left, right)


def bag_label_zpl(label: BagLabel) -> str:
    """One bag label as a ZPL II label format (``^XA`` ... ``^XZ``).

    Raises LabelOverflowError if the content does not fit the label (never cut off), as the
    PDF does.
    """
    content = label_content(label)
    z = _Zpl()
    y = _upper_band(z, content, MARGIN)
    z.rule(y + 4)
    y = _middle_band(z, content, y + 12)
    z.rule(y + 4)
    y = _lower_band(z, content, y + 12)
    return z.end(y)
