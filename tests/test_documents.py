"""Tests for batches.documents: Certificate of Analysis and ISBT 128 bag labels.

Plain functions, no database. The PDFs are read back with pypdf: their text, and the bars of
every Code 128 symbol, which are decoded here from the rectangles drawn on the page with an
independent Code 128 table, so the test checks what a scanner would read, not what the
renderer says it encoded.
"""

import io
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pypdf
import pytest
from pypdf.generic import ContentStream
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm

from batches.documents import (
    PRODUCT_DESCRIPTION,
    BagLabel,
    CoaData,
    DeviationLine,
    DonorEligibility,
    LabelOverflowError,
    QcResultLine,
    QcStatus,
    SignatureLine,
    bag_labels_pdf,
    certificate_of_analysis_pdf,
    din_data_structure,
    expiry_data_structure,
    label_barcode_values,
    label_warnings,
    product_code_data_structure,
)
from carnk_mfg.isbt128 import DIN, DINError

CHICAGO = ZoneInfo("America/Chicago")
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=CHICAGO)
COI = "G123498654321"  # UK Red Book worked example: check character H, value 17
COI_EYE = "G1234 98 654321"
UNIT_DIN = "W123426000123"

DISEASE_RISK = "WARNING: Advise patient of communicable disease risks"
NOT_EVALUATED = "NOT EVALUATED FOR INFECTIOUS SUBSTANCES"


# ----------------------------------------------------------------------- reading PDFs


def _norm(text: str) -> str:
    """Whitespace collapsed, and a word broken after its own hyphen at a line end joined again
    (so "Replication- competent"); apply it to expected text too ("CD3- Flow")."""
    return re.sub(r"(?<=\w)- (?=\w)", "-", " ".join(text.split()))


def _pages(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [_norm(page.extract_text()) for page in reader.pages]


def _mul(m, n):
    """PDF matrix product m x n (apply m, then n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return [
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    ]


def _apply(m, x, y):
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _rects(page, reader):
    """Rectangles painted on a page, in page coordinates: (filled, stroked) lists of
    (x0, y0, x1, y1). Follows q/Q/cm so translated drawings land where they are seen."""
    ctm = [1, 0, 0, 1, 0, 0]
    stack, pending, filled, stroked = [], [], [], []
    for operands, op in ContentStream(page.get_contents(), reader).operations:
        if op == b"q":
            stack.append(ctm)
        elif op == b"Q":
            ctm = stack.pop()
        elif op == b"cm":
            ctm = _mul([float(v) for v in operands], ctm)
        elif op == b"re":
            x, y, w, h = (float(v) for v in operands)
            (ax, ay), (bx, by) = _apply(ctm, x, y), _apply(ctm, x + w, y + h)
            pending.append((min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
        elif op in (b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"S", b"s", b"n"):
            if op in (b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"):
                filled += pending
            if op in (b"S", b"s", b"B", b"B*", b"b", b"b*"):
                stroked += pending
            pending = []
    return filled, stroked


def _text_runs(page):
    """(text, x, y) of every text run: its origin in page coordinates."""
    runs = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            x, y = _apply(cm, tm[4], tm[5])
            runs.append((text.strip(), x, y))

    page.extract_text(visitor_text=visit)
    return runs


# Code 128 symbol values 0..106 as bar/space widths in modules (ISO/IEC 15417, table 1),
# written out here rather than taken from reportlab, so the decoder is an independent check.
_C128_TABLE = """
212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212
112232 122132 122231 113222 123122 123221 223211 221132 221231 213212 223112 312131
311222 321122 321221 312212 322112 322211 212123 212321 232121 111323 131123 131321
112313 132113 132311 211313 231113 231311 112133 112331 132131 113123 113321 133121
313121 211331 231131 213113 213311 213131 311123 311321 331121 312113 312311 332111
314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 112412 122114
122411 142112 142211 241211 221114 413111 241112 134111 111242 121142 121241 114212
124112 124211 411212 421112 421211 212141 214121 412121 111143 111341 131141 114113
114311 411113 411311 113141 114131 311141 411131 211412 211214 211232 2331112
"""
C128_PATTERNS = _C128_TABLE.split()
assert len(C128_PATTERNS) == 107 and all(sum(map(int, p)) == 11 for p in C128_PATTERNS[:106])
C128_VALUE = {pattern: value for value, pattern in enumerate(C128_PATTERNS)}
START_A, START_B, START_C, STOP = 103, 104, 105, 106


def _decode_code128_values(values: list[int]) -> str:
    """Symbol values (start .. data .. check) -> data characters; checks the check symbol."""
    start, *data, check = values
    assert check == (start + sum(i * v for i, v in enumerate(data, start=1))) % 103
    code = {START_A: "A", START_B: "B", START_C: "C"}[start]
    out = []
    for value in data:
        if code == "C":
            if value < 100:
                out.append(f"{value:02d}")
            else:
                code = {100: "B", 101: "A"}[value]
        elif value == 99:
            code = "C"
        elif code == "B" and value == 101 or code == "A" and value == 100:
            code = "A" if code == "B" else "B"
        else:
            assert value < 96, f"unexpected function character {value}"
            if code == "B":
                out.append(chr(32 + value))
            else:
                out.append(chr(32 + value) if value < 64 else chr(value - 64))
    return "".join(out)


def _decode_bars(bars) -> str:
    """Bars of one symbol, left to right: decode their widths as a scanner would."""
    unit = min(x1 - x0 for x0, _, x1, _ in bars)
    widths = []
    for i, (x0, _, x1, _) in enumerate(bars):
        widths.append((x1 - x0) / unit)
        if i + 1 < len(bars):
            widths.append((bars[i + 1][0] - x1) / unit)
    modules = [round(w) for w in widths]
    assert all(abs(w - m) < 0.05 for w, m in zip(widths, modules, strict=True)), widths
    assert all(1 <= m <= 4 for m in modules), modules
    assert (len(modules) - 7) % 6 == 0
    symbols = ["".join(map(str, modules[i : i + 6])) for i in range(0, len(modules) - 7, 6)]
    assert "".join(map(str, modules[-7:])) == C128_PATTERNS[STOP]
    return _decode_code128_values([C128_VALUE[s] for s in symbols])


def _barcodes(page, reader) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every Code 128 symbol drawn on the page: (decoded data, bounding box)."""
    filled, _ = _rects(page, reader)
    rows: dict[tuple[float, float], list] = {}
    for rect in filled:
        rows.setdefault((round(rect[1], 2), round(rect[3], 2)), []).append(rect)
    found = []
    for bars in rows.values():
        if len(bars) < 10:
            continue
        bars.sort()
        unit = min(x1 - x0 for x0, _, x1, _ in bars)
        symbol = [bars[0]]
        for bar in bars[1:]:
            if bar[0] - symbol[-1][2] > 6 * unit:  # a quiet zone: the next symbol begins
                found.append(symbol)
                symbol = []
            symbol.append(bar)
        found.append(symbol)
    return [
        (_decode_bars(s), (s[0][0], s[0][1], s[-1][2], s[0][3]))
        for s in sorted(found, key=lambda s: (-s[0][1], s[0][0]))
    ]


# ------------------------------------------------------------------------ fixtures


def _qc(name, status, result="", unit="", **kw):
    defaults = {"method": "Flow cytometry", "specification": "≥ 70 %"}
    if status != QcStatus.PENDING:
        defaults |= {"reviewed_by": "Quinn Analyst", "reviewed_at": T0 + timedelta(days=15)}
    return QcResultLine(test_name=name, status=status, result=result, unit=unit, **(defaults | kw))


RELEASE_PANEL = [
    _qc("Viability", QcStatus.IN_SPEC, "92.4", "%", method="7-AAD flow", specification="> 70 %"),
    _qc(
        "Sterility (14-day culture)",
        QcStatus.PENDING,
        method="BacT/ALERT",
        specification="No growth",
        may_release_pending=True,
    ),
    _qc(
        "Gram stain",
        QcStatus.IN_SPEC,
        "No organisms seen",
        method="Gram stain",
        specification="No organisms seen",
    ),
    _qc(
        "Endotoxin",
        QcStatus.OUT_OF_SPEC,
        "6.1",
        "EU/mL",
        method="LAL kinetic",
        specification="< 5.0 EU/mL",
    ),
    _qc("Mycoplasma", QcStatus.IN_SPEC, "Negative", method="PCR", specification="Negative"),
    _qc("Identity CD56+CD3-", QcStatus.IN_SPEC, "96.8", "%", specification="> 70 %"),
    _qc(
        "CD3+ T cells",
        QcStatus.IN_SPEC,
        "1.2 × 10^4",
        "cells/kg",
        specification="< 2 × 10^5 cells/kg",
    ),
    _qc("CAR+ (transduction efficiency)", QcStatus.IN_SPEC, "48.5", "%", specification="≥ 20 %"),
    _qc("Residual feeder cells", QcStatus.IN_SPEC, "0.02", "%", specification="< 0.1 %"),
    _qc(
        "Replication-competent retrovirus",
        QcStatus.IN_SPEC,
        "Not detected",
        method="S+L- assay",
        specification="Not detected",
    ),
    _qc(
        "Vector copy number",
        QcStatus.IN_SPEC,
        "2.1",
        "copies/cell",
        method="ddPCR",
        specification="≤ 5 copies/cell",
    ),
]

DEVIATIONS = [
    DeviationLine(
        kind="Step performed late",
        what="Restimulation on day 8 instead of day 7",
        opened_by="Tess Technician",
        opened_at=T0 + timedelta(days=8),
        disposition="Accept: continue manufacturing",
        disposition_notes="Within validated window",
        dispositioned_by="Quincy Assurance",
        dispositioned_at=T0 + timedelta(days=9),
    ),
    DeviationLine(
        kind="Out-of-specification result",
        what="Endotoxin 6.1 EU/mL above the 5.0 EU/mL limit",
        opened_by="Quinn Analyst",
        opened_at=T0 + timedelta(days=15),
    ),
]

SIGNATURES = [
    SignatureLine("Tess Technician", "Performed", T0 + timedelta(days=14, hours=3)),
    SignatureLine("Quinn Analyst", "Reviewed", datetime(2026, 11, 18, 16, 5, 9, tzinfo=UTC)),
    SignatureLine(
        "Quincy Assurance",
        "Released",
        datetime(2026, 11, 18, 11, 7, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ),
]


def _coa(**kw) -> CoaData:
    fields = {
        "lot_number": "CNK-26-0042",
        "coi_identifier": DIN.from_text(COI),
        "source_unit_din": UNIT_DIN,
        "donor_eligibility": DonorEligibility.ELIGIBLE,
        "day0_at": T0,
        "harvested_at": T0 + timedelta(days=14),
        "expires_at": T0 + timedelta(days=365),
        "qc_results": RELEASE_PANEL,
        "deviations": DEVIATIONS,
        "signatures": SIGNATURES,
        "recipient_subject_id": "CNK-S-007",
        "template": "CB-CAR-NK v2",
        "facility": "Cell Therapy Laboratory",
        "generated_at": datetime(2026, 11, 18, 17, 0, tzinfo=UTC),
    }
    return CoaData(**(fields | kw))


def _label(**kw) -> BagLabel:
    fields = {
        "din": COI,
        "product_code_data": "=<S1145VA0",
        "lot_number": "CNK-26-0042",
        "expires_at": datetime(2026, 12, 1, 14, 30, tzinfo=CHICAGO),
        "volume_ml": Decimal("20.0"),
        "car_nk_cells": 2.0e8,
        "cells_per_ml": 1.0e7,
        "donor_eligibility": DonorEligibility.ELIGIBLE,
        "recipient_subject_id": "CNK-S-007",
        "dose_level": "DL2: 1 × 10^6 CAR-NK cells/kg",
    }
    return BagLabel(**(fields | kw))


# ----------------------------------------------------------------- data structures


def test_expiry_data_structure_example():
    assert expiry_data_structure(datetime(2026, 12, 1, 14, 30, tzinfo=CHICAGO)) == "&>0263351430"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), "&>0260010000"),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "&>0263652359"),
        (datetime(2028, 12, 31, 23, 59, tzinfo=UTC), "&>0283662359"),  # leap year
        (datetime(2024, 2, 29, 7, 5, tzinfo=UTC), "&>0240600705"),
        (datetime(2100, 3, 1, 12, 0, tzinfo=UTC), "&>1000601200"),  # next century
    ],
)
def test_expiry_data_structure(when, expected):
    assert expiry_data_structure(when) == expected


def test_expiry_data_structure_uses_the_wall_clock_of_the_given_zone():
    # 23:30 on 31 Dec in Chicago is already 1 Jan in UTC: the local date is encoded.
    local = datetime(2026, 12, 31, 23, 30, tzinfo=CHICAGO)
    assert expiry_data_structure(local) == "&>0263652330"
    assert expiry_data_structure(local.astimezone(UTC)) == "&>0270010530"


def test_expiry_data_structure_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="timezone-aware"):
        expiry_data_structure(datetime(2026, 12, 1, 14, 30))


def test_din_data_structure():
    assert din_data_structure(COI) == "=G12349865432177"  # computed check flags 60 + 17
    assert din_data_structure(DIN.from_text(COI), "00") == "=G12349865432100"
    with pytest.raises(DINError, match="computed check flags"):
        din_data_structure(COI, "61")


def test_product_code_data_structure():
    assert product_code_data_structure("S1145V00") == "=<S1145V00"
    with pytest.raises(ValueError, match="product code data"):
        product_code_data_structure("S114")


# ---------------------------------------------------------- certificate of analysis


def test_coa_contains_identity_qc_deviations_and_signatures():
    pdf = certificate_of_analysis_pdf(_coa())
    pages = _pages(pdf)
    text = " ".join(pages)

    assert pdf.startswith(b"%PDF")
    assert "Certificate of Analysis" in text
    assert "Batch lot number CNK-26-0042" in text
    assert f"Chain of Identity identifier {COI_EYE} H" in text
    assert PRODUCT_DESCRIPTION in text
    assert "Construct iC9/CAR.19/IL15" in text
    assert "W1234 26 000123 3" in text  # source unit DIN and its check character
    assert "Donor eligibility Eligible" in text
    assert "Intended recipient Study subject CNK-S-007" in text
    assert "Day 0 (cord blood thaw): 2026-11-02 08:00 CST (UTC-06:00)" in text
    assert "Harvest: 2026-11-16 08:00 CST (UTC-06:00)" in text
    assert "11 tests: 9 in spec, 1 out of spec, 1 pending." in text

    # Every QC result as one table row: its cells in order.
    for line in RELEASE_PANEL:
        reviewed = (
            f"{line.reviewed_by} 2026-11-17 08:00 CST (UTC-06:00)"
            if line.reviewed_by
            else "Not reviewed"
        )
        row = (
            f"{line.test_name} {line.method} {line.specification} {line.result_text} "
            f"{line.status_text} {reviewed}"
        )
        assert _norm(row) in text, row
    assert "Endotoxin LAL kinetic < 5.0 EU/mL 6.1 EU/mL OUT OF SPEC" in text
    assert "(pending) Pending (may release pending) Not reviewed" in text
    assert "≥ 20 %" in text and "≤ 5 copies/cell" in text  # glyphs Helvetica lacks

    assert (
        "Step performed late Restimulation on day 8 instead of day 7 Accept: continue "
        "manufacturing Within validated window Opened: Tess Technician, 2026-11-10 08:00 CST "
        "(UTC-06:00) Dispositioned: Quincy Assurance, 2026-11-11 08:00 CST (UTC-06:00)"
    ) in text
    assert (
        "Out-of-specification result Endotoxin 6.1 EU/mL above the 5.0 EU/mL limit Awaiting QA "
        "disposition Opened: Quinn Analyst, 2026-11-17 08:00 CST (UTC-06:00)"
    ) in text

    assert "Tess Technician Performed 2026-11-16 11:00:00 CST (UTC-06:00)" in text
    assert "Quinn Analyst Reviewed 2026-11-18 16:05:09 UTC" in text
    assert "Quincy Assurance Released 2026-11-18 11:07:30 UTC+05:30" in text

    assert f"Page 1 of {len(pages)}" in pages[0]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Generated 2026-11-18 17:00:00 UTC | Lot CNK-26-0042 | CoI G123498654321 H" in page


def test_coa_check_character_is_boxed_after_the_din():
    pdf = certificate_of_analysis_pdf(_coa())
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    _, stroked = _rects(page, reader)
    runs = _text_runs(page)
    din = next((x, y) for text, x, y in runs if text == COI_EYE)
    boxed = [
        (text, x, y)
        for text, x, y in runs
        if any(x0 < x < x1 and y0 < y < y1 for x0, y0, x1, y1 in stroked)
    ]
    assert any(text == "H" and x > din[0] and abs(y - din[1]) < 0.5 for text, x, y in boxed)


def test_coa_off_the_shelf_without_deviations_and_ineligible_unit():
    coa = _coa(
        recipient_subject_id=None,
        deviations=[],
        donor_eligibility=DonorEligibility.INELIGIBLE,
        reactive_markers=["HBsAg"],
        urgent_medical_need="Documented by Dr. Rivera, 2026-10-30",
    )
    text = " ".join(_pages(certificate_of_analysis_pdf(coa)))
    assert "Intended recipient Off-the-shelf (no intended recipient)" in text
    assert "Deviations None" in text
    assert "Donor eligibility Ineligible; reactive: HBsAg" in text
    assert "Urgent medical need: Documented by Dr. Rivera, 2026-10-30" in text


def test_long_qc_table_splits_across_pages_with_its_header_repeated():
    results = [
        _qc(f"Assay {n:02d}", QcStatus.IN_SPEC, f"{50 + n / 10:.1f}", "%") for n in range(1, 61)
    ]
    pages = _pages(certificate_of_analysis_pdf(_coa(qc_results=results)))
    total = len(pages)
    assert total >= 2
    assert f"Page 1 of {total}" in pages[0]
    assert f"Page 2 of {total}" in pages[1]
    text = " ".join(pages)
    for n in range(1, 61):
        # each row exactly once, whole (name, method, spec, result, status on one page)
        assert len(re.findall(rf"Assay {n:02d} ", text)) == 1
        row = _norm(f"Assay {n:02d} Flow cytometry ≥ 70 % {50 + n / 10:.1f} % In spec")
        assert sum(row in page for page in pages) == 1, row
    header = "Test Method Specification Result Status Reviewed"
    for page in pages:
        if "Assay" in page:
            assert header in page
    assert "Certificate of Analysis (continued) | Lot CNK-26-0042" in pages[1]
    assert "Quincy Assurance Released" in pages[-1]


def test_coa_page_size_letter_and_a4_portrait():
    for size in (A4, LETTER):
        reader = pypdf.PdfReader(io.BytesIO(certificate_of_analysis_pdf(_coa(), page_size=size)))
        box = reader.pages[0].mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(size, abs=0.01)


def test_coa_is_deterministic():
    assert certificate_of_analysis_pdf(_coa()) == certificate_of_analysis_pdf(_coa())


def test_coa_refuses_naive_datetimes_and_unreviewed_halves():
    with pytest.raises(ValueError, match="timezone-aware"):
        _coa(day0_at=datetime(2026, 11, 2, 8, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        SignatureLine("A", "Released", datetime(2026, 11, 2, 8, 0))
    with pytest.raises(ValueError, match="no result"):
        QcResultLine("Viability", "flow", "> 70 %", QcStatus.IN_SPEC)
    with pytest.raises(ValueError, match="reviewer and review time"):
        QcResultLine("Viability", "flow", "> 70 %", QcStatus.IN_SPEC, "90", reviewed_by="X")


# ---------------------------------------------------------------------- bag labels


def _label_pages(pdf: bytes):
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return reader, reader.pages


def test_label_barcodes_encode_din_with_flags_product_code_and_expiry():
    label = _label()
    expected = ["=G12349865432177", "=<S1145VA0", "&>0263351430"]
    assert label_barcode_values(label) == expected

    reader, pages = _label_pages(bag_labels_pdf([label]))
    decoded = [value for value, _ in _barcodes(pages[0], reader)]
    assert sorted(decoded) == sorted(expected)

    # The layout: the DIN top left, the expiry top right, the product code under the DIN.
    boxes = dict(_barcodes(pages[0], reader))
    din, expiry, product = boxes[expected[0]], boxes[expected[2]], boxes[expected[1]]
    assert din[0] < expiry[0] and din[1] == pytest.approx(expiry[1])
    assert product[1] < din[1]

    # Each data content is also written under its symbol.
    text = _pages(bag_labels_pdf([label]))[0]
    for value in expected:
        assert value in text


def test_decoder_agrees_with_reportlab_code128_on_its_own():
    # The decoder is not a mirror of the renderer: reportlab's own symbol values for the
    # same data decode back to the data through the independent table above.
    for value in ("=G12349865432177", "&>0263351430", "=<S1145VA0", "=W12342600012375"):
        symbol = Code128(value)
        symbol.validate()
        symbol.encode()
        assert _decode_code128_values(symbol.encoded[:-1]) == value
        assert symbol.encoded[-1] == STOP


def test_label_text_eligible_unit_has_no_warnings():
    label = _label()
    assert label_warnings(label) == []
    text = _pages(bag_labels_pdf([label]))[0]
    assert f"{COI_EYE} H" in text
    assert "EXPIRES 2026-12-01 14:30 CST (UTC-06:00)" in text
    assert PRODUCT_DESCRIPTION in text
    assert "Volume: 20 mL" in text
    assert "CAR-NK cells: 2.00 × 10^8" in text
    assert "Concentration: 1.00 × 10^7 cells/mL" in text
    assert "Lot CNK-26-0042 Division A0" in text
    assert "Chain of Identity: G123498654321 H" in text
    assert "Recipient: CNK-S-007" in text
    assert "Dose level: DL2: 1 × 10^6 CAR-NK cells/kg" in text
    assert "Rx only" in text
    assert "WARNING" not in text and "NOT EVALUATED" not in text


def test_label_off_the_shelf():
    text = _pages(bag_labels_pdf([_label(recipient_subject_id=None, dose_level=None)]))[0]
    assert "Off-the-shelf: not assigned to a recipient" in text
    assert "Recipient:" not in text and "Dose level" not in text


def test_label_ineligible_unit_carries_the_warnings():
    label = _label(
        donor_eligibility=DonorEligibility.INELIGIBLE, reactive_markers=["HBsAg", "anti-HBc"]
    )
    text = _pages(bag_labels_pdf([label]))[0]
    assert DISEASE_RISK in text
    assert "WARNING: Reactive test results for HBsAg, anti-HBc" in text
    assert NOT_EVALUATED not in text

    no_markers = _pages(bag_labels_pdf([_label(donor_eligibility="ineligible")]))[0]
    assert DISEASE_RISK in no_markers
    assert "Reactive test results" not in no_markers


def test_label_incomplete_determination_carries_not_evaluated():
    text = _pages(bag_labels_pdf([_label(donor_eligibility=DonorEligibility.INCOMPLETE)]))[0]
    assert NOT_EVALUATED in text
    assert DISEASE_RISK in text
    assert "Reactive test results" not in text


def test_label_eye_readable_din_shows_the_check_character_in_a_box():
    reader, pages = _label_pages(bag_labels_pdf([_label()]))
    _, stroked = _rects(pages[0], reader)
    runs = _text_runs(pages[0])
    x_din, y_din = next((x, y) for text, x, y in runs if text == COI_EYE)
    inside = [
        text
        for text, x, y in runs
        if abs(y - y_din) < 0.5
        and x > x_din
        and any(x0 < x < x1 and y0 < y < y1 for x0, y0, x1, y1 in stroked)
    ]
    assert inside == ["H"]


def test_one_label_per_page_each_with_its_own_division():
    labels = [_label(product_code_data=f"=<S1145V{d}0") for d in "ABC"]
    reader, pages = _label_pages(bag_labels_pdf(labels))
    assert len(pages) == 3
    for page, division in zip(pages, "ABC", strict=True):
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
            (100 * mm, 100 * mm), abs=0.01
        )
        decoded = {value for value, _ in _barcodes(page, reader)}
        assert decoded == {"=G12349865432177", f"=<S1145V{division}0", "&>0263351430"}


def test_labels_refuse_two_bags_that_cannot_be_told_apart():
    with pytest.raises(ValueError, match="own division"):
        bag_labels_pdf([_label(), _label()])
    with pytest.raises(ValueError, match="no labels"):
        bag_labels_pdf([])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"donor_eligibility": DonorEligibility.PENDING}, "not determined"),
        ({"car_nk_cells": 3.0e8}, "figures disagree"),
        ({"volume_ml": 0}, "positive"),
        ({"recipient_subject_id": None}, "no recipient"),
        ({"product_code_data": "S1145VA0"}, "product code data"),
        ({"expires_at": datetime(2026, 12, 1, 14, 30)}, "timezone-aware"),
        ({"reactive_markers": ["HBsAg"]}, "ineligible"),
        ({"din": "G123498654320"}, None),  # accepted: any valid DIN
    ],
)
def test_label_input_is_checked(changes, message):
    if message is None:
        assert _label(**changes).din.text == "G123498654320"
        return
    with pytest.raises(ValueError, match=message):
        _label(**changes)


def test_label_that_does_not_fit_is_refused_not_cut():
    label = _label(
        donor_eligibility=DonorEligibility.INELIGIBLE,
        reactive_markers=[f"marker number {n}" for n in range(40)],
    )
    with pytest.raises(LabelOverflowError):
        bag_labels_pdf([label])


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_documents_render_with_poppler(tmp_path):
    for name, pdf in (
        ("coa", certificate_of_analysis_pdf(_coa())),
        ("label", bag_labels_pdf([_label(donor_eligibility="incomplete")])),
    ):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / name)],
            check=True,
            capture_output=True,
        )
        assert list(tmp_path.glob(f"{name}*.png"))
