"""The "Print label" button on the bag page: the label reaches the printer (a listener on
127.0.0.1), a printer that is off is a message on the page, and the prints are listed."""

import pytest
from django.urls import reverse

from batches.models import DoseUnit, LabelPrintJob, LabelPrintOutcome
from tests.batch_steps import formulate
from tests.documents.zpl_reading import read_label

pytestmark = pytest.mark.django_db


@pytest.fixture
def bag(in_qc_batch, technician):
    formulate(in_qc_batch, technician, ("A0",))
    return DoseUnit.objects.get(batch=in_qc_batch, division="A0")


def test_the_button_prints_and_the_print_is_listed(client, bag, technician, label_printer):
    client.force_login(technician)
    page = client.get(reverse("bag-detail", args=[bag.pk])).content.decode()
    assert "Print label" in page
    r = client.post(
        reverse("bag-label-print", args=[bag.pk]), {"reason": "First label"}, follow=True
    )
    assert r.status_code == 200
    assert len(read_label(label_printer.next_label()).barcodes) == 3
    page = r.content.decode()
    assert "sent to the label printer" in page and 'id="label-prints"' in page
    assert "First label" in page


def test_a_printer_that_is_off_is_a_message_not_an_error(
    client, bag, technician, label_printer_down
):
    client.force_login(technician)
    r = client.post(reverse("bag-label-print", args=[bag.pk]), {"reason": "x"}, follow=True)
    assert r.status_code == 200
    assert "could not be reached" in r.content.decode()
    assert LabelPrintJob.objects.get().outcome == LabelPrintOutcome.FAILED


def test_no_button_for_who_may_not_print(client, bag, clinical, label_printer):
    client.force_login(clinical)
    page = client.get(reverse("bag-detail", args=[bag.pk])).content.decode()
    assert "Print label" not in page
    assert (
        client.post(reverse("bag-label-print", args=[bag.pk]), {"reason": "x"}).status_code == 403
    )
    assert label_printer.received.empty()


def test_an_empty_reason_is_a_form_error(client, bag, technician, label_printer):
    client.force_login(technician)
    r = client.post(reverse("bag-label-print", args=[bag.pk]), {"reason": ""})
    assert r.status_code == 200 and "This field is required" in r.content.decode()
    assert not LabelPrintJob.objects.exists()
