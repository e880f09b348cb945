"""The release gate, in one place (batches.selectors.release_readiness) and reached only
through QA's release decision: QC reviewed and in spec (or pending where allowed, as an
explicit conditional release), no open deviation, bags formulated, the batch record reviewed
as it stands, and a releaser who did not make the batch."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches import selectors
from batches.models import ReleaseDecision
from batches.services import batch_record, release
from qc.models import QcTest
from tests.batch_steps import formulate, result_all
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def review(batch, qa):
    return release.batch_record_review(actor=qa, password=PASSWORD, batch=batch)


def decide(batch, qa, *, conditional=False):
    return release.batch_release_decide(
        actor=qa,
        password=PASSWORD,
        batch=batch,
        decision="release",
        reason="Release",
        conditional=conditional,
    )


def refusal(batch, qa, **kwargs) -> str:
    with pytest.raises(ValidationError) as exc:
        decide(batch, qa, **kwargs)
    return " ".join(m for messages in exc.value.message_dict.values() for m in messages)


@pytest.fixture
def reviewer():
    return UserFactory(username="qc-b", role="qc_analyst")


def test_release_with_everything_in_spec(in_qc_batch, qc_analyst, reviewer, technician, qa):
    result_all(in_qc_batch, qc_analyst, reviewer)
    formulate(in_qc_batch, technician)
    review(in_qc_batch, qa)
    assert selectors.release_readiness(in_qc_batch).ready
    assert decide(in_qc_batch, qa).state == "released"
    decision = ReleaseDecision.objects.get(batch=in_qc_batch)
    assert decision.decision == "release" and not decision.conditional
    assert decision.status == "Released"


def test_open_required_test_blocks_release(in_qc_batch, qc_analyst, reviewer, technician, qa):
    result_all(in_qc_batch, qc_analyst, reviewer, skip={"endotoxin"})
    formulate(in_qc_batch, technician)
    review(in_qc_batch, qa)
    assert "Endotoxin is awaiting sample" in refusal(in_qc_batch, qa)
    in_qc_batch.refresh_from_db()
    assert in_qc_batch.state == "in_qc"
    assert not ReleaseDecision.objects.filter(batch=in_qc_batch).exists()


def test_sterility_and_rcr_release_only_as_a_conditional_release(
    in_qc_batch, qc_analyst, reviewer, technician, qa
):
    result_all(in_qc_batch, qc_analyst, reviewer, skip={"sterility", "rcr"})
    formulate(in_qc_batch, technician)
    review(in_qc_batch, qa)
    assert "conditional release" in refusal(in_qc_batch, qa)
    assert decide(in_qc_batch, qa, conditional=True).state == "released"
    decision = ReleaseDecision.objects.get(batch=in_qc_batch)
    assert decision.conditional and decision.closed_at is None
    assert sorted(t.definition.code for t in decision.pending_tests.all()) == ["rcr", "sterility"]


def test_a_resulted_but_unreviewed_pending_test_counts_as_pending_everywhere(
    in_qc_batch, qc_analyst, reviewer, technician, qa
):
    """The gate, the release queue and the CoA read one rule: an in-spec sterility result
    awaiting review is still pending (release only conditionally), not a blocker."""
    from qc.services import results

    result_all(in_qc_batch, qc_analyst, reviewer, skip={"sterility"})
    sterility = QcTest.objects.get(batch=in_qc_batch, definition__code="sterility")
    results.qc_result_enter(actor=qc_analyst, test=sterility, value="negative")
    formulate(in_qc_batch, technician)
    review(in_qc_batch, qa)
    readiness = selectors.release_readiness(in_qc_batch)
    assert readiness.ready and [t.definition.code for t in readiness.pending] == ["sterility"]
    coa = selectors.coa_for(in_qc_batch)
    line = next(x for x in coa.qc_results if x.test_name.startswith("Sterility"))
    assert line.status == "pending"
    assert "conditional release" in refusal(in_qc_batch, qa)
    assert decide(in_qc_batch, qa, conditional=True).state == "released"


def test_out_of_spec_blocks_release_even_after_disposition(
    in_qc_batch, qc_analyst, reviewer, technician, qa
):
    from batches.models import Deviation

    result_all(in_qc_batch, qc_analyst, reviewer, overrides={"endotoxin": "9"})
    deviation = Deviation.objects.get(batch=in_qc_batch, state="open")
    batch_record.deviation_disposition(
        classification="minor",
        root_cause="Assessed by QA",
        actor=qa,
        password=PASSWORD,
        deviation=deviation,
        disposition="accept",
        notes="Investigated; retest ordered",
    )
    formulate(in_qc_batch, technician)
    review(in_qc_batch, qa)
    assert "Endotoxin is out of specification" in refusal(in_qc_batch, qa)


def test_no_release_without_bags_or_record_review(
    in_qc_batch, qc_analyst, reviewer, technician, qa
):
    result_all(in_qc_batch, qc_analyst, reviewer)
    problems = refusal(in_qc_batch, qa)
    assert "not been formulated" in problems and "not been reviewed" in problems


def test_a_record_changed_after_the_review_is_reviewed_again(
    in_qc_batch, qc_analyst, reviewer, technician, qa
):
    """The review attests the whole batch record: a count added afterwards makes it stale."""
    result_all(in_qc_batch, qc_analyst, reviewer)
    formulate(in_qc_batch, technician)
    review(in_qc_batch, qa)
    from batches.models import CellCount

    CellCount.objects.create(
        batch=in_qc_batch,
        day=14,
        measured_at=timezone.now(),
        total_cells_per_ml=2e6,
        viable_cells_per_ml=1.8e6,
        viability_pct=Decimal("90"),
        recorded_by=technician,
        recorded_at=timezone.now(),
    )
    assert "changed after QA's review (counts)" in refusal(in_qc_batch, qa)
    review(in_qc_batch, qa)
    assert decide(in_qc_batch, qa).state == "released"


def test_the_maker_can_neither_review_nor_release(
    in_qc_batch, qc_analyst, reviewer, technician, qa
):
    result_all(in_qc_batch, qc_analyst, reviewer)
    formulate(in_qc_batch, technician)
    technician.groups.add(qa.groups.get())
    maker = type(technician).objects.get(pk=technician.pk)  # fresh permission cache
    with pytest.raises(ValidationError, match="another QA reviewer must review it"):
        review(in_qc_batch, maker)
    review(in_qc_batch, qa)
    assert "another QA reviewer must release it" in refusal(in_qc_batch, maker)
    # The record review and the release may be the same QA person.
    assert decide(in_qc_batch, qa).state == "released"


def test_off_the_shelf_batch_is_released_without_a_recipient(
    in_qc_batch, qc_analyst, reviewer, technician, qa
):
    """The CD3+ per kg limit belongs to a dose, not to the batch: a batch made for nobody in
    particular is released on its CD3+ percentage."""
    from batches.models import Batch

    Batch.objects.filter(pk=in_qc_batch.pk).update(intended_recipient=None)
    in_qc_batch.refresh_from_db()
    result_all(in_qc_batch, qc_analyst, reviewer)
    codes = set(QcTest.objects.filter(batch=in_qc_batch).values_list("definition__code", flat=True))
    assert "cd3_pct" in codes and "cd3_per_kg" not in codes
    formulate(in_qc_batch, technician)
    review(in_qc_batch, qa)
    assert decide(in_qc_batch, qa).state == "released"
