"""The parse of an upload by a real Celery worker on the real Redis broker, polled and
accepted through the API; and an upload made while the broker cannot be reached."""

import json
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from batches.models import CellCount
from carnk_mfg.celery import app
from qc.models import InstrumentImport
from qc.services.imports import imports_requeue_stuck
from qc.tasks import parse_import, requeue_stuck_imports

FILES = Path(__file__).parent.parent / "instrument_files"
URL = "/api/v1/imports/"


def keyed(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def upload(client):
    data = (FILES / "vicell_blu_summary_utf8.csv").read_bytes()
    return client.post(URL, {"file": SimpleUploadedFile("Results.csv", data)}, format="multipart")


@pytest.fixture
def own_queue(settings):
    """A queue of this test's own on the shared broker, emptied afterwards."""
    queue = f"test-imports-{uuid.uuid4().hex[:8]}"
    settings.IMPORT_PARSE_QUEUE = queue
    yield queue
    redis.Redis.from_url(django_settings.REDIS_CLIENT_URL).delete(queue)


@pytest.mark.django_db(transaction=True)
def test_a_worker_parses_the_upload_the_client_polls_then_accepts(
    instrument_key, batch_260001, own_queue
):
    assert app.conf.broker_url.startswith(("redis://", "redis+socket://"))
    client = keyed(instrument_key)
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[own_queue], shutdown_timeout=30
    ):
        answer = upload(client)
        assert answer.status_code == 202 and answer.json()["status"] == "parsing"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            body = client.get(f"{URL}{answer.json()['id']}/").json()
            if body["status"] != "parsing":
                break
            time.sleep(0.5)
    assert body["status"] == "ready", body
    assert body["preview"]["matched"] == 2
    accepted = client.post(f"{URL}{body['id']}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert CellCount.objects.filter(batch=batch_260001).count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_upload_while_the_broker_is_down_is_kept_and_queued_again(
    instrument_key, own_queue, monkeypatch
):
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", "redis://127.0.0.1:1/0")  # nothing listens
    answer = upload(keyed(instrument_key))
    assert answer.status_code == 202 and answer.json()["status"] == "parsing"
    broker = redis.Redis.from_url(django_settings.REDIS_CLIENT_URL)
    assert broker.llen(own_queue) == 0

    monkeypatch.delenv("CELERY_BROKER_WRITE_URL")
    kept = InstrumentImport.objects.get(pk=answer.json()["id"])
    assert kept.queued_at is not None
    assert imports_requeue_stuck(now=kept.queued_at + timedelta(minutes=6))["requeued"] == 1
    sent = [json.loads(m) for m in broker.lrange(own_queue, 0, -1)]
    assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in sent] == [
        ("qc.parse_import", f"[{kept.pk}]")
    ]
    # The message a worker would take: the parse runs once, a redelivery changes nothing.
    assert parse_import(kept.pk) == "ready"
    assert parse_import(kept.pk) == "ready"


def test_the_beat_schedule_queues_stuck_imports_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["qc-import-requeue"]
    assert entry["task"] == requeue_stuck_imports.name == "qc.requeue_stuck_imports"
    assert isinstance(entry["schedule"], float) and entry["schedule"] <= 60
    assert entry["task"] in app.tasks
