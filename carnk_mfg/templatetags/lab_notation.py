"""`{% load lab_notation %}`: numbers and times as the lab writes them (carnk_mfg.notation).

- `{{ count.total_viable_cells|lab_number }}` -> 2.2 × 10<sup>8</sup>
- `{% spec_range low high %}` -> "1 – 5 × 10<sup>8</sup>", "at least 1 × 10<sup>8</sup>",
  "at most 5 %" (an open range read as words)
- `{{ step.performed_at|lab_time }}` -> 2026-12-01 14:05 CET (`|lab_time:"seconds"` adds them)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from carnk_mfg import notation

register = template.Library()


@register.filter
def lab_number(value: Any) -> SafeString:
    parts = notation.lab_parts(value)
    if parts is None:
        return format_html("{}", notation.lab_number_text(value))
    sign, mantissa, exponent = parts
    if exponent is None:
        return format_html("{}{}", sign, mantissa)
    return format_html("{}{} × 10<sup>{}</sup>", sign, mantissa, str(exponent).replace("-", "−"))


@register.simple_tag
def spec_range(low: Any, high: Any, unit: str = "") -> SafeString:
    """A range of allowed values in words (carnk_mfg.notation.spec_range_text), its numbers
    with <sup>."""
    # Each number comes escaped from lab_number and the unit is escaped here.
    return mark_safe(  # noqa: S308
        notation.spec_range_text(low, high, conditional_escape(unit), number=lab_number)
    )


@register.filter(name="lab_time")
def lab_time_filter(value: datetime | None, arg: str = "") -> str:
    return notation.lab_time(value, seconds=arg == "seconds")
