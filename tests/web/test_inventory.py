"""Web UI of material stock: the lot page's stock, certificates (upload, download) and
adjustments; the step form's quantity and its overdraw error; the recall page listing the
batches that used a lot, and QA's signed recall."""

import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from batches.models import ExecutedStep, LotCertificate, ReagentLot
from tests.batch_steps import step_payloads
from tests.factories import PASSWORD
from tests.web.batch_pages import day0, field_block, html, step_data

pytestmark = pytest.mark.django_db


def thaw_data(quantity):
    code, at, values, materials = step_payloads(day0())[0]
    return step_data(code, at, values, materials, **{"materials.0.quantity": quantity})


def test_overdraw_is_a_form_error_on_the_quantity(client, started):
    ReagentLot.objects.filter(lot_number="ISO-1").update(quantity_on_hand=Decimal("4"))
    page = html(client.post(reverse("batch-step", args=[started.lot_number]), thaw_data("6")))
    assert "Reagent lot ISO-1 has 4 mL on hand; 6 mL cannot be drawn from it." in field_block(
        page, "materials.0.quantity"
    )
    assert ExecutedStep.objects.count() == 0


def test_the_step_form_draws_the_quantity(client, started):
    response = client.post(reverse("batch-step", args=[started.lot_number]), thaw_data("7.5"))
    assert response.status_code == 302
    assert ReagentLot.objects.get(lot_number="ISO-1").quantity_on_hand == Decimal("992.5")
    page = html(client.get(reverse("batch-detail", args=[started.lot_number])))
    assert "ISO-1</span> (7.5 mL)" in page


def test_certificate_upload_download_and_adjustment_on_the_lot_page(client, technician, lots):
    client.force_login(technician)
    data = b"%PDF-1.4 supplier certificate"
    upload = reverse("lot-certificate-upload", args=["reagent", "IL2-1"])
    response = client.post(upload, {"file": SimpleUploadedFile("IL2-1.pdf", data)})
    assert response.status_code == 302
    coa = LotCertificate.objects.get()
    assert coa.sha256 == hashlib.sha256(data).hexdigest()
    download = client.get(reverse("lot-certificate-file", args=["reagent", "IL2-1", coa.pk]))
    assert download.content == data
    adjust = reverse("lot-adjust", args=["reagent", "IL2-1"])
    refused = client.post(adjust, {"adjustment_kind": "breakage", "change": "-2000", "reason": "x"})
    assert "1000 mL on hand" in html(refused)
    response = client.post(
        adjust, {"adjustment_kind": "breakage", "change": "-3", "reason": "Vial dropped"}
    )
    assert response.status_code == 302
    page = html(client.get(reverse("lot-detail", args=["reagent", "IL2-1"])))
    assert "997 mL" in page and coa.sha256 in page and "Vial dropped" in page


def test_lot_recall_lists_its_batches(client, started, qa):
    """Acceptance, through the pages: the recall page lists the batch that used the lot,
    and QA's signed recall leaves the lot recalled."""
    assert (
        client.post(reverse("batch-step", args=[started.lot_number]), thaw_data("5")).status_code
        == 302
    )
    recall = reverse("lot-recall", args=["reagent", "ISO-1"])
    assert client.post(recall, {"reason": "r", "password": PASSWORD}).status_code == 403
    client.force_login(qa)
    page = html(client.get(recall))
    step = started.template.steps.get(code="thaw_isolation")
    assert started.lot_number in page and f"1. {step.name}" in page and "5 mL" in page
    assert 'id="recall-form"' in page
    response = client.post(recall, {"reason": "Supplier recall 24-117", "password": PASSWORD})
    assert response.status_code == 302
    assert ReagentLot.objects.get(lot_number="ISO-1").status == "recalled"
    page = html(client.get(recall))
    assert "Supplier recall 24-117" in page and 'id="recall-form"' not in page
    assert started.lot_number in page
