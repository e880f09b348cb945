"""Several QC results reviewed in one sitting under one e-signature (`qc_results_review`):
each its own review, signature row and trail row; one refused, none recorded."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from carnk_mfg.models import SignatureFailure, SignatureMeaning
from carnk_mfg.signatures import signatures_for, signing_sitting
from qc.models import QcTest, QcTestDefinition
from qc.services import results
from tests.factories import PASSWORD
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def resulted_test(batch, code, value, analyst, *, due_in_hours):
    definition = QcTestDefinition.objects.get(spec_set__status="approved", code=code)
    at = timezone.now() - timedelta(hours=1)
    test = QcTest.objects.create(
        batch=batch,
        definition=definition,
        triggered_at=at,
        sample_due_at=at,
        due_at=timezone.now() + timedelta(hours=due_in_hours),
    )
    return results.qc_result_enter(actor=analyst, test=test, value=value)


@pytest.fixture
def three_results(running_batch, approved_spec_set, qc_analyst):
    return [
        resulted_test(running_batch, "endotoxin", "1.0", qc_analyst, due_in_hours=3),
        resulted_test(running_batch, "identity_nk", "85", qc_analyst, due_in_hours=1),
        resulted_test(running_batch, "mycoplasma", "negative", qc_analyst, due_in_hours=2),
    ]


def test_several_results_reviewed_each_with_its_own_signature_and_trail_row(
    three_results, other_analyst
):
    done = results.qc_results_review(actor=other_analyst, password=PASSWORD, tests=three_results)
    assert [t.definition.code for t in done] == ["identity_nk", "mycoplasma", "endotoxin"]
    signatures = list(signatures_for(*three_results))
    assert len(signatures) == 3
    assert {s.object_id for s in signatures} == {str(t.pk) for t in three_results}
    assert {(s.meaning, s.attests, s.signer_id) for s in signatures} == {
        ("reviewed", "qc_result", other_analyst.pk)
    }
    for test in three_results:
        test.refresh_from_db()
        assert (test.state, test.reviewed_by) == ("reviewed", other_analyst)
        assert_trailed(test, actor=other_analyst, reason="QC result reviewed", label="update")
    assert not SignatureFailure.objects.exists()


def test_one_refused_none_recorded_and_the_refusal_names_it(
    three_results, other_analyst, running_batch
):
    own = resulted_test(running_batch, "viability", "90", other_analyst, due_in_hours=2)
    with unchanged(*three_results, own), pytest.raises(ValidationError) as refused:
        results.qc_results_review(
            actor=other_analyst, password=PASSWORD, tests=[*three_results, own]
        )
    assert refused.value.message_dict == {
        "tests": ["Viability: The reviewer must be a different person from the analyst."]
    }


def test_a_refusal_inside_the_sitting_rolls_back_the_reviews_before_it(
    three_results, other_analyst, running_batch
):
    """The rule that refuses (a test not resulted) is the single review's, met under the
    lock; the reviews already written in the sitting go with it."""
    first, *_ = three_results
    planned = QcTest.objects.create(
        batch=running_batch,
        definition=first.definition,
        triggered_at=first.triggered_at,
        sample_due_at=first.sample_due_at,
        due_at=first.due_at,
    )
    with unchanged(first, planned), pytest.raises(ValidationError, match="resulted test"):
        with signing_sitting(
            actor=other_analyst,
            password=PASSWORD,
            permission="qc.review_qc_result",
            meaning=SignatureMeaning.REVIEWED,
            label="two QC results",
        ):
            results.qc_result_review(actor=other_analyst, password="", test=first)
            results.qc_result_review(actor=other_analyst, password="", test=planned)


def test_one_wrong_password_is_one_refused_attempt_and_nothing_reviewed(
    three_results, other_analyst
):
    with unchanged(*three_results, signing_failures=1), pytest.raises(ValidationError) as exc:
        results.qc_results_review(actor=other_analyst, password="wrong", tests=three_results)
    assert "password" in exc.value.message_dict


def test_only_a_reviewer_may_and_at_least_one_is_chosen(three_results, technician, other_analyst):
    with unchanged(*three_results), pytest.raises(PermissionDenied):
        results.qc_results_review(actor=technician, password=PASSWORD, tests=three_results)
    with pytest.raises(ValidationError, match="at least one"):
        results.qc_results_review(actor=other_analyst, password=PASSWORD, tests=[])


def test_the_sitting_spares_the_password_only_for_its_own_signer(
    three_results, other_analyst, other_qa
):
    """Inside one person's sitting, another person's signed write still asks their password."""
    with pytest.raises(ValidationError, match="password"):
        with signing_sitting(
            actor=other_analyst,
            password=PASSWORD,
            permission="qc.review_qc_result",
            meaning=SignatureMeaning.REVIEWED,
            label="QC results",
        ):
            results.qc_result_review(actor=other_qa, password="wrong", test=three_results[0])
    assert not signatures_for(*three_results).exists()
