"""The Chain of Identity identifier (batches/services/chain_of_identity.py): assigned once per
batch and recipient, when the batch is planned for its recipient or a bag of a stock batch is
first assigned to one; printed on the bag's label and the Certificate of Analysis."""

import pytest

from batches import selectors
from batches.documents import bag_label_zpl, bag_labels_pdf, certificate_of_analysis_pdf
from batches.models import Batch, ChainOfIdentity, DoseUnit
from batches.services import release
from batches.services.chain_of_identity import chain_of_identity_assign_locked
from carnk_mfg import isbt128
from tests.documents.pdf_reading import barcodes, page_texts, reader_and_pages
from tests.documents.zpl_reading import read_label
from tests.factories import RecipientFactory

pytestmark = pytest.mark.django_db

CLAUSE = "ISBT 128 ST-028 Chain of Identity"


@pytest.mark.clause(CLAUSE)
def test_a_batch_planned_for_its_recipient_begins_its_chain(planned_batch, settings):
    chain = ChainOfIdentity.objects.get(batch=planned_batch)
    assert chain.recipient == planned_batch.intended_recipient
    assert isbt128.validate_coi(chain.identifier) == chain.identifier
    assert chain.identifier.startswith(settings.ISBT_FACILITY_CODE)
    assert chain.identifier != planned_batch.din and len(chain.identifier) == 15


@pytest.mark.clause(CLAUSE)
def test_the_chain_is_assigned_once_per_batch_and_recipient(issued_bag, clinical, technician):
    batch = issued_bag.batch
    (chain,) = ChainOfIdentity.objects.filter(batch=batch)
    # The second bag of the batch for the same recipient joins the same chain.
    other = release.dose_assign(
        actor=clinical,
        dose_unit=DoseUnit.objects.get(batch=batch, division="B0"),
        recipient=issued_bag.recipient,
        level_code="DL2",
    )
    again = chain_of_identity_assign_locked(
        actor=technician, batch=batch, recipient=issued_bag.recipient
    )
    assert list(ChainOfIdentity.objects.filter(batch=batch)) == [chain] == [again]
    assert selectors.chain_of_identity(batch, other.recipient_id) == chain.identifier


@pytest.mark.clause(CLAUSE)
def test_a_stock_bag_begins_its_chain_when_first_assigned(issued_bag, clinical):
    """A batch made for no one: its bag's chain begins with the assignment to a recipient,
    and another recipient's bag of the same batch has a chain of its own."""
    batch = issued_bag.batch
    Batch.objects.filter(pk=batch.pk).update(intended_recipient=None)
    stranger = RecipientFactory.create(dose_level="DL2")
    bag = DoseUnit.objects.get(batch=batch, division="B0")
    assert selectors.chain_of_identity(batch, stranger.pk) is None
    release.dose_assign(actor=clinical, dose_unit=bag, recipient=stranger, level_code="DL2")
    theirs = selectors.chain_of_identity(batch, stranger.pk)
    ours = selectors.chain_of_identity(batch, issued_bag.recipient_id)
    assert theirs and ours and theirs != ours


@pytest.mark.clause(CLAUSE)
def test_the_bag_label_carries_the_chain_in_words_and_barcode(issued_bag):
    identifier = selectors.chain_of_identity(issued_bag.batch, issued_bag.recipient_id)
    assert identifier is not None
    check = isbt128.coi_check_character(identifier)
    label = selectors.bag_label_for(issued_bag)
    assert label.coi_identifier == identifier
    eye = f"Chain of Identity: {isbt128.coi_eye_readable(identifier)} {check}"
    read = read_label(bag_label_zpl(label))
    assert eye in read.texts and identifier + check in read.barcodes
    reader, pages = reader_and_pages(bag_labels_pdf([label]))
    assert identifier + check in [value for value, _ in barcodes(pages[0], reader)]
    assert eye in page_texts(bag_labels_pdf([label]))[0]


@pytest.mark.clause(CLAUSE)
def test_the_certificate_of_analysis_carries_the_chain(issued_bag):
    batch = issued_bag.batch
    identifier = selectors.chain_of_identity(batch, batch.intended_recipient_id)
    assert identifier is not None
    coa = selectors.coa_for(batch)
    assert coa.coi_identifier == identifier
    text = " ".join(page_texts(certificate_of_analysis_pdf(coa)))
    eye = f"{isbt128.coi_eye_readable(identifier)} {isbt128.coi_check_character(identifier)}"
    assert f"Chain of Identity identifier {eye}" in text
