"""The import upload page: preview, then accept; bad files are form errors."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from batches.models import CellCount
from qc.models import InstrumentImport

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent / "instrument_files"


@pytest.fixture
def batch_260001(technician, approved_template, lots):
    from batches.services.batch_record import batch_create
    from batches.services.lifecycle import batch_transition
    from tests.factories import CordBloodUnitFactory

    batch = batch_create(
        actor=technician,
        source_unit=CordBloodUnitFactory(),
        template=approved_template,
        unit_fraction_used_pct=100,
        lot_number="CNK-260001",
    )
    return batch_transition(actor=technician, batch=batch, to_state="in_process", reason="go")


def test_upload_preview_accept(client, technician, instrument, batch_260001):
    client.force_login(technician)
    data = (FILES / "nc_view_multi.csv").read_bytes().replace(b"CNK-260007", b"CNK-260001")
    r = client.post(
        "/imports/",
        {"instrument": instrument.serial_number, "file": SimpleUploadedFile("nc.csv", data)},
    )
    assert r.status_code == 302, r.content[:2000]
    page = client.get(r["Location"])
    assert b"CNK-260001-D07" in page.content and b"Accept and commit" in page.content
    assert CellCount.objects.count() == 0
    r = client.post(r["Location"])
    assert r.status_code == 302
    assert CellCount.objects.filter(batch=batch_260001).count() == 2
    assert InstrumentImport.objects.get().status == "accepted"


def test_bad_file_is_a_form_error(client, technician, instrument):
    client.force_login(technician)
    r = client.post(
        "/imports/",
        {
            "instrument": instrument.serial_number,
            "file": SimpleUploadedFile("x.csv", (FILES / "broken_unknown_header.csv").read_bytes()),
        },
    )
    assert r.status_code == 200 and b"format" in r.content.lower()
    assert InstrumentImport.objects.count() == 0


def test_clinical_staff_cannot_import(client, clinical):
    client.force_login(clinical)
    assert client.get("/imports/").status_code == 403
