"""Two hand-offs of one bag at the same moment, on real connections: exactly one is written,
and the bag's hand-offs stay one chain. The rules of a single hand-off are proven in
tests/services/test_bedside.py; the database's own hold on the chain in
tests/db/test_bag_custody_chain.py."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from batches.models import CustodyEvent
from batches.services import bedside
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*hand_offs):
    """Run each hand-off (the keyword arguments of dose_custody) in its own thread, all
    released together; the outcome of each, in order."""
    barrier = threading.Barrier(len(hand_offs))
    outcomes: list[object] = [None] * len(hand_offs)

    def attempt(i, args):
        barrier.wait()
        try:
            bedside.dose_custody(**args)
            outcomes[i] = "written"
        except ValidationError as exc:
            outcomes[i] = exc.message_dict
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=item) for item in enumerate(hand_offs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def ship(bag, actor, giver, taker):
    return {
        "actor": actor,
        "dose_unit": bag,
        "kind": "ship",
        "released_by": giver.username,
        "released_by_password": PASSWORD,
        "received_by": taker.username,
        "received_by_password": PASSWORD,
        "from_location": "Ward 7",
        "to_location": "Courier",
        "occurred_at": timezone.now(),
        "temperature_c": Decimal("-150"),
    }


def chain(bag):
    return list(
        CustodyEvent.objects.filter(dose_unit=bag)
        .order_by("id")
        .values_list("kind", "released_by__username", "received_by__username")
    )


def test_two_couriers_taking_one_bag_from_its_holder_at_once_one_gets_it(
    issued_bag, clinical, courier
):
    other = UserFactory.create(username="courier2", role="courier")
    outcomes = at_once(
        ship(issued_bag, courier, clinical, courier), ship(issued_bag, other, clinical, other)
    )
    assert outcomes.count("written") == 1, outcomes
    (refusal,) = [o for o in outcomes if o != "written"]
    assert "holds the bag" in refusal["released_by"][0]
    winner = courier if outcomes[0] == "written" else other
    assert chain(issued_bag) == [
        ("issue", "qa1", "clinical1"),
        ("ship", "clinical1", winner.username),
    ]


def test_the_same_hand_off_posted_twice_at_once_is_written_once(issued_bag, clinical, courier):
    same = ship(issued_bag, courier, clinical, courier)
    outcomes = at_once(same, dict(same))
    assert outcomes.count("written") == 1, outcomes
    assert chain(issued_bag) == [("issue", "qa1", "clinical1"), ("ship", "clinical1", "courier1")]
