"""File import through the API: upload (202, parsing), the parse (run here as the worker's
task would), polling, atomic accept, the same file twice, every format, flow gates, the row
cap. Unreadable files and the accept rules are proven in tests/services/ and
tests/instrument_parsers/; a real worker runs the parse in test_qc_import_worker.py."""

import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from batches.models import CellCount
from qc.models import InstrumentImport, InstrumentReading
from qc.tasks import parse_import

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent.parent / "instrument_files"
URL = "/api/v1/imports/"


def keyed(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def upload(client, name, data=None, **extra):
    data = data if data is not None else (FILES / name).read_bytes()
    return client.post(URL, {"file": SimpleUploadedFile(name, data), **extra}, format="multipart")


def parsed(client, answer):
    """The import once the worker's task has parsed it, as a poll reads it."""
    assert answer.status_code == 202, answer.json()
    parse_import(answer.json()["id"])
    polled = client.get(f"{URL}{answer.json()['id']}/")
    assert polled.status_code == 200
    return polled.json()


def vicell_rows(n):
    """A Vi-CELL BLU summary export of `n` rows."""
    header, line = (FILES / "vicell_blu_summary_utf8.csv").read_text().splitlines()[:2]
    rows = [
        line.replace("CNK-260001-D07", f"CNK-{260100 + i // 20}-D{i % 20:02d}") for i in range(n)
    ]
    return "\n".join([header, *rows, ""]).encode()


def test_upload_answers_at_once_then_the_preview_is_polled(instrument_key, batch_260001):
    client = keyed(instrument_key)
    r = upload(client, "vicell_blu_summary_utf8.csv")
    assert r.status_code == 202, r.json()
    queued = r.json()
    assert (queued["status"], queued["preview"], queued["already_imported"]) == (
        "parsing",
        {},
        False,
    )
    assert queued["file_format"] == "vicell_blu_summary" and queued["failure"] == ""
    assert client.get(f"{URL}{queued['id']}/").json()["status"] == "parsing"
    early = client.post(f"{URL}{queued['id']}/accept/")
    assert early.status_code == 400
    assert early.json() == {
        "status": ["This file is still being parsed: accept it once its preview is ready."]
    }
    body = parsed(client, r)
    assert body["status"] == "ready"
    rows = {row["sample_id"]: row for row in body["preview"]["rows"]}
    assert rows["CNK-260001-D07"]["status"] == "matched"
    assert rows["CNK-260001-D07"]["viable_cells_per_ml"] == 1_850_000.0
    assert "CNK-260002-D07" in body["preview"]["unmatched"]
    assert CellCount.objects.count() == 0  # staged only
    accepted = client.post(f"{URL}{body['id']}/accept/")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "accepted"
    days = sorted(CellCount.objects.filter(batch=batch_260001).values_list("day", flat=True))
    assert days == [7, 10]
    stored = InstrumentImport.objects.get()
    assert bytes(stored.raw_file) == (FILES / "vicell_blu_summary_utf8.csv").read_bytes()
    assert len(stored.sha256) == 64


def test_same_file_twice_is_a_200_naming_the_first_import(instrument_key, batch_260001):
    # The rule (the second upload stages nothing, an import is accepted once) is the service's.
    client = keyed(instrument_key)
    first = parsed(client, upload(client, "vicell_blu_summary_utf8.csv"))
    client.post(f"{URL}{first['id']}/accept/")
    again = upload(client, "vicell_blu_summary_utf8.csv")
    assert again.status_code == 200
    assert again.json()["already_imported"] is True and again.json()["id"] == first["id"]
    assert InstrumentImport.objects.count() == 1
    assert CellCount.objects.count() == 2 and InstrumentReading.objects.count() == 2


@pytest.mark.parametrize(
    "name",
    [
        "vicell_blu_summary_utf16le.csv",
        "nc_view_multi.csv",
        "nucleoview_nc200.csv",
        "cedex_hires.csv",
        "vicell_blu_detail_export.csv",
        "vicell_xr_sample.txt",
    ],
)
def test_every_supported_format_stages(instrument_key, batch_260001, name):
    client = keyed(instrument_key)
    body = parsed(client, upload(client, name))
    assert body["status"] == "ready" and body["preview"]["rows"], body


def test_empty_and_missing_file(instrument_key):
    client = keyed(instrument_key)
    assert upload(client, "x.csv", data=b"").status_code == 400
    assert client.post(URL, {}, format="multipart").status_code == 400


def test_a_file_over_the_row_cap_is_refused_at_once(instrument_key):
    """30,000 rows would keep allotropy busy for minutes; the count refuses them first."""
    data = vicell_rows(30_000)
    start = time.perf_counter()
    r = upload(keyed(instrument_key), "big.csv", data=data)
    took = time.perf_counter() - start
    assert r.status_code == 400
    assert r.json() == {
        "file": [
            "The file has 30,000 rows; at most 5,000 can be imported at once: split the export."
        ]
    }
    assert not InstrumentImport.objects.exists()
    assert took < 3, took


def test_a_file_that_cannot_be_parsed_is_failed_with_the_reason(instrument_key):
    client = keyed(instrument_key)
    body = parsed(client, upload(client, "broken_text_in_number.csv"))
    assert body["status"] == "failed" and "is not a number" in body["failure"]
    refused = client.post(f"{URL}{body['id']}/accept/")
    assert refused.status_code == 400 and "could not be parsed" in refused.json()["status"][0]


def test_user_upload_page_path_names_the_instrument(api, technician, instrument, batch_260001):
    client = api.as_user(technician)
    r = client.post(
        URL,
        {"file": SimpleUploadedFile("v.csv", (FILES / "vicell_blu_summary_utf8.csv").read_bytes())},
        format="multipart",
    )
    assert r.status_code == 400 and "instrument" in r.json()
    r = client.post(
        URL,
        {
            "file": SimpleUploadedFile(
                "v.csv", (FILES / "vicell_blu_summary_utf8.csv").read_bytes()
            ),
            "instrument": instrument.serial_number,
        },
        format="multipart",
    )
    assert r.status_code == 202


def test_flow_gate_statistics_answer_the_car_test(cytometer_key, batch_260001, approved_spec_set):
    from datetime import timedelta

    from django.utils import timezone

    from qc.models import QcTest, QcTestDefinition

    at = timezone.now() - timedelta(hours=2)
    test = QcTest.objects.create(
        batch=batch_260001,
        definition=QcTestDefinition.objects.get(spec_set__status="approved", code="car_positive"),
        triggered_at=at,
        sample_due_at=at,
        due_at=at + timedelta(hours=8),
    )
    sample = f"CNK-260001-QC{test.pk}_CAR.fcs"
    text = (FILES / "flow_gate_stats.csv").read_text().replace("CNK-260010-FP_CAR.fcs", sample)
    client = keyed(cytometer_key)
    body = parsed(client, upload(client, "gates.csv", data=text.encode()))
    matched = [r for r in body["preview"]["rows"] if r["status"] == "matched"]
    assert len(matched) == 1 and matched[0]["result"] == pytest.approx(59.9539)
    assert client.post(f"{URL}{body['id']}/accept/").status_code == 200
    test.refresh_from_db()
    assert test.state == "resulted" and test.in_spec is True
