"""Release under concurrency: twenty simultaneous release decisions give one release. The
rules of formulation, review, release and dose are proven in tests/services/test_release.py."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from batches.models import Batch
from batches.services import release
from tests.batch_steps import result_all
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def formulate(batch, technician, volumes=("40", "40")):
    return release.dose_units_formulate(
        actor=technician,
        password=PASSWORD,
        batch=batch,
        bags=[
            {
                "division": f"{chr(65 + i)}0",
                "presentation": "cryopreserved",
                "volume_ml": Decimal(v),
            }
            for i, v in enumerate(volumes)
        ],
    )


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_releases_give_one_release(
    technician, qc_analyst, qa, approved_template, lots, request
):
    from qc.models import QcSpecSet
    from qc.services.specs import qc_spec_set_approve

    qc_spec_set_approve(actor=qa, password=PASSWORD, spec_set=QcSpecSet.objects.get(version=1))
    batch = request.getfixturevalue("in_qc_batch")
    result_all(batch, qc_analyst, UserFactory.create(username="qc-b", role="qc_analyst"))
    formulate(batch, technician)
    release.batch_record_review(actor=qa, password=PASSWORD, batch=batch)
    barrier = threading.Barrier(20)
    outcomes = []

    def attempt():
        barrier.wait()
        try:
            release.batch_release_decide(
                actor=qa,
                password=PASSWORD,
                batch=Batch.objects.get(pk=batch.pk),
                decision="release",
                reason="go",
            )
            outcomes.append("released")
        except Exception as exc:  # noqa: BLE001 - the losers' refusal is what is counted
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("released") == 1, outcomes
    assert set(outcomes) - {"released"} <= {"TransitionConflict", "ValidationError"}
    assert Batch.objects.get(pk=batch.pk).state == "released"
    from carnk_mfg.models import ElectronicSignature

    assert ElectronicSignature.objects.filter(meaning="released").count() == 1
