"""A bag's hand-offs are one chain, held by the database whatever path writes: logged in as
the application's own role, a hand-off by someone who does not hold the bag, one dated before
the previous one, one between a person and themselves, a second issue, a first hand-off that
is no issue, a hand-off of a bag not issued (infused), and a change or removal of a signed
hand-off are all refused; two raw hand-offs of one bag at the same moment give one."""

import threading
from datetime import timedelta

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone
from psycopg2 import errors

from batches.models import CustodyEvent, DoseUnit
from tests.db.test_app_role import (
    APP_PASSWORD,
    APP_ROLE,
    app_db,  # noqa: F401 - the fixture, used by name below
)

pytestmark = pytest.mark.django_db(transaction=True)

INSERT = """
    INSERT INTO batches_custodyevent (dose_unit_id, kind, released_by_id, received_by_id,
        from_location, to_location, occurred_at, notes, recorded_by_id, recorded_at)
    VALUES (%s, %s, %s, %s, 'Ward 7', 'Courier', %s, '', %s, now())
    RETURNING id
"""


def hand_off(app_db, bag, giver, taker, kind="ship", when=None):  # noqa: F811 - the fixture
    when = when or timezone.now()
    ((row,),) = app_db((INSERT, [bag.pk, kind, giver.pk, taker.pk, when, giver.pk]))
    return row[0]


def test_the_holder_hands_the_bag_on_and_the_chain_grows(app_db, issued_bag, clinical, courier):  # noqa: F811
    first = hand_off(app_db, issued_bag, clinical, courier)
    second = hand_off(app_db, issued_bag, courier, clinical, kind="receive")
    assert second > first
    assert CustodyEvent.objects.filter(dose_unit=issued_bag).count() == 3


def test_only_the_holder_hands_the_bag_off(app_db, issued_bag, qa, courier):  # noqa: F811
    # clinical1 received the issue: qa1, who gave it, holds it no more; courier1 never did.
    for giver, taker in ((qa, courier), (courier, qa)):
        with pytest.raises(errors.RaiseException, match="only its holder"):
            hand_off(app_db, issued_bag, giver, taker)
    assert CustodyEvent.objects.filter(dose_unit=issued_bag).count() == 1


def test_a_hand_off_before_the_previous_one_is_refused(app_db, issued_bag, clinical, courier):  # noqa: F811
    with pytest.raises(errors.RaiseException, match="cannot be before the previous one"):
        hand_off(app_db, issued_bag, clinical, courier, when=timezone.now() - timedelta(days=1))


def test_a_bag_changes_hands_between_two_people(app_db, issued_bag, clinical):  # noqa: F811
    with pytest.raises(errors.CheckViolation, match="custody_bag_two_parties"):
        hand_off(app_db, issued_bag, clinical, clinical)


def test_the_issue_comes_first_and_once(app_db, issued_bag, clinical, courier, qa):  # noqa: F811
    with pytest.raises(errors.RaiseException, match="was issued already"):
        hand_off(app_db, issued_bag, clinical, courier, kind="issue")
    other = DoseUnit.objects.get(batch=issued_bag.batch, division="B0")
    DoseUnit.objects.filter(pk=other.pk).update(status="issued")  # as if, with no hand-off
    with pytest.raises(errors.RaiseException, match="its first hand-off is its issue"):
        hand_off(app_db, other, qa, courier)


@pytest.mark.parametrize("status", ["infused", "recalled", "assigned"])
def test_only_an_issued_bag_is_handed_off(app_db, issued_bag, clinical, courier, status):  # noqa: F811
    DoseUnit.objects.filter(pk=issued_bag.pk).update(status=status)
    with pytest.raises(errors.RaiseException, match=f"is {status}: only an issued bag"):
        hand_off(app_db, issued_bag, clinical, courier)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE batches_custodyevent SET released_by_id = received_by_id WHERE dose_unit_id = %s",
        "UPDATE batches_custodyevent SET occurred_at = now() WHERE dose_unit_id = %s",
        "DELETE FROM batches_custodyevent WHERE dose_unit_id = %s",
    ],
    ids=["giver", "time", "delete"],
)
def test_a_signed_hand_off_is_not_changed_or_removed(app_db, issued_bag, statement):  # noqa: F811
    before = list(CustodyEvent.objects.filter(dose_unit=issued_bag).values())
    with pytest.raises(errors.RaiseException, match="bag_hand_offs_are_final|Cannot"):
        app_db((statement, [issued_bag.pk]))
    assert list(CustodyEvent.objects.filter(dose_unit=issued_bag).values()) == before


def app_connection():
    settings = connection.settings_dict
    return psycopg2.connect(
        host="127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=APP_ROLE,
        password=APP_PASSWORD,
    )


def test_two_raw_hand_offs_of_one_bag_at_once_give_one(app_db, issued_bag, clinical, courier, qa):  # noqa: F811
    """No lock taken by the caller: the database's own lock on the bag makes the second wait
    for the first, then see it (its giver no longer holds the bag)."""
    first, second = app_connection(), app_connection()
    outcome = []

    def the_second():
        try:
            with second, second.cursor() as cursor:
                cursor.execute(
                    INSERT, [issued_bag.pk, "ship", clinical.pk, qa.pk, timezone.now(), clinical.pk]
                )
            outcome.append("written")
        except errors.RaiseException as exc:
            outcome.append(str(exc))

    try:
        with first, first.cursor() as cursor:
            cursor.execute(
                INSERT,
                [issued_bag.pk, "ship", clinical.pk, courier.pk, timezone.now(), clinical.pk],
            )
            waiting = threading.Thread(target=the_second)
            waiting.start()
            waiting.join(timeout=1)
            assert waiting.is_alive(), "the second hand-off waits for the first"
        waiting.join(timeout=10)
    finally:
        first.close()
        second.close()
    (refusal,) = outcome
    assert "only its holder" in refusal
    assert CustodyEvent.objects.filter(dose_unit=issued_bag).count() == 2
