"""A batch started two days ago, for the presenters' tests: its steps are recorded through the
services, at known times, and each test reads it back as its page does."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.presenters.batch_page import batch_for_page
from batches.services import lifecycle
from tests import batch_steps


@pytest.fixture
def day0():
    return timezone.now().replace(second=0, microsecond=0) - timedelta(days=2)


@pytest.fixture
def started_batch(planned_batch, technician):
    return lifecycle.batch_transition(
        actor=technician, batch=planned_batch, to_state="in_process", reason="go"
    )


@pytest.fixture
def record_steps(technician, day0):
    """record_steps(batch, n): record the first n default steps on their planned days after
    `day0` (or the day 0 given)."""

    def record(batch, n, start=day0):
        batch_steps.record_steps(batch, technician, day0=start, first=n)
        return batch

    return record


@pytest.fixture
def read():
    """The batch as its page reads it, as of `now`."""

    def read(batch, now=None):
        return batch_for_page(batch.lot_number, now=now or timezone.now())

    return read
