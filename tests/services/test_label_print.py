"""Printing a bag label on the thermal label printer (batches/services/labels.py): the ZPL
goes over raw TCP to a real listener on 127.0.0.1 and is read back as a printer would read it;
each print is a job in the audit trail, a printer that is off a failed job and a clear error."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from batches import selectors
from batches.documents import label_barcode_values, label_warnings
from batches.models import DoseUnit, DoseUnitStatus, LabelPrintJob, LabelPrintOutcome
from batches.services import labels
from tests.batch_steps import formulate
from tests.documents.zpl_reading import read_label
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def bag(in_qc_batch, technician):
    """Bag A0, just filled (quarantined): its label goes on as it is filled."""
    formulate(in_qc_batch, technician, ("A0",))
    return DoseUnit.objects.get(batch=in_qc_batch, division="A0")


def test_the_printer_receives_the_bags_label_with_its_barcodes_and_the_job_is_trailed(
    bag, technician, label_printer
):
    job = labels.dose_label_print(actor=technician, dose_unit=bag, reason="First label")

    read = read_label(label_printer.next_label())
    label = selectors.bag_label_for(bag)
    din, product_code, expiry = label_barcode_values(label)
    assert sorted(read.barcodes) == sorted([din, product_code, expiry])
    assert product_code == f"=<{bag.batch.source_unit.product_code[:5]}VA0"
    # Not assigned to a recipient yet: no chain of identity on the label.
    assert label.coi_identifier is None
    assert din in read.texts and product_code in read.texts and expiry in read.texts
    assert "EXPIRES" in read.texts
    assert [t for t in read.texts if t in label_warnings(label)] == label_warnings(label)

    job.refresh_from_db()
    assert job.outcome == LabelPrintOutcome.PRINTED
    assert job.printed_by == technician and job.dose_unit == bag
    assert job.printer == f"127.0.0.1:{label_printer.port}"
    assert job.bytes_sent > 500 and job.error == ""
    assert_trailed(job, actor=technician, reason="First label", label="update")


def test_an_ineligible_source_units_warnings_reach_the_printer(bag, technician, label_printer):
    unit = bag.batch.source_unit
    unit.eligibility = "ineligible"
    unit.save()
    labels.dose_label_print(actor=technician, dose_unit=bag)
    texts = read_label(label_printer.next_label()).texts
    assert "WARNING: Advise patient of communicable disease risks" in texts


@pytest.mark.parametrize(
    ("role", "may"),
    [
        ("technician", True),
        ("qa", True),
        ("qc_analyst", False),
        ("clinical", False),
        ("courier", False),
        ("admin_user", False),  # the administrator makes no GMP record
    ],
)
def test_who_may_print_a_label(request, bag, label_printer, role, may):
    actor = request.getfixturevalue(role)
    if may:
        labels.dose_label_print(actor=actor, dose_unit=bag)
        assert read_label(label_printer.next_label()).barcodes
        assert LabelPrintJob.objects.get().printed_by == actor
        return
    with unchanged(bag), pytest.raises(PermissionDenied):
        labels.dose_label_print(actor=actor, dose_unit=bag)
    assert not LabelPrintJob.objects.exists()
    assert label_printer.received.empty()


def test_a_printer_that_is_off_is_a_clear_error_and_a_failed_job(
    bag, technician, label_printer_down
):
    with pytest.raises(labels.LabelPrinterUnavailable, match="could not be reached") as exc:
        labels.dose_label_print(actor=technician, dose_unit=bag, reason="Reprint: smudged")
    job = LabelPrintJob.objects.get()
    assert exc.value.job == job
    assert job.outcome == LabelPrintOutcome.FAILED
    assert job.printer == label_printer_down and job.bytes_sent == 0
    assert "could not be reached" in job.error
    assert_trailed(job, actor=technician, reason="Reprint: smudged", label="update")


def test_no_printer_configured_is_a_clear_error_and_sends_nothing(bag, technician, settings):
    settings.LABEL_PRINTER_HOST = ""
    with unchanged(bag), pytest.raises(labels.LabelPrinterUnavailable, match="No label printer"):
        labels.dose_label_print(actor=technician, dose_unit=bag)


def test_a_recalled_bag_gets_no_new_label(bag, technician, label_printer):
    DoseUnit.objects.filter(pk=bag.pk).update(status=DoseUnitStatus.RECALLED)
    with unchanged(bag), pytest.raises(ValidationError, match="recalled"):
        labels.dose_label_print(actor=technician, dose_unit=bag)
    assert label_printer.received.empty()


def test_a_reason_is_required_and_free_text(bag, technician, label_printer):
    with pytest.raises(ValidationError, match="reason"):
        labels.dose_label_print(actor=technician, dose_unit=bag, reason="  ")
    with pytest.raises(ValidationError, match="control character"):
        labels.dose_label_print(actor=technician, dose_unit=bag, reason="bad\x07bell")
    assert not LabelPrintJob.objects.exists()
    assert label_printer.received.empty()
