"""The Certificate of Analysis: plain functions, no database; the PDF is read back with pypdf."""

import io
import re
from datetime import datetime

import pypdf
import pytest
from reportlab.lib.pagesizes import A4, LETTER

from batches.documents.coa import QcResultLine, QcStatus, SignatureLine, certificate_of_analysis_pdf
from batches.documents.inputs import PRODUCT_DESCRIPTION, DonorEligibility
from tests.documents.examples import BAG_DIN_EYE, RELEASE_PANEL, coa_data, qc_line
from tests.documents.pdf_reading import norm_text, page_texts, rects, text_runs


@pytest.mark.clause("21 CFR 11.50")
def test_coa_contains_identity_qc_deviations_and_signatures():
    pdf = certificate_of_analysis_pdf(coa_data())
    pages = page_texts(pdf)
    text = " ".join(pages)

    assert pdf.startswith(b"%PDF")
    assert "Certificate of Analysis" in text
    assert "Batch lot number CNK-26-0042" in text
    assert f"DIN {BAG_DIN_EYE} H" in text
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
        assert norm_text(row) in text, row
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
        assert "Generated 2026-11-18 17:00:00 UTC | Lot CNK-26-0042 | DIN G123498654321 H" in page


def test_coa_check_character_is_boxed_after_the_din():
    pdf = certificate_of_analysis_pdf(coa_data())
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    _, stroked = rects(page, reader)
    runs = text_runs(page)
    din = next((x, y) for text, x, y in runs if text == BAG_DIN_EYE)
    boxed = [
        (text, x, y)
        for text, x, y in runs
        if any(x0 < x < x1 and y0 < y < y1 for x0, y0, x1, y1 in stroked)
    ]
    assert any(text == "H" and x > din[0] and abs(y - din[1]) < 0.5 for text, x, y in boxed)


def test_coa_off_the_shelf_without_deviations_and_ineligible_unit():
    coa = coa_data(
        recipient_subject_id=None,
        deviations=[],
        donor_eligibility=DonorEligibility.INELIGIBLE,
        reactive_markers=["HBsAg"],
        urgent_medical_need="Documented by Dr. Rivera, 2026-10-30",
    )
    text = " ".join(page_texts(certificate_of_analysis_pdf(coa)))
    assert "Intended recipient Off-the-shelf (no intended recipient)" in text
    assert "Deviations None" in text
    assert "Donor eligibility Ineligible; reactive: HBsAg" in text
    assert "Urgent medical need: Documented by Dr. Rivera, 2026-10-30" in text


def test_long_qc_table_splits_across_pages_with_its_header_repeated():
    results = [
        qc_line(f"Assay {n:02d}", QcStatus.IN_SPEC, f"{50 + n / 10:.1f}", "%") for n in range(1, 61)
    ]
    pages = page_texts(certificate_of_analysis_pdf(coa_data(qc_results=results)))
    total = len(pages)
    assert total >= 2
    assert f"Page 1 of {total}" in pages[0]
    assert f"Page 2 of {total}" in pages[1]
    text = " ".join(pages)
    for n in range(1, 61):
        # each row exactly once, whole (name, method, spec, result, status on one page)
        assert len(re.findall(rf"Assay {n:02d} ", text)) == 1
        row = norm_text(f"Assay {n:02d} Flow cytometry ≥ 70 % {50 + n / 10:.1f} % In spec")
        assert sum(row in page for page in pages) == 1, row
    header = "Test Method Specification Result Status Reviewed"
    for page in pages:
        if "Assay" in page:
            assert header in page
    assert "Certificate of Analysis (continued) | Lot CNK-26-0042" in pages[1]
    assert "Quincy Assurance Released" in pages[-1]


def test_coa_page_size_letter_and_a4_portrait():
    for size in (A4, LETTER):
        reader = pypdf.PdfReader(
            io.BytesIO(certificate_of_analysis_pdf(coa_data(), page_size=size))
        )
        box = reader.pages[0].mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(size, abs=0.01)


def test_coa_is_deterministic():
    assert certificate_of_analysis_pdf(coa_data()) == certificate_of_analysis_pdf(coa_data())


def test_coa_refuses_naive_datetimes_and_unreviewed_halves():
    with pytest.raises(ValueError, match="timezone-aware"):
        coa_data(day0_at=datetime(2026, 11, 2, 8, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        SignatureLine("A", "Released", datetime(2026, 11, 2, 8, 0))
    with pytest.raises(ValueError, match="no result"):
        QcResultLine("Viability", "flow", "> 70 %", QcStatus.IN_SPEC)
    with pytest.raises(ValueError, match="reviewer and review time"):
        QcResultLine("Viability", "flow", "> 70 %", QcStatus.IN_SPEC, "90", reviewed_by="X")


@pytest.mark.clause("ISBT 128 ST-028 Chain of Identity")
def test_coa_shows_the_chain_of_identity_when_the_batch_has_one():
    with_chain = " ".join(
        page_texts(certificate_of_analysis_pdf(coa_data(coi_identifier="G12342600000042")))
    )
    assert "Chain of Identity identifier G1234 26 00000042 1" in with_chain
    without = " ".join(page_texts(certificate_of_analysis_pdf(coa_data())))
    assert "Chain of Identity" not in without
