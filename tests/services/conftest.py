"""Fixtures shared by the service tests (the project's own are in tests/conftest.py)."""

import pytest

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
