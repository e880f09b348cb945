"""ISBT 128 bag labels and their data structures: plain functions, no database. The barcodes
are decoded from the bars drawn on the page (tests/documents/pdf_reading.py)."""

from datetime import UTC, datetime

import pytest
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm

from batches.documents.inputs import PRODUCT_DESCRIPTION, DonorEligibility
from batches.documents.labels import (
    LabelOverflowError,
    bag_labels_pdf,
    din_data_structure,
    expiry_data_structure,
    label_barcode_values,
    label_warnings,
    product_code_data_structure,
)
from carnk_mfg.isbt128 import DIN, DINError
from tests.documents.examples import BAG_DIN, BAG_DIN_EYE, CHICAGO, bag_label
from tests.documents.pdf_reading import (
    STOP,
    barcodes,
    decode_code128_values,
    page_texts,
    reader_and_pages,
    rects,
    text_runs,
)

DISEASE_RISK = "WARNING: Advise patient of communicable disease risks"
CAUTION = "Caution: New Drug--Limited by Federal (or United States) law to investigational use."
NOT_EVALUATED = "NOT EVALUATED FOR INFECTIOUS SUBSTANCES"


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
    assert din_data_structure(BAG_DIN) == "=G12349865432177"  # computed check flags 60 + 17
    assert din_data_structure(DIN.from_text(BAG_DIN), "00") == "=G12349865432100"
    with pytest.raises(DINError, match="computed check flags"):
        din_data_structure(BAG_DIN, "61")


def test_product_code_data_structure():
    assert product_code_data_structure("S1145V00") == "=<S1145V00"
    with pytest.raises(ValueError, match="product code data"):
        product_code_data_structure("S114")


# ---------------------------------------------------------------------- bag labels


def test_label_barcodes_encode_din_with_flags_product_code_and_expiry():
    label = bag_label()
    expected = ["=G12349865432177", "=<S1145VA0", "&>0263351430"]
    assert label_barcode_values(label) == expected

    reader, pages = reader_and_pages(bag_labels_pdf([label]))
    decoded = [value for value, _ in barcodes(pages[0], reader)]
    assert sorted(decoded) == sorted(expected)

    # The layout: the DIN top left, the expiry top right, the product code under the DIN.
    boxes = dict(barcodes(pages[0], reader))
    din, expiry, product = boxes[expected[0]], boxes[expected[2]], boxes[expected[1]]
    assert din[0] < expiry[0] and din[1] == pytest.approx(expiry[1])
    assert product[1] < din[1]

    # Each data content is also written under its symbol.
    text = page_texts(bag_labels_pdf([label]))[0]
    for value in expected:
        assert value in text


def test_decoder_agrees_with_reportlab_code128_on_its_own():
    # The decoder is not a mirror of the renderer: reportlab's own symbol values for the
    # same data decode back to the data through the independent table in pdf_reading.
    for value in ("=G12349865432177", "&>0263351430", "=<S1145VA0", "=W12342600012375"):
        symbol = Code128(value)
        symbol.validate()
        symbol.encode()
        assert decode_code128_values(symbol.encoded[:-1]) == value
        assert symbol.encoded[-1] == STOP


@pytest.mark.clause("21 CFR 1271.65(b)(2)", "21 CFR 1271.60(d)(2)")
def test_label_text_eligible_unit_has_no_warnings():
    label = bag_label()
    assert label_warnings(label) == []
    text = page_texts(bag_labels_pdf([label]))[0]
    assert f"{BAG_DIN_EYE} H" in text
    assert "EXPIRES 2026-12-01 14:30 CST (UTC-06:00)" in text
    assert PRODUCT_DESCRIPTION in text
    assert "Volume: 20 mL" in text
    assert "CAR-NK cells: 2.00 × 10^8" in text
    assert "Concentration: 1.00 × 10^7 cells/mL" in text
    assert "Lot CNK-26-0042 Division A0" in text
    assert "Chain of Identity" not in text  # no chain given
    assert "Recipient: CNK-S-007" in text
    assert "Dose level: DL2: 1 × 10^6 CAR-NK cells/kg" in text
    assert CAUTION in text and "Rx only" not in text
    assert "Do not irradiate" in text and "Do not use a leukoreduction filter" in text
    assert "WARNING" not in text and "NOT EVALUATED" not in text


@pytest.mark.clause("21 CFR 312.6(a)")
def test_label_carries_the_caution_statement_and_storage_it_is_given():
    label = bag_label(
        caution="Caution: New Drug--Limited by United States law to investigational use.",
        storage_range_c=(-196, -150),
        handling=["Do not irradiate"],
    )
    text = page_texts(bag_labels_pdf([label]))[0]
    assert "Caution: New Drug--Limited by United States law to investigational use." in text
    assert "Store at -196 °C to -150 °C" in text
    assert "Do not irradiate" in text and "leukoreduction" not in text


def test_label_off_the_shelf():
    text = page_texts(bag_labels_pdf([bag_label(recipient_subject_id=None, dose_level=None)]))[0]
    assert "Off-the-shelf: not assigned to a recipient" in text
    assert "Recipient:" not in text and "Dose level" not in text


@pytest.mark.clause("21 CFR 1271.65(b)(2)")
def test_label_ineligible_unit_carries_the_warnings():
    label = bag_label(
        donor_eligibility=DonorEligibility.INELIGIBLE, reactive_markers=["HBsAg", "anti-HBc"]
    )
    assert label_warnings(label) == [
        "BIOHAZARD",
        DISEASE_RISK,
        "WARNING: Reactive test results for HBsAg, anti-HBc",
    ]
    text = page_texts(bag_labels_pdf([label]))[0]
    assert "BIOHAZARD" in text
    assert DISEASE_RISK in text
    assert "WARNING: Reactive test results for HBsAg, anti-HBc" in text
    assert NOT_EVALUATED not in text

    no_markers = page_texts(bag_labels_pdf([bag_label(donor_eligibility="ineligible")]))[0]
    assert "BIOHAZARD" in no_markers and DISEASE_RISK in no_markers
    assert "Reactive test results" not in no_markers


@pytest.mark.clause("21 CFR 1271.65(b)(2)")
def test_label_of_an_ineligible_donor_draws_the_biohazard_symbol_beside_the_word():
    """The legend is the symbol and the word: the symbol's rings are curves on the page that
    only the ineligible donor's label has."""
    eligible = bag_labels_pdf([bag_label()])
    ineligible = bag_labels_pdf([bag_label(donor_eligibility="ineligible")])
    curves = [_page_stream(pdf).count(b" c\n") for pdf in (eligible, ineligible)]
    assert curves[1] >= curves[0] + 4 * 4  # four rings, four Bezier segments each


def _page_stream(pdf: bytes) -> bytes:
    _, pages = reader_and_pages(pdf)
    return pages[0].get_contents().get_data()


@pytest.mark.clause("21 CFR 1271.60(d)(2)")
def test_label_incomplete_determination_carries_not_evaluated():
    text = page_texts(bag_labels_pdf([bag_label(donor_eligibility=DonorEligibility.INCOMPLETE)]))[0]
    assert NOT_EVALUATED in text
    assert DISEASE_RISK in text
    assert "Reactive test results" not in text
    assert "BIOHAZARD" not in text


def test_label_eye_readable_din_shows_the_check_character_in_a_box():
    reader, pages = reader_and_pages(bag_labels_pdf([bag_label()]))
    _, stroked = rects(pages[0], reader)
    runs = text_runs(pages[0])
    x_din, y_din = next((x, y) for text, x, y in runs if text == BAG_DIN_EYE)
    inside = [
        text
        for text, x, y in runs
        if abs(y - y_din) < 0.5
        and x > x_din
        and any(x0 < x < x1 and y0 < y < y1 for x0, y0, x1, y1 in stroked)
    ]
    assert inside == ["H"]


def test_one_label_per_page_each_with_its_own_division():
    labels = [bag_label(product_code_data=f"=<S1145V{d}0") for d in "ABC"]
    reader, pages = reader_and_pages(bag_labels_pdf(labels))
    assert len(pages) == 3
    for page, division in zip(pages, "ABC", strict=True):
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
            (100 * mm, 100 * mm), abs=0.01
        )
        decoded = {value for value, _ in barcodes(page, reader)}
        assert decoded == {"=G12349865432177", f"=<S1145V{division}0", "&>0263351430"}


def test_labels_refuse_two_bags_that_cannot_be_told_apart():
    with pytest.raises(ValueError, match="own division"):
        bag_labels_pdf([bag_label(), bag_label()])
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
        ({"caution": " "}, "caution statement"),
        ({"storage_range_c": (25, 15)}, "low to high"),
        ({"product_code_data": "=<S1145VAB"}, "product code data"),
        ({"product_code_data": "=<S1145ZA0"}, "product code data"),
        ({"din": "G123498654320"}, None),  # accepted: any valid DIN
    ],
)
def test_label_input_is_checked(changes, message):
    if message is None:
        assert bag_label(**changes).din.text == "G123498654320"
        return
    with pytest.raises(ValueError, match=message):
        bag_label(**changes)


def test_label_that_does_not_fit_is_refused_not_cut():
    label = bag_label(
        donor_eligibility=DonorEligibility.INELIGIBLE,
        reactive_markers=[f"marker number {n}" for n in range(40)],
    )
    with pytest.raises(LabelOverflowError):
        bag_labels_pdf([label])
