"""The import upload page: the detail page waits (refreshing itself) while a worker parses
the file, then shows the preview to accept; bad files are form errors."""

import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from batches.models import CellCount
from qc.models import InstrumentImport
from qc.tasks import parse_import

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
    waiting = client.get(r["Location"]).content.decode()
    assert "Parsing…" in waiting and 'data-reload-after="2"' in waiting
    assert "carnk_mfg/reload.js" in waiting and "Accept and commit" not in waiting
    early = client.post(r["Location"])  # an accept sent from a page opened elsewhere
    assert early.status_code == 200 and "still being parsed" in early.content.decode()
    parse_import(InstrumentImport.objects.get().pk)
    page = client.get(r["Location"])
    assert b"CNK-260001-D07" in page.content and b"Accept and commit" in page.content
    assert b"reload.js" not in page.content
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


def test_a_file_over_the_row_cap_is_a_form_error(client, technician, instrument):
    header, line = (FILES / "vicell_blu_summary_utf8.csv").read_text().splitlines()[:2]
    data = "\n".join([header] + [line.replace("D07", f"D{i % 20:02d}") for i in range(30_000)])
    client.force_login(technician)
    start = time.perf_counter()
    r = client.post(
        "/imports/",
        {
            "instrument": instrument.serial_number,
            "file": SimpleUploadedFile("big.csv", data.encode()),
        },
    )
    assert r.status_code == 200 and time.perf_counter() - start < 3
    assert "The file has 30,000 rows; at most 5,000 can be imported at once" in r.content.decode()
    assert InstrumentImport.objects.count() == 0


def test_a_failed_parse_shows_why(client, technician, instrument):
    client.force_login(technician)
    r = client.post(
        "/imports/",
        {
            "instrument": instrument.serial_number,
            "file": SimpleUploadedFile("t.csv", (FILES / "broken_text_in_number.csv").read_bytes()),
        },
    )
    parse_import(InstrumentImport.objects.get().pk)
    page = client.get(r["Location"]).content.decode()
    assert "The file could not be parsed:" in page and "is not a number" in page
    assert "Accept and commit" not in page and "reload.js" not in page


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
    parse_import(InstrumentImport.objects.get().pk)
    page = client.post(r["Location"])
    assert page.status_code == 200
    assert "cannot be before batch CNK-260001 was planned" in page.content.decode()
    assert CellCount.objects.count() == 0
