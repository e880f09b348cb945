"""The bag label in ZPL II for thermal printers: read back as a printer would
(tests/documents/zpl_reading.py), it carries what the PDF label carries, barcodes included,
and no text on it can end the label or run a printer command."""

import pytest

from batches.documents import bag_label_zpl, bag_labels_pdf, label_barcode_values, label_warnings
from batches.documents.labels import LabelOverflowError
from batches.documents.zpl import code128_data, code128_width, field_text
from tests.documents.examples import BAG_DIN, BAG_DIN_EYE, bag_label
from tests.documents.pdf_reading import barcodes, norm_text, page_texts, reader_and_pages
from tests.documents.zpl_reading import code128_text, read_label

HOSTILE = "Lab ^XZ~JA _5E \\& ~DGR:X.GRF^FS é 漢"


@pytest.mark.clause("21 CFR 312.6(a)")
def test_zpl_label_carries_the_din_product_code_expiry_and_the_pdf_barcodes():
    label = bag_label()
    read = read_label(bag_label_zpl(label))
    din, product_code, expiry = label_barcode_values(label)
    assert read.barcodes == [din, expiry, product_code]  # drawn in the PDF's order
    reader, pages = reader_and_pages(bag_labels_pdf([label]))
    assert sorted(read.barcodes) == sorted(value for value, _ in barcodes(pages[0], reader))
    for text in (
        BAG_DIN_EYE,
        "H",  # the DIN's check character, boxed
        "=<S1145VA0",
        "&>0263351430",
        "EXPIRES",
        "2026-12-01 14:30 CST (UTC-06:00)",
        "Lot CNK-26-0042  Division A0",
        "Recipient: CNK-S-007",
        "Caution: New Drug--Limited by Federal (or United States) law to investigational use.",
        "Do not irradiate",
        "Do not use a leukoreduction filter",
    ):
        assert text in read.texts, text
    assert "Rx only" not in read.texts


@pytest.mark.parametrize(
    "fields",
    [
        {"donor_eligibility": "ineligible", "reactive_markers": ["HBsAg", "anti-HCV"]},
        {"donor_eligibility": "incomplete", "recipient_subject_id": None, "dose_level": None},
        {"facility": "Cell Therapy Lab, St. Example's"},
    ],
)
def test_every_text_of_the_zpl_label_is_on_the_pdf_label_and_the_warnings_too(fields):
    label = bag_label(**fields)
    read = read_label(bag_label_zpl(label))
    warnings = label_warnings(label)
    assert [t for t in read.texts if t in warnings] == warnings
    pdf_text = page_texts(bag_labels_pdf([label]))[0]
    for text in read.texts:
        assert norm_text(text) in pdf_text, text


@pytest.mark.clause("21 CFR 1271.65(b)(2)", "21 CFR 1271.60(d)(2)")
def test_zpl_label_of_an_ineligible_donor_reads_back_with_the_legend_and_warnings():
    label = bag_label(donor_eligibility="ineligible", reactive_markers=["HBsAg", "HCV NAT"])
    read = read_label(bag_label_zpl(label))
    texts = read.texts
    assert texts.index("BIOHAZARD") < texts.index(
        "WARNING: Advise patient of communicable disease risks"
    )
    assert "WARNING: Reactive test results for HBsAg, HCV NAT" in texts
    assert "NOT EVALUATED FOR INFECTIOUS SUBSTANCES" not in texts
    # The symbol: four rings drawn as circles.
    assert [name for name, _ in read.commands].count("^GC") == 4

    incomplete = read_label(bag_label_zpl(bag_label(donor_eligibility="incomplete")))
    assert "NOT EVALUATED FOR INFECTIOUS SUBSTANCES" in incomplete.texts
    assert "WARNING: Advise patient of communicable disease risks" in incomplete.texts
    assert "BIOHAZARD" not in incomplete.texts
    assert not any(t.startswith("WARNING: Reactive") for t in incomplete.texts)
    assert "^GC" not in [name for name, _ in incomplete.commands]


def test_the_label_is_utf8_and_non_ascii_text_travels_as_hex():
    zpl = bag_label_zpl(bag_label(facility="Zürich – Labor 漢"))
    assert "^CI28" in zpl
    assert zpl.isascii()  # every other character is a ^FH escape
    assert "Zürich – Labor 漢" in read_label(zpl).texts
    assert "CAR-NK cells: 2.00 × 10^8" in read_label(zpl).texts


@pytest.mark.parametrize("where", ["facility", "recipient_subject_id", "lot_number"])
def test_hostile_text_can_neither_end_the_label_nor_run_a_command(where):
    zpl = bag_label_zpl(bag_label(**{where: HOSTILE}))
    # read_label checks: one ^XA, one ^XZ (the last command), no ~ command at all.
    read = read_label(zpl)
    assert "~" not in zpl and zpl.count("^XZ") == 1
    assert any(HOSTILE in text for text in read.texts)


def test_field_text_escapes_the_prefixes_the_indicator_and_backslash():
    assert field_text("a^b~c_d\\e") == "a_5Eb_7Ec_5Fd_5Ce"
    assert field_text("é") == "_C3_A9"
    assert field_text("\r\n") == "_0D_0A"


@pytest.mark.parametrize(
    "value",
    ["&>0263351430", "=G12349865432177", "=<S1145VA0", "12345", "A1234B", ">>12>3456>", "ABC"],
)
def test_code128_data_reads_back_as_the_value(value):
    data = code128_data(value)
    assert data.startswith(">:")
    assert code128_text(data) == value


def test_digit_runs_go_to_subset_c_so_the_din_fits_its_column():
    data = code128_data("=G12349865432177")
    assert ">5" in data
    assert code128_width(data) < code128_width(">:" + "=G12349865432177")


def test_code128_data_refuses_what_a_printer_would_read_as_a_command():
    for value in ["=<S1145^XZ", "A~JA", ""]:
        with pytest.raises(ValueError):
            code128_data(value)


def test_content_that_does_not_fit_is_refused_not_cut_off():
    with pytest.raises(LabelOverflowError):
        bag_label_zpl(bag_label(facility="Cell therapy laboratory " * 30))


def test_the_zpl_label_is_the_same_for_the_same_bag():
    assert bag_label_zpl(bag_label()) == bag_label_zpl(bag_label())
    assert BAG_DIN in bag_label_zpl(bag_label())


@pytest.mark.clause("ISBT 128 ST-028 Chain of Identity")
def test_a_bag_for_a_recipient_carries_its_chain_of_identity_on_both_labels():
    label = bag_label(coi_identifier="G12342600000042")
    read = read_label(bag_label_zpl(label))
    assert label_barcode_values(label)[-1] == "G123426000000421"
    assert "G123426000000421" in read.barcodes
    assert "Chain of Identity: G1234 26 00000042 1" in read.texts
    reader, pages = reader_and_pages(bag_labels_pdf([label]))
    assert "G123426000000421" in [value for value, _ in barcodes(pages[0], reader)]
    assert "Chain of Identity: G1234 26 00000042 1" in page_texts(bag_labels_pdf([label]))[0]


def test_a_chain_of_identity_needs_a_recipient_and_its_format():
    with pytest.raises(ValueError, match="names a recipient"):
        bag_label(coi_identifier="G12342600000042", recipient_subject_id=None, dose_level=None)
    with pytest.raises(ValueError, match="15 characters"):
        bag_label(coi_identifier="G1234260000004")
