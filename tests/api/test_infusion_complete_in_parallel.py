"""Two completions of one infusion posted at the same moment, on real connections: one is
taken, the other is a clean 400 (never a 500), and the infusion is completed once, with one
completion signature."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from batches.models import Infusion
from batches.services import bedside
from carnk_mfg.signatures import signatures_for
from tests.batch_steps import bedside_scans
from tests.conftest import TokenClient
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def started(issued_bag, clinical):
    check = bedside.bedside_verify(actor=clinical, **bedside_scans(issued_bag))
    return bedside.infusion_start(
        actor=clinical, password=PASSWORD, check=check, started_at=check.checked_at
    )


def test_two_completions_at_once_one_is_taken(started, clinical):
    url = f"/api/v1/infusions/{started.pk}/complete/"
    clients = [TokenClient().as_user(clinical) for _ in range(2)]
    barrier = threading.Barrier(2)
    answers = []

    def post(client, volume):
        barrier.wait()
        try:
            response = client.post(
                url,
                {"ended_at": timezone.now().isoformat(), "volume_ml": volume, "password": PASSWORD},
                format="json",
            )
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=post, args=(client, volume))
        for client, volume in zip(clients, ("4.4", "4.6"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(status for status, _ in answers) == [200, 400], answers
    ((_, taken),) = [a for a in answers if a[0] == 200]
    ((_, refused),) = [a for a in answers if a[0] == 400]
    assert "completed at" in str(refused["infusion"])
    done = Infusion.objects.get(pk=started.pk)
    assert str(done.volume_ml) == taken["volume_ml"]
    assert [s.attests for s in signatures_for(done).order_by("id")] == ["infusion_start", "record"]
