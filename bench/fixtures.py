"""Rows the benchmarks start from, written directly: benchmark data, not GMP records; and
the app served as in production, for the benchmarks that measure from outside."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time


def bench_user(username: str, role: str):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    user = UserFactory.create(username=username, email=f"{username}@bench.example")  # or get
    user.groups.add(Group.objects.get(name=role))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def bench_batch(*, lot_number: str, din: str, state: str, user):
    """A batch on the default template (approved, with its release panel) in `state`."""
    from datetime import timedelta

    from django.utils import timezone

    from batches.models import Batch, CordBloodUnit, ProcessTemplate
    from qc.models import QcSpecSet
    from tests.factories import CordBloodUnitFactory

    template = ProcessTemplate.objects.get(code="CB-CAR-NK", version=1)
    ProcessTemplate.objects.filter(pk=template.pk, status="draft").update(status="approved")
    QcSpecSet.objects.filter(template=template, status="draft").update(status="approved")
    unit = CordBloodUnit.objects.first() or CordBloodUnitFactory.create(registered_by=user)
    now = timezone.now()
    # Planned a month ago: the readings the benchmarks send (an hour old) may not predate it.
    planned = now - timedelta(days=30)
    batch = Batch.objects.filter(lot_number=lot_number).first() or Batch.objects.create(
        lot_number=lot_number,
        source_unit=unit,
        template=template,
        din=din,
        unit_fraction_used_pct=1,
        state="planned",
        state_changed_at=now,
        created_by=user,
        created_at=planned,
    )
    # A batch starts planned and moves only along the lifecycle (the database insists).
    path = ["in_process", "harvested", "in_qc"]
    if batch.state == "planned" and state in path:
        for step in path[: path.index(state) + 1]:
            Batch.objects.filter(pk=batch.pk).update(state=step)
        batch.refresh_from_db()
    return batch


def bench_instrument(admin):
    """The benchmarks' Vi-CELL BLU (serial BENCH-VCB), registered once."""
    from datetime import timedelta

    from django.utils import timezone

    from qc.models import Instrument
    from qc.services.instruments import instrument_register

    instrument = Instrument.objects.filter(serial_number="BENCH-VCB").first()
    if instrument is None:
        instrument = instrument_register(
            actor=admin,
            name="Bench Vi-CELL",
            model="Vi-CELL BLU",
            serial_number="BENCH-VCB",
            location="bench",
            kind="cell_counter",
            calibration_due=timezone.localdate() + timedelta(days=365),
        )
    return instrument


def gunicorn_start(database_url: str) -> tuple[subprocess.Popen, int]:
    """The app under gunicorn (2 sync workers, DEBUG off) on a free loopback port, returned
    once it answers its health check."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "carnk_mfg.settings",
        "DEBUG": "false",
        # Whitenoise's word that nothing is collected: the benchmarks ask for no static file.
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    server = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "carnk_mfg.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    for _ in range(600):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("gunicorn did not start")
