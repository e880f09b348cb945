"""Formulation, batch record review, release or rejection, and dose at a level."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from batches.models import Batch, DoseUnit, ProtocolDoseLevel
from batches.services import release
from tests.batch_steps import result_all
from tests.factories import PASSWORD, UserFactory, WeightMeasurementFactory

pytestmark = pytest.mark.django_db
# harvest record: 3e7 cells/mL, 55 % CAR+, 0.2 % CD3+, 100 mL


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
        expires_at=timezone.now() + timedelta(days=180),
    )


@pytest.fixture
def releasable(in_qc_batch, technician, qc_analyst, qa):
    result_all(in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    formulate(in_qc_batch, technician)
    release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
    return in_qc_batch


def test_formulation_takes_the_harvest_record(in_qc_batch, technician):
    bags = formulate(in_qc_batch, technician)
    assert [b.division for b in bags] == ["A0", "B0"]
    assert bags[0].car_nk_cells == pytest.approx(3e7 * 0.55 * 40)
    assert bags[0].status == "quarantined"


def test_formulation_cannot_exceed_the_harvest_volume(in_qc_batch, technician):
    with pytest.raises(ValidationError) as exc:
        formulate(in_qc_batch, technician, volumes=("60", "60"))
    assert "harvest recorded 100 mL" in exc.value.message_dict["bags"][0]
    assert DoseUnit.objects.count() == 0


def test_release_needs_the_record_review(in_qc_batch, technician, qc_analyst, qa):
    result_all(in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    formulate(in_qc_batch, technician)
    with pytest.raises(ValidationError) as exc:
        release.batch_release_decide(
            actor=qa, password=PASSWORD, batch=in_qc_batch, decision="release", reason="ok"
        )
    assert "not been reviewed" in exc.value.message_dict["decision"][0]


def test_the_maker_cannot_review(in_qc_batch, technician, qa):
    technician.groups.add(qa.groups.get())
    maker = type(technician).objects.get(pk=technician.pk)
    with pytest.raises(ValidationError):
        release.batch_record_review(actor=maker, password=PASSWORD, batch=in_qc_batch)


def test_release_then_bags_released(releasable, qa):
    batch = release.batch_release_decide(
        actor=qa, password=PASSWORD, batch=releasable, decision="release", reason="All in spec"
    )
    assert batch.state == "released"
    assert set(DoseUnit.objects.values_list("status", flat=True)) == {"released"}


def test_rejection_quarantines_the_bags(releasable, qa):
    batch = release.batch_release_decide(
        actor=qa, password=PASSWORD, batch=releasable, decision="reject", reason="Sterility doubt"
    )
    assert batch.state == "rejected"
    assert set(DoseUnit.objects.values_list("status", flat=True)) == {"rejected"}


@pytest.fixture
def released_bag(releasable, qa):
    release.batch_release_decide(
        actor=qa, password=PASSWORD, batch=releasable, decision="release", reason="ok"
    )
    return DoseUnit.objects.get(division="A0")


def recipient_at(level, kg="72.5", days_ago=1, *, bag=None):
    """The recipient the bag's batch was made for (or a new one), at `level`, weighing `kg`
    measured `days_ago`."""
    from batches.models import Recipient, WeightMeasurement
    from tests.factories import RecipientFactory

    if bag is not None:
        r = bag.batch.intended_recipient
        Recipient.objects.filter(pk=r.pk).update(dose_level=level)
        WeightMeasurement.objects.filter(recipient=r).delete()
        r.refresh_from_db()
    else:
        r = RecipientFactory(dose_level=level, weight=None)
    WeightMeasurementFactory(
        recipient=r,
        weight_kg=Decimal(kg),
        measured_on=timezone.localdate() - timedelta(days=days_ago),
    )
    return r


def test_dose_arithmetic_and_assignment(released_bag, clinical):
    r = recipient_at("DL2", bag=released_bag)
    calc = release.dose_calculate(
        recipient=r, dose_unit=released_bag, level=ProtocolDoseLevel.objects.get(code="DL2")
    )
    assert calc.refusals == []
    assert calc.dose_car_nk_cells == pytest.approx(1e6 * 72.5)
    assert calc.volume_ml == pytest.approx(72.5e6 / (3e7 * 0.55))
    assert "Dose = 1e+06 CAR-NK cells/kg x 72.5 kg" in calc.arithmetic[0]
    bag = release.dose_assign(actor=clinical, dose_unit=released_bag, recipient=r, level_code="DL2")
    assert bag.status == "assigned" and bag.dose_volume_ml == Decimal("4.39")


def test_dose_refused_when_the_bag_cannot_supply(released_bag, clinical):
    r = recipient_at(
        "DL3", kg="120", bag=released_bag
    )  # 1.2e9 CAR-NK cells needs 72.7 mL; the bag holds 40
    with pytest.raises(ValidationError) as exc:
        release.dose_assign(actor=clinical, dose_unit=released_bag, recipient=r, level_code="DL3")
    assert "the dose needs" in str(exc.value)


def test_dose_refused_above_the_cd3_limit(released_bag, clinical):
    DoseUnit.objects.filter(pk=released_bag.pk).update(cd3_positive_pct=Decimal("5"))
    released_bag.refresh_from_db()
    r = recipient_at("DL3", kg="50", bag=released_bag)
    with pytest.raises(ValidationError) as exc:
        release.dose_assign(actor=clinical, dose_unit=released_bag, recipient=r, level_code="DL3")
    assert "CD3+ T cells would be" in str(exc.value)


def test_dose_refused_with_an_old_weight(released_bag, clinical):
    r = recipient_at("DL1", days_ago=30, bag=released_bag)
    with pytest.raises(ValidationError) as exc:
        release.dose_assign(actor=clinical, dose_unit=released_bag, recipient=r, level_code="DL1")
    assert "measured 30 days ago" in str(exc.value)


def test_dose_refused_for_a_level_the_recipient_is_not_on(released_bag, clinical):
    r = recipient_at("DL1", bag=released_bag)
    with pytest.raises(ValidationError) as exc:
        release.dose_assign(actor=clinical, dose_unit=released_bag, recipient=r, level_code="DL2")
    assert "is assigned DL1, not DL2" in str(exc.value)


def test_unreleased_bag_cannot_be_assigned(in_qc_batch, technician, clinical):
    bag = formulate(in_qc_batch, technician)[0]
    with pytest.raises(ValidationError) as exc:
        release.dose_assign(
            actor=clinical, dose_unit=bag, recipient=recipient_at("DL1"), level_code="DL1"
        )
    assert "not released" in str(exc.value)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_releases_give_one_release(
    technician, qc_analyst, qa, approved_template, lots, request
):
    from qc.models import QcSpecSet
    from qc.services.specs import qc_spec_set_approve

    qc_spec_set_approve(actor=qa, password=PASSWORD, spec_set=QcSpecSet.objects.get(version=1))
    batch = request.getfixturevalue("in_qc_batch")
    result_all(batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
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


def test_dose_refused_for_a_bag_made_for_someone_else(released_bag, clinical):
    r = recipient_at("DL2")  # a different recipient from the batch's intended one
    with pytest.raises(ValidationError) as exc:
        release.dose_assign(actor=clinical, dose_unit=released_bag, recipient=r, level_code="DL2")
    assert "made for another recipient" in str(exc.value)


def test_conditional_release_stays_open_until_pending_tests_pass(
    in_qc_batch, technician, qc_analyst, qa
):
    from batches.models import ReleaseDecision
    from qc.models import QcTest
    from qc.services import results

    reviewer = UserFactory(username="qc-b", role="qc_analyst")
    result_all(in_qc_batch, qc_analyst, reviewer, skip={"sterility", "rcr"})
    formulate(in_qc_batch, technician)
    release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
    with pytest.raises(ValidationError) as exc:
        release.batch_release_decide(
            actor=qa, password=PASSWORD, batch=in_qc_batch, decision="release", reason="ok"
        )
    assert "Sterility (14-day culture)" in exc.value.message_dict["conditional"][0]
    release.batch_release_decide(
        actor=qa,
        password=PASSWORD,
        batch=in_qc_batch,
        decision="release",
        reason="Conditional: sterility and RCR pending",
        conditional=True,
    )
    decision = ReleaseDecision.objects.get(batch=in_qc_batch)
    assert decision.conditional and decision.closed_at is None
    assert {t.definition.code for t in decision.pending_tests.all()} == {"sterility", "rcr"}
    for test in QcTest.objects.filter(batch=in_qc_batch, definition__code__in=["sterility", "rcr"]):
        results.qc_result_enter(actor=qc_analyst, test=test, value="negative")
        results.qc_result_review(actor=reviewer, password=PASSWORD, test=test)
    decision.refresh_from_db()
    assert decision.closed_at is not None
