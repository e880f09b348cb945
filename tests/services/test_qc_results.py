"""Sampling, results and their evaluation, second-person review, retests
(qc/services/results.py), called directly."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from batches.models import Batch, Deviation, Recall, ReleaseDecision
from batches.services import release
from carnk_mfg.signatures import signatures_for
from qc.models import QcAlert, QcTest, QcTestDefinition
from qc.services import results
from tests.batch_steps import formulate, result_all
from tests.factories import PASSWORD
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


def a_test(batch, code="endotoxin", triggered=timedelta(hours=-1)):
    """A test of the approved panel on `batch`, triggered (and due for sampling) `triggered`
    from now."""
    definition = QcTestDefinition.objects.get(spec_set__status="approved", code=code)
    at = timezone.now() + triggered
    return QcTest.objects.create(
        batch=batch, definition=definition, triggered_at=at, sample_due_at=at, due_at=at
    )


@pytest.fixture
def endotoxin(running_batch, approved_spec_set):
    return a_test(running_batch)


@pytest.fixture
def resulted(endotoxin, qc_analyst):
    return results.qc_result_enter(actor=qc_analyst, test=endotoxin, value="1.0", unit="EU/mL")


# --- evaluation: the one rule ---


def definition(**fields):
    base = {"name": "Endotoxin", "result_type": "numeric", "unit": "EU/mL"}
    return QcTestDefinition(**{**base, **fields})


@pytest.mark.parametrize(
    "limits, value, in_spec",
    [
        ({"lower_limit": 70, "lower_strict": True}, "70", False),
        ({"lower_limit": 70, "lower_strict": True}, "70.1", True),
        ({"lower_limit": 15}, "15", True),
        ({"upper_limit": 5.0, "upper_strict": True}, "5", False),
        ({"upper_limit": 5.0, "upper_strict": True}, "4.99", True),
        ({"upper_limit": 5}, "5", True),
        ({"lower_limit": 1, "upper_limit": 2}, "2.5", False),
    ],
)
def test_evaluate_numeric_limits(limits, value, in_spec):
    number, text, ok, explanation = results.evaluate(definition(**limits), value=value, unit="")
    assert (number, text, ok) == (float(value), "", in_spec)
    assert explanation.endswith("in spec" if in_spec else "OUT OF SPEC")


def test_evaluate_takes_either_micro_sign():
    found = results.evaluate(definition(unit="\u00b5g/mL"), value="1", unit="\u03bcg/mL")
    assert found[2] is True


@pytest.mark.parametrize(
    "value, unit, field",
    [
        ("", "", "value"),
        (True, "", "value"),
        ("lots", "", "value"),
        ("inf", "", "value"),
        ("1", "furlongs", "unit"),
    ],
)
def test_evaluate_refuses_a_malformed_number(value, unit, field):
    with pytest.raises(ValidationError) as exc:
        results.evaluate(definition(), value=value, unit=unit)
    assert field in exc.value.message_dict


def test_evaluate_pass_fail():
    sterility = definition(
        name="Sterility",
        result_type="pass_fail",
        unit="",
        allowed_values=["negative", "positive"],
        passing_values=["negative"],
    )
    assert results.evaluate(sterility, value=" Negative ", unit="")[:3] == (None, "negative", True)
    assert results.evaluate(sterility, value="positive", unit="")[2] is False
    with pytest.raises(ValidationError, match="one of: negative, positive"):
        results.evaluate(sterility, value="maybe", unit="")


# --- sampling ---


def test_sample_record(endotoxin, technician):
    sampled_at = timezone.now() - timedelta(minutes=10)
    results.qc_sample_record(actor=technician, test=endotoxin, sampled_at=sampled_at)
    endotoxin.refresh_from_db()
    assert (endotoxin.state, endotoxin.sampled_at, endotoxin.sampled_by) == (
        "sampled",
        sampled_at,
        technician,
    )
    assert_trailed(endotoxin, actor=technician, reason="QC sample taken", label="update")


@pytest.mark.parametrize(
    "sampled_at", [timedelta(hours=-3), timedelta(hours=2)], ids=["before-trigger", "future"]
)
def test_sample_record_refuses_a_time(endotoxin, technician, sampled_at):
    with unchanged(endotoxin), pytest.raises(ValidationError) as exc:
        results.qc_sample_record(
            actor=technician, test=endotoxin, sampled_at=timezone.now() + sampled_at
        )
    assert "sampled_at" in exc.value.message_dict


def test_sample_record_refuses_a_test_already_sampled(endotoxin, technician):
    results.qc_sample_record(actor=technician, test=endotoxin)
    with unchanged(endotoxin), pytest.raises(ValidationError, match="The test is sampled"):
        results.qc_sample_record(actor=technician, test=endotoxin)


def test_sample_record_is_the_labs(endotoxin, clinical):
    with unchanged(endotoxin), pytest.raises(PermissionDenied):
        results.qc_sample_record(actor=clinical, test=endotoxin)


# --- results ---


def test_result_enter_in_spec(endotoxin, qc_analyst):
    results.qc_result_enter(actor=qc_analyst, test=endotoxin, value="1.0", unit="EU/mL")
    endotoxin.refresh_from_db()
    assert (endotoxin.state, endotoxin.in_spec, endotoxin.result_numeric) == ("resulted", True, 1.0)
    assert (endotoxin.resulted_by, endotoxin.sampled_by) == (qc_analyst, qc_analyst)
    assert endotoxin.sampled_at == endotoxin.sample_due_at
    reason = f"QC result: {endotoxin.evaluation}"
    assert_trailed(endotoxin, actor=qc_analyst, reason=reason, label="update")


def test_result_out_of_spec_holds_a_batch_in_manufacturing(endotoxin, qc_analyst, running_batch):
    results.qc_result_enter(actor=qc_analyst, test=endotoxin, value="7.2", unit="EU/mL")
    (deviation,) = Deviation.objects.filter(batch=running_batch)
    assert (deviation.kind, deviation.state, deviation.opened_by) == (
        "out_of_spec",
        "open",
        qc_analyst,
    )
    assert Batch.objects.get(pk=running_batch.pk).state == "on_hold"


def test_result_out_of_spec_recalls_a_conditionally_released_batch(
    in_qc_batch, qc_analyst, other_analyst, technician, qa
):
    result_all(in_qc_batch, qc_analyst, other_analyst, skip={"sterility", "rcr"})
    formulate(in_qc_batch, technician)
    release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
    release.batch_release_decide(
        actor=qa,
        password=PASSWORD,
        batch=in_qc_batch,
        decision="release",
        reason="c",
        conditional=True,
    )
    sterility = QcTest.objects.get(batch=in_qc_batch, definition__code="sterility")
    results.qc_result_enter(actor=qc_analyst, test=sterility, value="positive")
    recall = Recall.objects.get(batch=in_qc_batch)
    assert recall.qc_test == sterility and "Sterility" in recall.reason
    assert Batch.objects.get(pk=in_qc_batch.pk).state == "recalled"


def test_result_enter_refuses_a_test_not_yet_due(running_batch, approved_spec_set, qc_analyst):
    early = a_test(running_batch, triggered=timedelta(hours=2))
    with unchanged(early), pytest.raises(ValidationError, match="not due for sampling"):
        results.qc_result_enter(actor=qc_analyst, test=early, value="1", unit="EU/mL")


def test_result_enter_refuses_a_time_before_the_trigger(endotoxin, qc_analyst):
    with unchanged(endotoxin), pytest.raises(ValidationError) as exc:
        results.qc_result_enter(
            actor=qc_analyst,
            test=endotoxin,
            value="1",
            unit="EU/mL",
            resulted_at=timezone.now() - timedelta(days=1),
        )
    assert "resulted_at" in exc.value.message_dict


def test_result_enter_refuses_a_malformed_value(endotoxin, qc_analyst):
    with unchanged(endotoxin), pytest.raises(ValidationError) as exc:
        results.qc_result_enter(actor=qc_analyst, test=endotoxin, value="1", unit="mg")
    assert "unit" in exc.value.message_dict


def test_result_enter_refuses_a_second_result(resulted, qc_analyst):
    with unchanged(resulted), pytest.raises(ValidationError, match="enter a retest"):
        results.qc_result_enter(actor=qc_analyst, test=resulted, value="2", unit="EU/mL")


def test_result_enter_is_qcs(endotoxin, technician):
    with unchanged(endotoxin), pytest.raises(PermissionDenied):
        results.qc_result_enter(actor=technician, test=endotoxin, value="1", unit="EU/mL")


# --- review (signed) ---


def review(actor, test, password=PASSWORD):
    return results.qc_result_review(actor=actor, password=password, test=test)


def test_review_signs_and_clears_the_alerts(resulted, other_analyst):
    alert = QcAlert.objects.create(test=resulted, kind="overdue", raised_at=timezone.now())
    review(other_analyst, resulted)
    resulted.refresh_from_db()
    assert (resulted.state, resulted.reviewed_by) == ("reviewed", other_analyst)
    assert QcAlert.objects.get(pk=alert.pk).cleared_at is not None
    (signature,) = signatures_for(resulted)
    assert (signature.meaning, signature.attests) == ("reviewed", "qc_result")
    assert_trailed(resulted, actor=other_analyst, reason="QC result reviewed", label="update")


def test_review_of_the_last_pending_test_closes_a_conditional_release(
    in_qc_batch, qc_analyst, other_analyst, technician, qa
):
    result_all(in_qc_batch, qc_analyst, other_analyst, skip={"sterility"})
    formulate(in_qc_batch, technician)
    release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
    release.batch_release_decide(
        actor=qa,
        password=PASSWORD,
        batch=in_qc_batch,
        decision="release",
        reason="c",
        conditional=True,
    )
    sterility = QcTest.objects.get(batch=in_qc_batch, definition__code="sterility")
    results.qc_result_enter(actor=qc_analyst, test=sterility, value="negative")
    assert ReleaseDecision.objects.get(batch=in_qc_batch).closed_at is None
    review(other_analyst, sterility)
    assert ReleaseDecision.objects.get(batch=in_qc_batch).closed_at is not None


def test_review_refuses_a_test_not_resulted(endotoxin, other_analyst):
    with unchanged(endotoxin), pytest.raises(ValidationError, match="Only a resulted test"):
        review(other_analyst, endotoxin)


def test_review_is_by_another_person(resulted, qc_analyst):
    with unchanged(resulted), pytest.raises(ValidationError, match="different person"):
        review(qc_analyst, resulted)


def test_review_needs_the_permission(resulted, technician):
    with unchanged(resulted), pytest.raises(PermissionDenied):
        review(technician, resulted)


def test_review_refuses_a_wrong_password(resulted, other_analyst):
    with unchanged(resulted, signing_failures=1), pytest.raises(ValidationError) as exc:
        review(other_analyst, resulted, password="wrong")
    assert "password" in exc.value.message_dict


# --- retests ---


def test_retest_is_a_new_test_linked_to_the_original(resulted, qc_analyst):
    retest = results.qc_retest(actor=qc_analyst, test=resulted, reason="Sample haemolysed")
    retest = QcTest.objects.get(pk=retest.pk)
    assert (retest.retest_of, retest.definition, retest.state) == (
        resulted,
        resulted.definition,
        "planned",
    )
    assert QcTest.objects.get(pk=resulted.pk).result_numeric == 1.0
    assert_trailed(retest, actor=qc_analyst, reason="Retest: Sample haemolysed", label="insert")


def test_retest_needs_a_result(endotoxin, qc_analyst):
    with unchanged(endotoxin), pytest.raises(ValidationError, match="Only a resulted test"):
        results.qc_retest(actor=qc_analyst, test=endotoxin, reason="r")


def test_retest_is_qcs(resulted, qa):
    with unchanged(resulted), pytest.raises(PermissionDenied):
        results.qc_retest(actor=qa, test=resulted, reason="r")


# --- CD3 at release ---


def test_cd3_at_release_is_a_percentage_of_the_product(
    running_batch, approved_spec_set, qc_analyst
):
    """No recipient weight is needed to judge the batch; the per-kg limit is the dose's."""
    test = results.qc_result_enter(
        actor=qc_analyst, test=a_test(running_batch, "cd3_pct"), value="0.4", unit="%"
    )
    assert test.in_spec is True and "at most 1 %" in test.evaluation
    other = results.qc_result_enter(
        actor=qc_analyst, test=a_test(running_batch, "cd3_pct"), value="1.5", unit="%"
    )
    assert other.in_spec is False
