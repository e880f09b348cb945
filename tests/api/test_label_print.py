"""The bag label for thermal printers through the API: the ZPL file (`label.zpl`), and the
print action, which sends it to the configured label printer (a listener on 127.0.0.1)."""

import pytest

from batches.models import DoseUnit, LabelPrintJob, LabelPrintOutcome
from tests.batch_steps import formulate
from tests.documents.zpl_reading import read_label

pytestmark = pytest.mark.django_db


@pytest.fixture
def bag(in_qc_batch, technician):
    formulate(in_qc_batch, technician, ("A0",))
    return DoseUnit.objects.get(batch=in_qc_batch, division="A0")


def test_the_zpl_label_of_a_bag(api, bag, courier):
    r = api.as_user(courier).get(f"/api/v1/doses/{bag.pk}/label.zpl")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/plain")
    read = read_label(r.content.decode("utf-8"))
    assert any(code.startswith(f"={bag.batch.din}") for code in read.barcodes)
    assert f"Lot {bag.batch.lot_number}  Division A0" in read.texts


def test_the_zpl_label_of_an_unknown_bag_is_404_and_anonymous_is_401(api, bag, technician):
    assert api.get(f"/api/v1/doses/{bag.pk}/label.zpl").status_code == 401
    client = api.as_user(technician)
    assert client.get(f"/api/v1/doses/{bag.pk + 1000}/label.zpl").status_code == 404
    assert client.get("/api/v1/doses/x/label.zpl").status_code == 404


def test_print_sends_the_label_and_answers_the_job(api, bag, technician, label_printer):
    r = api.as_user(technician).post(
        f"/api/v1/doses/{bag.pk}/label/print/", {"reason": "Reprint: label smudged"}, format="json"
    )
    assert r.status_code == 201, r.json()
    assert r.json()["outcome"] == "printed" and r.json()["printed_by"] == technician.username
    read = read_label(label_printer.next_label())
    assert len(read.barcodes) == 3
    assert LabelPrintJob.objects.get().reason == "Reprint: label smudged"


def test_print_with_the_printer_off_is_503_with_a_message_and_a_failed_job(
    api, bag, qa, label_printer_down
):
    r = api.as_user(qa).post(f"/api/v1/doses/{bag.pk}/label/print/", {}, format="json")
    assert r.status_code == 503
    assert "could not be reached" in r.json()["detail"]
    job = LabelPrintJob.objects.get()
    assert job.outcome == LabelPrintOutcome.FAILED and job.printed_by == qa


def test_print_refused_to_clinical_staff_and_bad_reason_is_400(
    api, bag, clinical, technician, label_printer
):
    assert api.as_user(clinical).post(f"/api/v1/doses/{bag.pk}/label/print/").status_code == 403
    r = api.as_user(technician).post(
        f"/api/v1/doses/{bag.pk}/label/print/", {"reason": "x\x1b[2J"}, format="json"
    )
    assert r.status_code == 400 and "reason" in r.json()
    assert not LabelPrintJob.objects.exists()
    assert label_printer.received.empty()
