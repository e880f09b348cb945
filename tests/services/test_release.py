"""Formulation, batch record review, release decision, recall and dose assignment
(batches/services/release.py), called directly."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from batches.models import (
    Batch,
    DoseUnit,
    LookbackEntry,
    ProtocolDoseLevel,
    Recall,
    ReleaseDecision,
)
from batches.services import release
from batches.services.lifecycle import lock_batch
from carnk_mfg.errors import Conflict
from carnk_mfg.signatures import signatures_for
from qc.models import Notification, QcTest
from tests.batch_steps import formulate, result_all
from tests.factories import PASSWORD, RecipientFactory
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db
# The harvest record of the default payloads: 3e7 cells/mL, 55 % CAR+, 0.2 % CD3+, 100 mL.


@pytest.fixture
def formulated(in_qc_batch, technician, qc_analyst, other_analyst):
    """Every release test reviewed in spec, bags A0 and B0 filled; the record not reviewed."""
    result_all(in_qc_batch, qc_analyst, other_analyst)
    formulate(in_qc_batch, technician, ("A0", "B0"))
    return in_qc_batch


@pytest.fixture
def releasable(formulated, qa):
    release.batch_record_review(actor=qa, password=PASSWORD, batch=formulated)
    return formulated


def bags_of(batch):
    return dict(DoseUnit.objects.filter(batch=batch).values_list("division", "status"))


# --- formulation (signed) ---


def fill(actor, batch, bags=None, password=PASSWORD):
    bags = bags or [{"division": "A0", "presentation": "fresh", "volume_ml": Decimal("40")}]
    return release.dose_units_formulate(actor=actor, password=password, batch=batch, bags=bags)


def test_formulate_fills_bags_from_the_harvest_record_signed(in_qc_batch, technician):
    (bag,) = fill(technician, in_qc_batch)
    bag = DoseUnit.objects.get(pk=bag.pk)
    assert (bag.division, bag.status, bag.volume_ml) == ("A0", "quarantined", Decimal("40"))
    assert (bag.total_cells_per_ml, bag.car_positive_pct) == (3e7, Decimal("55"))
    (signature,) = signatures_for(in_qc_batch).filter(attests="bags")
    assert (signature.meaning, signature.signer) == ("performed", technician)
    reason = f"Batch {in_qc_batch.lot_number} formulated into 1 bag(s)"
    assert_trailed(bag, actor=technician, reason=reason, label="insert")


def bag(division="A0", presentation="fresh", volume="40"):
    return {"division": division, "presentation": presentation, "volume_ml": Decimal(volume)}


@pytest.mark.parametrize(
    "bags, field",
    [
        ([bag("0A")], "bags.0.division"),
        ([bag(), bag()], "bags.1.division"),
        ([bag(presentation="frozen")], "bags.0.presentation"),
        ([bag(volume="0")], "bags.0.volume_ml"),
        ([bag("A0", volume="60"), bag("B0", volume="60")], "bags"),
    ],
    ids=["division", "twice", "presentation", "volume", "over-harvest"],
)
def test_formulate_refuses_wrong_bags(in_qc_batch, technician, bags, field):
    with unchanged(in_qc_batch), pytest.raises(ValidationError) as exc:
        fill(technician, in_qc_batch, bags)
    assert field in exc.value.message_dict


def test_formulate_needs_a_formulation_state(steps_done_batch, technician):
    with unchanged(steps_done_batch), pytest.raises(ValidationError, match="cannot be formulated"):
        fill(technician, steps_done_batch)


def test_formulate_refuses_a_batch_without_harvest(running_batch, technician):
    with unchanged(running_batch), pytest.raises(ValidationError, match="no recorded harvest"):
        fill(technician, running_batch)


def test_formulate_refuses_a_division_already_filled(in_qc_batch, technician):
    fill(technician, in_qc_batch)
    with unchanged(in_qc_batch), pytest.raises(ValidationError, match="A0 already exist"):
        fill(technician, in_qc_batch)


def test_formulate_is_the_technicians(in_qc_batch, qa):
    with unchanged(in_qc_batch), pytest.raises(PermissionDenied):
        fill(qa, in_qc_batch)


def test_formulate_refuses_a_wrong_password(in_qc_batch, technician):
    with unchanged(in_qc_batch, signing_failures=1), pytest.raises(ValidationError) as exc:
        fill(technician, in_qc_batch, password="wrong")
    assert "password" in exc.value.message_dict


# --- batch record review (signed) ---


def test_record_review_signs_the_batch_record(formulated, qa):
    """The review writes nothing but its signature, trailed with who and why."""
    signature = release.batch_record_review(actor=qa, password=PASSWORD, batch=formulated)
    assert_trailed(signature, actor=qa, reason=signature.record_label, label="insert")
    assert (signature.meaning, signature.attests, signature.signer) == (
        "reviewed",
        "batch_record",
        qa,
    )
    assert signature.record_label == f"Batch record review: batch {formulated.lot_number}"
    assert list(signatures_for(formulated).filter(meaning="reviewed")) == [signature]


def test_record_review_waits_for_qc(running_batch, qa):
    with unchanged(running_batch), pytest.raises(ValidationError, match="while the batch is in QC"):
        release.batch_record_review(actor=qa, password=PASSWORD, batch=running_batch)


@pytest.mark.clause("DESIGN 8 Segregation of duties")
def test_record_review_is_not_the_makers(formulated, technician, qa):
    """Four eyes: a QA reviewer who performed a step may not review the record."""
    technician.groups.add(qa.groups.get())
    maker = type(technician).objects.get(pk=technician.pk)
    with unchanged(formulated), pytest.raises(ValidationError, match="performed steps"):
        release.batch_record_review(actor=maker, password=PASSWORD, batch=formulated)


def test_record_review_is_qas(formulated, qc_analyst):
    with unchanged(formulated), pytest.raises(PermissionDenied):
        release.batch_record_review(actor=qc_analyst, password=PASSWORD, batch=formulated)


def test_record_review_refuses_a_wrong_password(formulated, qa):
    with unchanged(formulated, signing_failures=1), pytest.raises(ValidationError):
        release.batch_record_review(actor=qa, password="wrong", batch=formulated)


# --- release decision (signed) ---


def decide(actor, batch, decision="release", reason="All in spec", password=PASSWORD, **extra):
    return release.batch_release_decide(
        actor=actor, password=password, batch=batch, decision=decision, reason=reason, **extra
    )


@pytest.mark.parametrize(
    "decision, state, meaning",
    [("release", "released", "released"), ("reject", "rejected", "rejected")],
)
def test_decision_moves_the_batch_and_its_bags(releasable, qa, decision, state, meaning):
    decide(qa, releasable, decision)
    batch = Batch.objects.get(pk=releasable.pk)
    assert batch.state == state
    assert set(bags_of(batch).values()) == {state}
    record = ReleaseDecision.objects.get(batch=batch)
    assert (record.decision, record.decided_by, record.conditional) == (decision, qa, False)
    assert record.closed_at is not None
    assert signatures_for(batch).filter(meaning=meaning, attests="batch_record").count() == 1
    assert_trailed(batch, actor=qa, reason="All in spec", label="update")


def test_conditional_release_with_pending_tests(
    in_qc_batch, qc_analyst, other_analyst, qa, technician
):
    result_all(in_qc_batch, qc_analyst, other_analyst, skip={"sterility", "rcr"})
    formulate(in_qc_batch, technician)
    release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
    with unchanged(in_qc_batch), pytest.raises(ValidationError) as exc:
        decide(qa, in_qc_batch)
    assert "conditional" in exc.value.message_dict
    decide(qa, in_qc_batch, conditional=True)
    record = ReleaseDecision.objects.get(batch=in_qc_batch)
    assert record.conditional and record.closed_at is None
    pending = record.pending_tests.values_list("definition__code", flat=True)
    assert sorted(pending) == ["rcr", "sterility"]


@pytest.mark.parametrize(
    "decision, reason, field", [("hold", "r", "decision"), ("release", " ", "reason")]
)
def test_decision_refuses_an_incomplete_decision(releasable, qa, decision, reason, field):
    with unchanged(releasable), pytest.raises(ValidationError) as exc:
        decide(qa, releasable, decision, reason)
    assert field in exc.value.message_dict


def test_decision_refuses_a_batch_not_ready(formulated, qa):
    with unchanged(formulated), pytest.raises(ValidationError, match="not been reviewed by QA"):
        decide(qa, formulated)


def test_decision_refuses_a_batch_not_in_qc(running_batch, qa):
    with unchanged(running_batch), pytest.raises(Conflict, match="not in QC"):
        decide(qa, running_batch, "reject")


@pytest.mark.clause("DESIGN 8 Segregation of duties")
def test_decision_is_not_the_makers(releasable, technician, qa):
    technician.groups.add(qa.groups.get())
    maker = type(technician).objects.get(pk=technician.pk)
    with unchanged(releasable), pytest.raises(ValidationError, match="performed steps"):
        decide(maker, releasable)


def test_decision_is_qas(releasable, qc_analyst):
    with unchanged(releasable), pytest.raises(PermissionDenied):
        decide(qc_analyst, releasable)


def test_decision_refuses_a_wrong_password(releasable, qa):
    with unchanged(releasable, signing_failures=1), pytest.raises(ValidationError):
        decide(qa, releasable, password="wrong")


# --- recall ---


def test_recall_blocks_the_bags_and_tells_qa_and_clinical(released_batch, qa, clinical):
    recall = release.batch_recall(
        actor=qa, password=PASSWORD, batch=released_batch, reason="Supplier recall of IL-2"
    )
    recall = Recall.objects.get(pk=recall.pk)
    assert (recall.reason, recall.raised_by) == ("Supplier recall of IL-2", qa)
    assert Batch.objects.get(pk=released_batch.pk).state == "recalled"
    assert set(bags_of(released_batch).values()) == {"recalled"}
    told = set(Notification.objects.filter(recall=recall).values_list("recipient", flat=True))
    treating = released_batch.intended_recipient.treating_clinician
    assert told == {qa.pk, clinical.pk, treating.pk}
    (signature,) = signatures_for(recall)
    assert signature.meaning == "recalled"
    assert_trailed(recall, actor=qa, reason="Supplier recall of IL-2", label="insert")


def test_recall_needs_a_reason(released_batch, qa):
    with unchanged(released_batch), pytest.raises(ValidationError) as exc:
        release.batch_recall(actor=qa, password=PASSWORD, batch=released_batch, reason=" ")
    assert "reason" in exc.value.message_dict


def test_recall_only_a_released_batch(in_qc_batch, qa):
    with unchanged(in_qc_batch), pytest.raises(ValidationError, match="Only a released batch"):
        release.batch_recall(actor=qa, password=PASSWORD, batch=in_qc_batch, reason="r")


def test_recall_is_qas(released_batch, clinical):
    with unchanged(released_batch), pytest.raises(PermissionDenied):
        release.batch_recall(actor=clinical, password=PASSWORD, batch=released_batch, reason="r")


def test_recall_refuses_a_wrong_password(released_batch, qa):
    with unchanged(released_batch, signing_failures=1), pytest.raises(ValidationError):
        release.batch_recall(actor=qa, password="wrong", batch=released_batch, reason="r")


def test_recall_locked_batch_looks_back_at_infused_bags(infusion, qa):
    """The lookback lists the infused bag and its recipient; the other bag is blocked; the
    release decision is marked failed with the reason; the QC test that caused it is kept."""
    batch = infusion.dose_unit.batch
    sterility = QcTest.objects.get(batch=batch, definition__code="sterility")
    with transaction.atomic():
        recall = release.recall_locked_batch(
            actor=qa, batch=lock_batch(batch), reason="Sterility positive", qc_test=sterility
        )
    (entry,) = LookbackEntry.objects.filter(recall=recall)
    assert (entry.dose_unit, entry.recipient, entry.infused_at) == (
        infusion.dose_unit,
        infusion.recipient,
        infusion.started_at,
    )
    assert bags_of(batch) == {"A0": "infused", "B0": "recalled"}
    decision = ReleaseDecision.objects.get(batch=batch)
    assert decision.failure == "Sterility positive" and decision.failed_at is not None
    assert Recall.objects.get(pk=recall.pk).qc_test == sterility


# --- dose at a level ---


def a_bag(batch, **fields):
    """An unsaved bag of `batch` with the harvest's numbers, released, good for a month."""
    values = {
        "volume_ml": Decimal("40"),
        "total_cells_per_ml": 3e7,
        "car_positive_pct": Decimal("55"),
        "cd3_positive_pct": Decimal("0.2"),
        "expires_at": timezone.now() + timedelta(days=30),
        "status": "released",
        **fields,
    }
    return DoseUnit(batch=batch, division="A0", presentation="fresh", **values)


def level(code):
    return ProtocolDoseLevel.objects.get(code=code)


def test_dose_calculate_shows_its_arithmetic(planned_batch):
    recipient = planned_batch.intended_recipient  # DL2, 72.5 kg weighed today
    calc = release.dose_calculate(
        recipient=recipient, dose_unit=a_bag(planned_batch), level=level("DL2")
    )
    assert calc.refusals == []
    assert calc.dose_car_nk_cells == pytest.approx(72.5e6)
    assert calc.volume_ml == pytest.approx(72.5e6 / (3e7 * 0.55))
    assert calc.cd3_cells_per_kg == pytest.approx(calc.volume_ml * 3e7 * 0.002 / 72.5)
    assert calc.arithmetic[0].startswith("Dose = 1 × 10⁶ CAR-NK cells/kg x 72.5 kg")


@pytest.mark.parametrize(
    "code, bag_fields, weight_days_ago, says",
    [
        ("DL1", {}, 0, "is assigned DL2, not DL1"),
        ("DL2", {}, 20, "measured 20 days ago"),
        ("DL2", {"volume_ml": Decimal("4")}, 0, "the dose needs"),
        ("DL2", {"cd3_positive_pct": Decimal("60")}, 0, "at or above the limit"),
        ("DL2", {"expires_at": timezone.now() - timedelta(hours=1)}, 0, "The bag expired"),
        ("DL2", {"status": "recalled"}, 0, "RECALLED"),
    ],
    ids=["level", "old-weight", "bag-too-small", "cd3", "expired", "recalled"],
)
def test_dose_calculate_lists_every_refusal(planned_batch, code, bag_fields, weight_days_ago, says):
    recipient = planned_batch.intended_recipient
    if weight_days_ago:
        recipient.weights.update(measured_on=timezone.localdate() - timedelta(days=weight_days_ago))
    calc = release.dose_calculate(
        recipient=recipient, dose_unit=a_bag(planned_batch, **bag_fields), level=level(code)
    )
    assert any(says in refusal for refusal in calc.refusals), calc.refusals


def test_dose_calculate_refuses_another_recipient_and_one_never_weighed(planned_batch):
    stranger = RecipientFactory.create(dose_level="DL2", weight=None)
    calc = release.dose_calculate(
        recipient=stranger, dose_unit=a_bag(planned_batch), level=level("DL2")
    )
    assert any("made for another recipient" in r for r in calc.refusals)
    assert any("no recorded body weight" in r for r in calc.refusals)


def test_dose_assign_reserves_the_bag(released_batch, clinical):
    bag = DoseUnit.objects.get(batch=released_batch, division="A0")
    recipient = released_batch.intended_recipient
    release.dose_assign(actor=clinical, dose_unit=bag, recipient=recipient, level_code="DL2")
    bag.refresh_from_db()
    assert bag.dose_level is not None
    assert (bag.status, bag.recipient, bag.dose_level.code) == ("assigned", recipient, "DL2")
    assert bag.dose_volume_ml == Decimal("4.39")
    assert_trailed(bag, actor=clinical, reason="Dose assigned", label="update")


def test_dose_assign_refuses_an_unknown_level(released_batch, clinical):
    bag = DoseUnit.objects.get(batch=released_batch, division="A0")
    with unchanged(bag), pytest.raises(ValidationError) as exc:
        release.dose_assign(
            actor=clinical,
            dose_unit=bag,
            recipient=released_batch.intended_recipient,
            level_code="DL9",
        )
    assert "dose_level" in exc.value.message_dict


def test_dose_assign_refuses_a_bag_not_released(in_qc_batch, technician, clinical):
    (bag,) = fill(technician, in_qc_batch)
    with unchanged(bag), pytest.raises(ValidationError, match="not released"):
        release.dose_assign(
            actor=clinical,
            dose_unit=bag,
            recipient=in_qc_batch.intended_recipient,
            level_code="DL2",
        )


def test_dose_assign_refuses_what_the_calculation_refuses(released_batch, clinical):
    bag = DoseUnit.objects.get(batch=released_batch, division="A0")
    with unchanged(bag), pytest.raises(ValidationError) as exc:
        release.dose_assign(
            actor=clinical,
            dose_unit=bag,
            recipient=released_batch.intended_recipient,
            level_code="DL1",
        )
    assert "is assigned DL2, not DL1" in str(exc.value.message_dict["dose"])


def test_dose_assign_is_clinical(released_batch, technician):
    bag = DoseUnit.objects.get(batch=released_batch, division="A0")
    with unchanged(bag), pytest.raises(PermissionDenied):
        release.dose_assign(
            actor=technician,
            dose_unit=bag,
            recipient=released_batch.intended_recipient,
            level_code="DL2",
        )


# --- formulation: the cells in each bag ---


def test_formulate_counts_the_car_nk_cells_of_each_bag(in_qc_batch, technician):
    bags = fill(technician, in_qc_batch, [bag("A0"), bag("B0")])
    assert [b.division for b in bags] == ["A0", "B0"]
    assert bags[0].car_nk_cells == pytest.approx(3e7 * 0.55 * 40)
    assert bags[0].status == "quarantined"
