"""The Chain of Identity identifier, held by the database whatever path writes: logged in as
the application's own role, a second chain for one batch and recipient, a second use of one
identifier, a malformed identifier, a change and a removal are all refused."""

import pytest
from psycopg2 import errors

from batches.models import ChainOfIdentity
from tests.db.test_app_role import app_db  # noqa: F401 - the fixture, used by name below
from tests.factories import RecipientFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.clause("ISBT 128 ST-028 Chain of Identity"),
]

INSERT = """
    INSERT INTO batches_chainofidentity (identifier, batch_id, recipient_id, assigned_by_id,
        assigned_at)
    VALUES (%s, %s, %s, %s, now())
"""


@pytest.fixture
def chain(planned_batch):
    return ChainOfIdentity.objects.get(batch=planned_batch)


def test_one_chain_per_batch_and_recipient(app_db, chain):  # noqa: F811
    with pytest.raises(errors.UniqueViolation, match="once_per_batch_recipient"):
        app_db(
            (
                INSERT,
                [
                    "W04209900000001",
                    chain.batch_id,
                    chain.recipient_id,
                    chain.assigned_by_id,
                ],
            )
        )


def test_one_identifier_names_one_chain(app_db, chain):  # noqa: F811
    other = RecipientFactory.create()
    with pytest.raises(errors.UniqueViolation, match="identifier"):
        app_db((INSERT, [chain.identifier, chain.batch_id, other.pk, chain.assigned_by_id]))


def test_a_malformed_identifier_is_refused(app_db, chain):  # noqa: F811
    other = RecipientFactory.create()
    with pytest.raises(errors.CheckViolation, match="identifier_format"):
        app_db((INSERT, ["W0420990000001", chain.batch_id, other.pk, chain.assigned_by_id]))


@pytest.mark.parametrize(
    "statement, says",
    [
        (
            "UPDATE batches_chainofidentity SET identifier = 'W04209900000002' WHERE id = %s",
            "assigned once and never changed",
        ),
        (
            "UPDATE batches_chainofidentity SET assigned_at = now() WHERE id = %s",
            "assigned once and never changed",
        ),
        ("DELETE FROM batches_chainofidentity WHERE id = %s", "it is never deleted"),
    ],
)
def test_a_chain_is_never_changed_or_removed(app_db, chain, statement, says):  # noqa: F811
    with pytest.raises(errors.RaiseException, match=says):
        app_db((statement, [chain.pk]))
    assert ChainOfIdentity.objects.get(pk=chain.pk).identifier == chain.identifier
