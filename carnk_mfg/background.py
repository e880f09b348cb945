"""Work a request hands to the Celery workers. A request neither waits long on the broker
nor fails with it: when the broker is unreachable the work is left to the periodic scan that
covers it (the overdue scans run every minute and catch up), and a warning is logged."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# One quick retry for a blip; beyond that the request goes on without the broker.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue(task: Task, *args: Any, **kwargs: Any) -> bool:
    """Send `task` to the workers; False (and a logged warning) when the broker is down.
    Call it from `transaction.on_commit`, so a worker never looks for rows not yet written."""
    try:
        task.apply_async(args=args, kwargs=kwargs, retry_policy=RETRY_POLICY)
    except (OperationalError, OSError) as exc:
        logger.warning(
            "Broker unreachable (%s): %s left for its periodic scan.",
            exc.__class__.__name__,
            task.name,
        )
        return False
    return True
