"""Fixtures shared by the service tests (the project's own are in tests/conftest.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from qc.models import QcTest, QcTestDefinition
from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def other_qa(db):
    """A second QA reviewer, for the rules that need two different people."""
    return UserFactory(username="qa2", role="qa")


@pytest.fixture
def other_analyst(db):
    return UserFactory(username="qc-b", role="qc_analyst")


@pytest.fixture
def released_batch(in_qc_batch, technician, qc_analyst, other_analyst, qa):
    """The in-QC batch with every test reviewed in spec, bags A0 and B0 filled, its record
    reviewed and released by QA."""
    from batches.services import release
    from tests.batch_steps import formulate, result_all

    result_all(in_qc_batch, qc_analyst, other_analyst)
    formulate(in_qc_batch, technician, ("A0", "B0"))
    release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
    release.batch_release_decide(
        actor=qa, password=PASSWORD, batch=in_qc_batch, decision="release", reason="ok"
    )
    in_qc_batch.refresh_from_db()
    return in_qc_batch


@pytest.fixture
def steps_done_batch(running_batch, technician):
    """The running batch with every step of its template recorded: ready to harvest."""
    from tests.batch_steps import record_steps

    return record_steps(running_batch, technician)


@pytest.fixture
def record_steps(technician):
    """`record_steps(batch, codes)`: the technician records those steps of the template."""
    from tests import batch_steps

    return lambda batch, codes=None: batch_steps.record_steps(batch, technician, codes=codes)


@pytest.fixture
def endotoxin(running_batch, approved_spec_set):
    """An open endotoxin test of a batch in culture, due in ten hours."""
    definition = QcTestDefinition.objects.get(spec_set__status="approved", code="endotoxin")
    now = timezone.now()
    return QcTest.objects.create(
        batch=running_batch,
        definition=definition,
        triggered_at=now - timedelta(hours=1),
        sample_due_at=now - timedelta(hours=1),
        due_at=now + timedelta(hours=10),
    )
