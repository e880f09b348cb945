"""What each signature attests, seen through the API: the QA batch record review and the
release attest a manifest of the whole batch record (steps with values, counts, QC results
and reviews, deviations and dispositions, bags); a change to any of it shows, while a status
that later work moves on (a bag assigned and issued, a unit allocated) does not."""

from decimal import Decimal

import pytest
from django.utils import timezone

from batches.models import CellCount, DoseUnit, ExecutedStep
from batches.services import bedside, release
from qc.models import QcTest
from tests.batch_steps import formulate, result_all
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def released(api, in_qc_batch, technician, qc_analyst, qa):
    result_all(in_qc_batch, qc_analyst, UserFactory.create(username="qc-b", role="qc_analyst"))
    formulate(in_qc_batch, technician)
    lot = in_qc_batch.lot_number
    client = api.as_user(qa)
    assert (
        client.post(f"/api/v1/batches/{lot}/record-review/", {"password": PASSWORD}).status_code
        == 201
    )
    r = client.post(
        f"/api/v1/batches/{lot}/release/",
        {"decision": "release", "reason": "In spec", "password": PASSWORD},
    )
    assert r.status_code == 200, r.json()
    return in_qc_batch


def signatures(api, user, batch) -> dict:
    rows = api.as_user(user).get(f"/api/v1/batches/{batch.lot_number}/signatures/").json()
    rows = rows["results"]
    return {(row["meaning"], row["attests"]): row for row in rows}


@pytest.mark.clause("21 CFR 11.70")
def test_review_and_release_attest_the_whole_record(api, released, qa):
    found = signatures(api, qa, released)
    assert set(found) == {
        ("performed", "manufacturing_steps"),  # the harvest
        ("performed", "bags"),  # the formulation
        ("reviewed", "batch_record"),
        ("released", "batch_record"),
    }
    assert all(row["intact"] and row["changed_since_signing"] == [] for row in found.values())


def test_bags_moving_on_to_a_patient_raise_no_alarm(api, released, qa, clinical):
    bag = DoseUnit.objects.get(batch=released)
    release.dose_assign(
        actor=clinical, dose_unit=bag, recipient=released.intended_recipient, level_code="DL2"
    )
    bedside.dose_custody(
        actor=clinical,
        dose_unit=bag,
        kind="issue",
        released_by=qa.username,
        released_by_password=PASSWORD,
        received_by=clinical.username,
        received_by_password=PASSWORD,
        from_location="Lab",
        to_location="Ward 7",
        occurred_at=timezone.now(),
    )
    assert all(row["intact"] for row in signatures(api, qa, released).values())


@pytest.mark.clause("21 CFR 11.70")
@pytest.mark.parametrize(
    "change, part, harvest_too",
    [
        ("step", "steps", True),
        ("count", "counts", False),
        ("qc_result", "qc_tests", False),
        ("qc_review", "qc_tests", False),
        ("deviation", "deviations", False),
        ("bag", "bags", False),
    ],
)
def test_a_change_to_what_was_attested_shows(
    api, released, qa, technician, change, part, harvest_too
):
    if change == "step":
        step = ExecutedStep.objects.filter(batch=released).first()
        assert step is not None
        ExecutedStep.objects.filter(pk=step.pk).update(values={**step.values, "notes": "edited"})
    elif change == "count":
        CellCount.objects.create(
            batch=released,
            day=3,
            measured_at=timezone.now(),
            total_cells_per_ml=2e6,
            viable_cells_per_ml=1.8e6,
            viability_pct=Decimal("90"),
            recorded_by=technician,
            recorded_at=timezone.now(),
        )
    elif change == "qc_result":
        QcTest.objects.filter(batch=released, definition__code="endotoxin").update(
            result_numeric=0.5
        )
    elif change == "qc_review":
        QcTest.objects.filter(batch=released, definition__code="viability").update(
            reviewed_by=technician
        )
    elif change == "deviation":
        from batches.models import Deviation

        Deviation.objects.create(
            batch=released,
            kind="other",
            what="Added afterwards",
            why="x",
            impact="y",
            opened_by=technician,
            opened_at=timezone.now(),
        )
    else:
        DoseUnit.objects.filter(batch=released).update(volume_ml=Decimal("39"))
    found = signatures(api, qa, released)
    for key in (("reviewed", "batch_record"), ("released", "batch_record")):
        assert not found[key]["intact"]
        assert part in found[key]["changed_since_signing"]
    assert found[("performed", "manufacturing_steps")]["intact"] is not harvest_too
    assert found[("performed", "bags")]["intact"] is (change != "bag")


def test_the_eligibility_signature_outlives_allocation_and_moves(api, qa, technician):
    from batches.services import donor
    from tests.factories import CordBloodUnitFactory

    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    r = api.as_user(qa).post(
        f"/api/v1/donor-units/{unit.din}/eligibility/",
        {"eligibility": "eligible", "notes": "", "password": PASSWORD},
        format="json",
    )
    assert r.status_code == 200, r.json()
    donor.cord_blood_unit_move(
        actor=technician, unit=unit, freezer="F2", rack="1", box="2", position="3", reason="move"
    )
    donor.cord_blood_unit_allocate(actor=qa, unit=unit, reason="Batch planning")
    (row,) = api.as_user(qa).get(f"/api/v1/donor-units/{unit.din}/signatures/").json()["results"]
    assert row["attests"] == "eligibility" and row["intact"] is True
