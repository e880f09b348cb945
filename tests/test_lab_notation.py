"""Numbers and times as the lab writes them (carnk_mfg.notation and its template filters):
2.2 × 10^8, not 2.2e+08; open ranges in words; 24-hour ISO times with their zone."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from carnk_mfg.notation import lab_number_text, lab_time, spec_range_text
from carnk_mfg.templatetags.lab_notation import lab_number, spec_range


@pytest.mark.parametrize(
    "value, html",
    [
        (0, "0"),
        (0.0, "0"),
        (1, "1"),
        (999, "999"),
        (1e3, "1000"),
        (9999, "9999"),
        (1234.5, "1235"),  # whole numbers stay whole: a volume keeps its units digit
        (12.345, "12.3"),
        (0.5, "0.5"),
        (10_000, "1 × 10<sup>4</sup>"),
        (2.2e8, "2.2 × 10<sup>8</sup>"),
        (220_000_000, "2.2 × 10<sup>8</sup>"),
        (123_456_789, "1.23 × 10<sup>8</sup>"),
        (9.996e7, "1 × 10<sup>8</sup>"),  # rounding carries into the exponent
        (Decimal("2.20E+8"), "2.2 × 10<sup>8</sup>"),
        (Decimal("72.50"), "72.5"),
        ("1.8e7", "1.8 × 10<sup>7</sup>"),
        (-5, "−5"),
        (-2.2e8, "−2.2 × 10<sup>8</sup>"),
        (0.0004, "4 × 10<sup>−4</sup>"),
        (1e300, "1 × 10<sup>300</sup>"),
        (None, "—"),
        (float("nan"), "—"),
        (float("inf"), "—"),
        ("n/a", "n/a"),
        ("<b>", "&lt;b&gt;"),  # text that is no number is shown, escaped
    ],
)
def test_lab_number(value, html):
    assert str(lab_number(value)) == html


def test_the_text_form_uses_superscript_digits():
    assert lab_number_text(2.2e8) == "2.2 × 10⁸"
    assert lab_number_text(0.0004) == "4 × 10⁻⁴"
    assert lab_number_text(None) == "—"


def test_no_e_notation_in_the_filter_output_of_a_large_count():
    rendered = Template("{% load lab_notation %}{{ n|lab_number }}").render(Context({"n": 2.2e8}))
    assert rendered == "2.2 × 10<sup>8</sup>" and "e+" not in rendered


@pytest.mark.parametrize(
    "low, high, unit, html",
    [
        (1e8, None, "cells", "at least 1 × 10<sup>8</sup> cells"),
        (None, 1, "%", "at most 1 %"),
        (15, 100, "%", "15 – 100 %"),
        (1e5, 5e8, "", "1 × 10<sup>5</sup> – 5 × 10<sup>8</sup>"),
        (None, None, "mL", "—"),
        (0, 10, "<i>", "0 – 10 &lt;i&gt;"),  # a bound of 0 is a bound; the unit is escaped
    ],
)
def test_spec_range(low, high, unit, html):
    assert str(spec_range(low, high, unit)) == html


def test_spec_range_text_is_the_same_words_in_plain_text():
    assert spec_range_text(1e8, None, "cells") == "at least 1 × 10⁸ cells"


def test_lab_time_is_24_hour_iso_with_the_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    moment = datetime(2026, 12, 1, 13, 5, 9, tzinfo=UTC)
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert lab_time(moment) == "2026-12-01 14:05 CET"
        assert lab_time(moment, seconds=True) == "2026-12-01 14:05:09 CET"
        summer = datetime(2026, 7, 1, 16, 30, tzinfo=UTC)
        assert lab_time(summer) == "2026-07-01 18:30 CEST"
        rendered = Template("{% load lab_notation %}{{ t|lab_time }} {{ none|lab_time }}").render(
            Context({"t": moment, "none": None})
        )
    assert rendered == "2026-12-01 14:05 CET —"


def test_step_parameter_ranges_and_qc_specifications_read_in_words_and_lab_notation():
    from batches.models import StepParameter
    from qc.models import QcTestDefinition

    assert StepParameter(name="Cells", unit="cells", min_value=1e8).range_text == (
        "at least 1 × 10⁸ cells"
    )
    assert StepParameter(name="pH", unit="", min_value=7, max_value=7.6).range_text == "7 – 7.6"
    assert StepParameter(name="Note", unit="").range_text == ""
    cd3 = QcTestDefinition(result_type="numeric", unit="cells/kg", upper_limit=2.5e5)
    assert cd3.spec_text == "at most 2.5 × 10⁵ cells/kg"
    assert "e+" not in cd3.spec_text
