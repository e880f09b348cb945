"""Drawing pieces shared by the Certificate of Analysis and the bag labels: fonts, text the
fonts can draw, how dates and figures are written, paragraph styles and the eye-readable DIN.

Text is set in Bitstream Vera (shipped inside reportlab) rather than the built-in Helvetica,
whose encoding has no "≥" or "≤" (used by specification texts); characters Vera lacks are
replaced by ASCII spellings (``safe``) instead of printing as blank boxes.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont, TTFontFace
from reportlab.platypus import Flowable, Paragraph

from carnk_mfg.isbt128 import DIN

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


def _face(name: str) -> TTFontFace:
    font = pdfmetrics.getFont(name)
    if not isinstance(font, TTFont):
        raise TypeError(f"font {name} is registered but is not a TrueType font")
    return font.face


_FACE = _face(FONT)
_BOLD_FACE = _face(FONT_BOLD)


def safe(text: str) -> str:
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


def markup(text: str) -> str:
    """Plain text made safe for a reportlab Paragraph (fonts and XML escaping)."""
    return escape(safe(text)).replace("\n", "<br/>")


# ----------------------------------------------------------------------- formatting


def _zone(dt: datetime) -> str:
    offset = dt.utcoffset()
    if offset is None:  # the inputs refuse naive date-times before anything is drawn
        raise ValueError(f"{dt.isoformat()} is not timezone-aware")
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


def when(dt: datetime | None, *, seconds: bool = False) -> str:
    """A date-time as printed: its own wall-clock time and zone; "-" for none."""
    if dt is None:
        return "-"
    return f"{dt:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {_zone(dt)}"


def sci(value: float) -> str:
    """1.5e8 -> "1.50 × 10^8"."""
    exponent = math.floor(math.log10(value))
    mantissa = value / 10**exponent
    if round(mantissa, 2) >= 10:
        exponent += 1
        mantissa /= 10
    return f"{mantissa:.2f} × 10^{exponent}"


def volume(value: Decimal | float) -> str:
    return f"{Decimal(str(value)).normalize():f} mL"


def din_plain(din: DIN) -> str:
    """The eye-readable DIN without its check character: facility, year, sequence."""
    return f"{din.facility_code} {din.year} {din.sequence}"


# -------------------------------------------------------------------------- drawing


def style(
    name: str, size: float, *, bold: bool = False, leading: float | None = None, **kw: Any
) -> ParagraphStyle:
    """A paragraph style in the document fonts."""
    return ParagraphStyle(
        name,
        fontName=FONT_BOLD if bold else FONT,
        fontSize=size,
        leading=leading or size * 1.22,
        embeddedHyphenation=1,  # a long word may break after a hyphen it already has
        **kw,
    )


def paragraph(text: str, paragraph_style: ParagraphStyle) -> Paragraph:
    """Plain text as a paragraph: characters the fonts lack are spelled out, markup escaped."""
    return Paragraph(markup(text), paragraph_style)


class EyeReadableDin(Flowable):
    """The eye-readable DIN: facility, year and sequence, then the check character in a box
    (ISBT 128 prints the keyboard check character boxed so it is not read as part of the DIN).
    """

    def __init__(self, din: DIN, font_size: float = 11, bold: bool = True) -> None:
        super().__init__()
        self.din = din
        self.font = FONT_BOLD if bold else FONT
        self.font_size = font_size
        self.text = din_plain(din)
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


class BiohazardLegend(Flowable):
    """The biohazard legend: the symbol, drawn (three rings round a centre ring), and the word
    BIOHAZARD beside it, as text a reader and a text search both find."""

    WORD = "BIOHAZARD"

    def __init__(self, font_size: float = 9) -> None:
        super().__init__()
        self.font_size = font_size
        self.symbol = font_size * 1.6
        self.gap = font_size * 0.5
        self.width = self.symbol + self.gap + stringWidth(self.WORD, FONT_BOLD, font_size)
        self.height = self.symbol + 2

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        size = self.symbol
        cx, cy = size / 2, 1 + size / 2
        c.setLineWidth(size * 0.09)
        for angle in (90, 210, 330):
            rad = math.radians(angle)
            x, y = cx + size * 0.2 * math.cos(rad), cy + size * 0.2 * math.sin(rad)
            c.circle(x, y, size * 0.27, stroke=1, fill=0)
        c.circle(cx, cy, size * 0.12, stroke=1, fill=0)
        c.setFont(FONT_BOLD, self.font_size)
        c.drawString(size + self.gap, cy - self.font_size * 0.35, self.WORD)
