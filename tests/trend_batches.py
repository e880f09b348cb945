"""Batches whose thaw recorded chosen post-thaw TNC counts: made-up series on real batch
records, for the process trending tests."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from batches.services import batch_record, lifecycle
from qc.models import TrendAttribute
from tests.batch_steps import planned_days_ago, step_payloads
from tests.factories import PASSWORD, CordBloodUnitFactory

TNC = "step:thaw_isolation:post_thaw_tnc"
# Ten post-thaw TNC counts around 9 x 10^8, in the order the batches were thawed.
BASELINE_TNC = [9.0e8, 9.2e8, 8.9e8, 9.1e8, 8.8e8, 9.0e8, 9.3e8, 8.9e8, 9.1e8, 9.0e8]


def thawed_batch(technician, template, tnc: float, thawed_at):
    """A batch whose thaw step recorded this post-thaw TNC."""
    with planned_days_ago(3):
        batch = batch_record.batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=template,
            unit_fraction_used_pct=Decimal("100"),
        )
    batch = lifecycle.batch_transition(
        actor=technician, batch=batch, to_state="in_process", reason="go"
    )
    code, _, values, materials = step_payloads(thawed_at, din=batch.source_unit.din)[0]
    batch_record.step_record(
        actor=technician,
        password=PASSWORD,
        batch=batch,
        template_step=batch.template.steps.get(code=code),
        performed_at=thawed_at,
        values={**values, "post_thaw_tnc": tnc},
        materials=materials,
    )
    return batch


@pytest.fixture
def baseline_batches(technician, approved_template, lots):
    start = timezone.now() - timedelta(days=2)
    return [
        thawed_batch(technician, approved_template, tnc, start + timedelta(minutes=10 * i))
        for i, tnc in enumerate(BASELINE_TNC)
    ]


def tnc_attribute():
    return TrendAttribute.objects.get(key=TNC)
