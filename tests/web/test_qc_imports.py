"""The import upload page: preview, then accept; bad files are form errors."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from batches.models import CellCount
from qc.models import InstrumentImport

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent.parent / "instrument_files"


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


def test_a_refused_accept_is_a_form_error(client, technician, instrument, batch_260001):
    """A row the count rule refuses (here measured before the batch was planned) stops the
    accept with the reason on the page, not a server error."""
    from batches.models import Batch

    Batch.objects.filter(pk=batch_260001.pk).update(
        created_at=batch_260001.created_at.replace(year=2027)
    )
    client.force_login(technician)
    data = (FILES / "nc_view_multi.csv").read_bytes().replace(b"CNK-260007", b"CNK-260001")
    r = client.post(
        "/imports/",
        {"instrument": instrument.serial_number, "file": SimpleUploadedFile("nc.csv", data)},
    )
    assert r.status_code == 302
    page = client.post(r["Location"])
    assert page.status_code == 200
    assert "cannot be before batch CNK-260001 was planned" in page.content.decode()
    assert CellCount.objects.count() == 0
