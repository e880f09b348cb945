"""Numbers and times as the lab writes them: 2.2 × 10^8 cells, not 2.2e+08; "at least
1 × 10^8" for an open range; 2026-12-01 14:05 CET. The template filters
(`carnk_mfg.templatetags.lab_notation`) render these with <sup>; page builders that need
plain text (an SVG tooltip, a message) use the text forms here."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils import dateformat, timezone

# Below this a number is written out (999, 1000, 9999); from it on, as a power of ten.
PLAIN_BELOW = 10_000
# Non-zero numbers smaller than this are written as a power of ten too (5 × 10^-4).
PLAIN_FROM = Decimal("0.01")
SIGNIFICANT = 3
MINUS = "−"  # U+2212: the typographic minus, which does not break from its number
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
NO_VALUE = "—"


def as_decimal(value: Any) -> Decimal | None:
    """The value as a Decimal, or None when it is no finite number (None, text, NaN, inf)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _trimmed(number: Decimal) -> str:
    """`number` rounded to SIGNIFICANT figures, written without exponent or trailing zeros."""
    if number == 0:
        return "0"
    exponent = number.adjusted()
    # Whole numbers stay whole (1234 mL); fractions keep SIGNIFICANT figures (12.3, 0.0512).
    places = Decimal(1).scaleb(min(exponent - SIGNIFICANT + 1, 0))
    rounded = number.quantize(places, rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def lab_parts(value: Any) -> tuple[str, str, int | None] | None:
    """(sign, mantissa, exponent) of a number as the lab writes it; exponent None when the
    number is written out. None when the value is no finite number."""
    number = as_decimal(value)
    if number is None:
        return None
    sign = MINUS if number < 0 else ""
    number = abs(number)
    if number == 0 or PLAIN_FROM <= number < PLAIN_BELOW:
        return sign, _trimmed(number), None
    exponent = number.adjusted()
    mantissa = number.scaleb(-exponent)
    # 9.996 × 10^7 rounds to 10.0: carry it into the exponent.
    if _trimmed(mantissa) == "10":
        exponent, mantissa = exponent + 1, mantissa.scaleb(-1)
    return sign, _trimmed(mantissa), exponent


def lab_number_text(value: Any) -> str:
    """Plain text: "2.2 × 10⁸" (Unicode superscripts), "999", "—" when there is no number."""
    parts = lab_parts(value)
    if parts is None:
        return NO_VALUE if _no_number(value) else str(value)
    sign, mantissa, exponent = parts
    if exponent is None:
        return f"{sign}{mantissa}"
    return f"{sign}{mantissa} × 10{str(exponent).translate(SUPERSCRIPT)}"


def spec_range_text(
    low: Any, high: Any, unit: str = "", *, number: Callable[[Any], str] = lab_number_text
) -> str:
    """A range of allowed values in words: "1 – 5 × 10⁸", or the one end an open range has,
    "at least 1 × 10⁸ cells", "at most 5 %"; "—" with neither. `number` writes each end
    (the template tag passes its HTML form, and escapes `unit` itself)."""
    has_low, has_high = as_decimal(low) is not None, as_decimal(high) is not None
    if has_low and has_high:
        text = f"{number(low)} – {number(high)}"
    elif has_low:
        text = f"at least {number(low)}"
    elif has_high:
        text = f"at most {number(high)}"
    else:
        return NO_VALUE
    return f"{text} {unit}" if unit else text


def _no_number(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, float | Decimal) and not math.isfinite(value)


def lab_time(value: datetime | None, *, seconds: bool = False) -> str:
    """A moment in the site's time zone, 24-hour ISO form with the zone: 2026-12-01 14:05 CET."""
    if value is None:
        return NO_VALUE
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, "Y-m-d H:i:s T" if seconds else "Y-m-d H:i T").strip()
