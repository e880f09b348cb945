"""Running a scheduled scan the way beat does: sent through the real Redis broker to a real
worker, on a queue of its own so no other test's worker takes the message."""

import time
import uuid
from collections.abc import Callable

from celery.contrib.testing.worker import start_worker

from carnk_mfg.celery import app


def run_twice_in_a_worker(task, done: Callable[[], bool], timeout: float = 30) -> None:
    """Send `task` twice (the second run must find nothing left to do) and wait until
    `done()` holds; results are not kept, so the second message is given a second more."""
    queue = f"test-scan-{uuid.uuid4().hex[:8]}"
    assert app.conf.broker_url.startswith(("redis://", "redis+socket://"))
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30
    ):
        for _ in range(2):
            task.apply_async(queue=queue)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not done():
            time.sleep(0.2)
        time.sleep(1)
