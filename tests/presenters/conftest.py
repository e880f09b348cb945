"""A batch started two days ago, for the presenters' tests: its steps are recorded through the
services, at known times, and each test reads it back as its page does."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.presenters.batch_page import batch_for_page
from batches.services import batch_record, lifecycle
from tests.batch_steps import step_payloads
from tests.factories import PASSWORD


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
        steps = {s.code: s for s in batch.template.steps.all()}
        for code, at, values, materials in step_payloads(start, din=batch.source_unit.din)[:n]:
            batch_record.step_record(
                actor=technician,
                password=PASSWORD,
                batch=batch,
                template_step=steps[code],
                performed_at=at,
                values=values,
                materials=materials,
            )
        return batch

    return record


@pytest.fixture
def read():
    """The batch as its page reads it, as of `now`."""

    def read(batch, now=None):
        return batch_for_page(batch.lot_number, now=now or timezone.now())

    return read
