"""Records the web tests of several pages share."""

import pytest

from batches.models import Eligibility, UnitStatus
from tests.factories import CordBloodUnitFactory
from tests.web.batch_pages import plan_batch, transition


@pytest.fixture
def pending_unit():
    return CordBloodUnitFactory.create(status=UnitStatus.RECEIVED, eligibility=Eligibility.PENDING)


@pytest.fixture
def eligible_unit():
    return CordBloodUnitFactory.create(
        status=UnitStatus.AVAILABLE, eligibility=Eligibility.ELIGIBLE
    )


@pytest.fixture
def unit(db):
    return CordBloodUnitFactory.create(din="G123498654321")


@pytest.fixture
def started(client, technician, approved_template, unit, lots):
    """A batch planned and started through the pages, the technician signed in."""
    client.force_login(technician)
    batch = plan_batch(client, unit, approved_template)
    assert transition(client, batch, "in_process", "planned").status_code == 302
    return batch
