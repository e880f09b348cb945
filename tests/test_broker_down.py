"""Redis down (the Celery broker and the cache both live there): the pages and the API keep
working, /readyz says 503 naming the broker, /healthz stays 200; once the broker is back the
overdue scans catch up and flag each overdue item once, however often they run."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core.cache import cache
from django.utils import timezone
from kombu import pools
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from batches.models import FollowUpVisit
from batches.tasks import scan_overdue_visits
from carnk_mfg.background import enqueue
from carnk_mfg.celery import app
from qc.models import Notification, QcAlert, QcTest, QcTestDefinition
from qc.tasks import scan_overdue_qc
from tests.batch_steps import step_payloads
from tests.factories import PASSWORD


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def forget_broker_connections() -> None:
    # Celery keeps a connection pool made from the broker URL it first saw.
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


@contextmanager
def redis_unreachable(settings):
    """The broker and the cache pointed at a closed port, as when the Redis server is down."""
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    kept_broker, kept_caches = app.conf.broker_url, settings.CACHES
    settings.CELERY_BROKER_URL = dead
    settings.CACHES = {"default": {**kept_caches["default"], "LOCATION": dead}}
    app.conf.broker_url = dead
    forget_broker_connections()
    try:
        yield
    finally:
        settings.CELERY_BROKER_URL = kept_broker
        settings.CACHES = kept_caches
        app.conf.broker_url = kept_broker
        forget_broker_connections()


@pytest.fixture
def redis_down(settings):
    with redis_unreachable(settings):
        yield


def test_probes_name_the_broker(db, redis_down, client):
    started = time.monotonic()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "ok"
    assert ready.json()["broker"].startswith("error")
    assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 2  # a probe answers; it does not hang on the broker
    with pytest.raises(RedisConnectionError):  # the cache is down too
        cache.get("anything")


def test_ready_again_with_the_broker(db, client):
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_pages_and_api_work_without_redis(
    redis_down, client, api, technician, running_batch, password
):
    lot = running_batch.lot_number
    # Signing in needs no Redis: the throttle steps aside, the lockout is in the database.
    signed_in = client.post("/accounts/login/", {"username": "technician1", "password": password})
    assert signed_in.status_code == 302, signed_in.content
    token = APIClient().post(
        "/api/v1/auth/token/", {"username": "technician1", "password": password}, format="json"
    )
    assert token.status_code == 200, token.content
    client.force_login(technician)
    for page in ("/", "/batches/", f"/batches/{lot}/"):
        assert client.get(page).status_code == 200, page

    api = api.as_user(technician)
    assert api.get("/api/v1/batches/").status_code == 200
    assert api.get(f"/api/v1/batches/{lot}/").status_code == 200
    code, at, values, materials = step_payloads(
        running_batch.created_at + timedelta(hours=1), din=running_batch.source_unit.din
    )[0]
    step = api.post(
        f"/api/v1/batches/{lot}/steps/",
        {
            "step": code,
            "performed_at": at.isoformat(),
            "values": values,
            "materials": materials,
            "password": PASSWORD,
        },
        format="json",
    )
    assert step.status_code == 201, step.content
    assert running_batch.steps.count() == 1


def test_work_sent_to_a_dead_broker_is_left_for_the_scan(db, redis_down, caplog):
    # What a bare apply_async would make of a request: a 500.
    with pytest.raises(OperationalError):
        scan_overdue_qc.apply_async(retry_policy={"max_retries": 0})
    started = time.monotonic()
    assert enqueue(scan_overdue_qc.name) is False
    assert time.monotonic() - started < 3
    assert "left for its periodic scan" in caplog.text


def overdue_items(batch, infusion):
    """An overdue QC test and an overdue follow-up visit, as they pile up while Redis is down."""
    past = timezone.now() - timedelta(hours=2)
    test = QcTest.objects.create(
        batch=batch,
        definition=QcTestDefinition.objects.get(code="endotoxin"),
        triggered_at=past - timedelta(hours=1),
        sample_due_at=past - timedelta(hours=1),
        due_at=past,
    )
    visit = FollowUpVisit.objects.filter(infusion=infusion).earliest("due_at")
    FollowUpVisit.objects.filter(pk=visit.pk).update(due_at=past)
    return test, visit


def scans_run(times: int) -> None:
    """Both scans sent through the broker `times` times each and run by a real worker."""
    # A queue of this test's own: messages left by other runs cannot interfere.
    queue = f"test-catch-up-{uuid.uuid4().hex[:8]}"
    done: set[str] = set()
    all_done = threading.Event()

    def finished(task_id, **kwargs):
        done.add(task_id)
        if sent <= done:
            all_done.set()

    task_postrun.connect(finished, weak=False)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30
        ):
            sent = {
                task.apply_async(queue=queue).id
                for _ in range(times)
                for task in (scan_overdue_qc, scan_overdue_visits)
            }
            if sent <= done:
                all_done.set()
            assert all_done.wait(60), "the worker did not run every scan"
    finally:
        task_postrun.disconnect(finished)


@pytest.mark.django_db(transaction=True)
def test_the_scans_catch_up_once_when_the_broker_returns(
    settings, in_qc_batch, infusion, approved_spec_set
):
    with redis_unreachable(settings):  # the items fall due while Redis is down
        test, visit = overdue_items(in_qc_batch, infusion)
        assert enqueue(scan_overdue_qc.name) is False

    scans_run(2)
    test.refresh_from_db()
    visit.refresh_from_db()
    assert test.overdue_flagged_at is not None and visit.overdue_flagged_at is not None
    alerts = QcAlert.objects.filter(test=test, kind="overdue")
    assert alerts.count() == 1
    notices = Notification.objects.filter(alert__in=alerts).count()
    visit_notices = Notification.objects.filter(visit=visit).count()
    assert notices > 0 and visit_notices > 0

    scans_run(1)  # a further run flags and tells nobody again
    assert QcAlert.objects.filter(test=test, kind="overdue").count() == 1
    assert Notification.objects.filter(alert__in=alerts).count() == notices
    assert Notification.objects.filter(visit=visit).count() == visit_notices
