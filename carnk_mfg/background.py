"""Work a request hands to the Celery workers. A request neither waits long on the broker
nor fails with it: when the broker is unreachable the work is left to the periodic scan that
covers it (the overdue scans and the stuck-import re-queue run every minute and catch up),
and a warning is logged."""

from __future__ import annotations

import logging
from typing import Any

from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# A short connect timeout and one quick retry for a blip; beyond that the request goes on
# without the broker rather than wait on the publisher's default patience.
CONNECT_TIMEOUT_SECONDS = 2
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue(task_name: str, *args: Any, queue: str | None = None) -> bool:
    """Send the task named `task_name` to the workers; False (and a logged warning) when the
    broker is down. Call it from `transaction.on_commit`, so a worker never looks for rows
    not yet written. By name, so a service need not import the app's tasks module."""
    from carnk_mfg.celery import app

    try:
        with app.connection_for_write(connect_timeout=CONNECT_TIMEOUT_SECONDS) as connection:
            app.send_task(
                task_name,
                args=list(args),
                queue=queue,
                connection=connection,
                retry_policy=RETRY_POLICY,
            )
    except (OperationalError, OSError) as exc:
        logger.warning(
            "Broker unreachable (%s): %s left for its periodic scan.",
            exc.__class__.__name__,
            task_name,
        )
        return False
    return True
