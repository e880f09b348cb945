"""What no request can do to a worker, whatever it sends: a body over the limit is refused
unread (413), a body too big for memory is refused, a lost database connection answers 503
with Retry-After and the next request works; the API answers JSON in every case."""

import json

import psycopg2
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from carnk_mfg.request_limits import LimitedUploadHandler, UploadTooLarge
from qc.models import InstrumentImport

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


def test_api_upload_over_the_limit_is_refused_by_its_length_unread(client, technician, settings):
    client.force_login(technician)
    declared = settings.REQUEST_MAX_BYTES + 1
    # The body sent is tiny; the declared length alone decides, before anything is read.
    response = client.post(
        "/api/v1/imports/", data=b"x" * 10, content_type="text/csv", CONTENT_LENGTH=str(declared)
    )
    assert response.status_code == 413
    assert "MB this site accepts" in response.json()["detail"]
    assert InstrumentImport.objects.count() == 0


def test_web_upload_over_the_limit_gets_a_page_not_a_stack_trace(client, technician, settings):
    client.force_login(technician)
    response = client.post(
        reverse("import-upload"),
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(settings.REQUEST_MAX_BYTES + 1),
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert b"MB this site accepts" in response.content


def test_a_json_body_too_big_for_memory_is_a_json_413(client, technician, settings):
    client.force_login(technician)
    body = json.dumps({"notes": "x" * (3 * MB)})  # about 3 MB of JSON
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < len(body) < settings.REQUEST_MAX_BYTES
    response = client.post("/api/v1/batches/", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"


def test_a_content_length_that_is_not_a_number_is_a_400(client):
    response = client.post(
        "/api/v1/readings/", data=b"{}", content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert (response.status_code, response["Content-Type"]) == (400, "application/json")


def test_an_unknown_api_address_is_json(client, technician):
    client.force_login(technician)
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_a_streamed_upload_stops_once_past_the_limit(settings):
    settings.REQUEST_MAX_BYTES = 10
    handler = LimitedUploadHandler()
    assert handler.receive_data_chunk(b"12345", 0) == b"12345"
    assert handler.receive_data_chunk(b"67890", 5) == b"67890"
    with pytest.raises(UploadTooLarge):
        handler.receive_data_chunk(b"1", 10)


def terminate(pid: int) -> None:
    """End a database session from outside, as a failover or a restarted server would."""
    params = connection.settings_dict
    other = psycopg2.connect(
        dbname=params["NAME"],
        user=params["USER"],
        host=params["HOST"],
        port=params["PORT"],
        password=params["PASSWORD"] or None,
    )
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/api/v1/batches/", "/batches/"])
def test_a_lost_database_connection_is_503_and_the_next_request_works(technician, path):
    client = Client(raise_request_exception=False)
    client.force_login(technician)
    connection.ensure_connection()
    assert connection.connection is not None
    terminate(connection.connection.get_backend_pid())
    response = client.get(path)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    if path.startswith("/api/"):
        assert "database is not available" in response.json()["detail"]
    else:
        assert b"database is not available" in response.content
    assert client.get(path).status_code == 200
