"""Recording the harvest step plans the release panel (batches/services/batch_record via
qc/services/specs.py), called directly."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.services import lifecycle
from qc.models import QcTest
from tests import batch_steps

pytestmark = pytest.mark.django_db


def test_harvest_step_creates_the_release_panel_with_due_dates(
    technician, approved_spec_set, planned_batch
):
    batch = planned_batch
    lifecycle.batch_transition(actor=technician, batch=batch, to_state="in_process", reason="go")
    day0 = timezone.now() - timedelta(days=15)
    batch_steps.record_steps(batch, technician, day0=day0)
    tests = {t.definition.code: t for t in QcTest.objects.filter(batch=batch)}
    assert len(tests) == 11
    harvest_at = day0 + timedelta(days=14)
    assert tests["endotoxin"].due_at == harvest_at + timedelta(hours=24)
    assert tests["sterility"].due_at == harvest_at + timedelta(days=14)
