"""Sampling, results, automatic evaluation against the spec, second-person review, retests."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from batches.models import Batch, BatchState, DeviationKind, ReleaseDecision
from batches.services.batch_record import open_deviation_locked
from batches.services.lifecycle import lock_batch
from batches.services.release import recall_locked_batch
from carnk_mfg.audit import gmp_write
from carnk_mfg.models import SignatureMeaning
from carnk_mfg.notation import lab_number_text
from carnk_mfg.roles import require_permission
from carnk_mfg.signatures import signed_write, signing_sitting
from carnk_mfg.timeutil import require_happened
from qc.models import QcAlert, QcTest, QcTestDefinition, ResultType, TestState
from qc.selectors.worklist import in_worklist_order
from qc.services.investigations import oos_investigation_open_locked, retest_blocker

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Done = TypeVar("Done")

# What a raw result reads as: (numeric, text, in_spec, explanation).
Evaluation = tuple[float | None, str, bool, str]


def normalize_unit(unit: str) -> str:
    # Instruments write the micro sign two ways (U+00B5 and U+03BC); compare them as one.
    return unit.strip().replace("\u00b5", "u").replace("\u03bc", "u").replace(" ", "").lower()


def _lock_test(test: QcTest) -> QcTest:
    return (
        QcTest.objects.select_for_update(of=("self",))
        .select_related("definition", "batch")
        .get(pk=test.pk)
    )


def qc_sample_record(*, actor: User, test: QcTest, sampled_at: datetime | None = None) -> QcTest:
    now = timezone.now()
    sampled_at = sampled_at or now
    with gmp_write(actor=actor, permission="qc.record_qc_sample", reason="QC sample taken"):
        test = _lock_test(test)
        if test.state != TestState.PLANNED:
            raise ValidationError({"state": f"The test is {test.get_state_display().lower()}."})
        require_happened(
            "sampled_at",
            sampled_at,
            what="A sample",
            not_before=(test.triggered_at, "the step that triggers it"),
        )
        test.state = TestState.SAMPLED
        test.sampled_at = sampled_at
        test.sampled_by = actor
        test.save()
    return test


def evaluate(definition: QcTestDefinition, *, value: object, unit: str) -> Evaluation:
    """(numeric, text, in_spec, explanation) for a raw result; ValidationError if malformed."""
    if definition.result_type == ResultType.NUMERIC:
        if isinstance(value, bool) or value is None or value == "":
            raise ValidationError({"value": f"{definition.name} needs a number."})
        try:
            number = float(str(value).replace(" ", ""))
        except ValueError:
            raise ValidationError(
                {"value": f"{definition.name} needs a number, not {str(value)[:40]!r}."}
            ) from None
        if not math.isfinite(number):
            raise ValidationError({"value": "The result must be a finite number."})
        if normalize_unit(unit or definition.unit) != normalize_unit(definition.unit):
            raise ValidationError(
                {
                    "unit": f"Unknown unit {unit!r} for {definition.name}; "
                    f"expected {definition.unit!r}."
                }
            )
        compared = number
        ok = True
        if definition.lower_limit is not None:
            ok &= (
                compared > definition.lower_limit
                if definition.lower_strict
                else compared >= definition.lower_limit
            )
        if definition.upper_limit is not None:
            ok &= (
                compared < definition.upper_limit
                if definition.upper_strict
                else compared <= definition.upper_limit
            )
        shown = f"{lab_number_text(number)} {definition.unit}"
        verdict = "in spec" if ok else "OUT OF SPEC"
        return number, "", ok, f"{shown} against {definition.spec_text}: {verdict}"
    text = str(value).strip() if value is not None else ""
    allowed = definition.allowed_values or definition.passing_values
    if text.lower() not in [a.lower() for a in allowed]:
        raise ValidationError({"value": f"{definition.name} is one of: {', '.join(allowed)}."})
    canonical = next(a for a in allowed if a.lower() == text.lower())
    ok = canonical in definition.passing_values
    return (
        None,
        canonical,
        ok,
        f"{canonical} against {definition.spec_text}: {'in spec' if ok else 'OUT OF SPEC'}",
    )


def qc_result_enter(
    *,
    actor: User,
    test: QcTest,
    value: object,
    unit: str = "",
    source: str = "manual",
    resulted_at: datetime | None = None,
) -> QcTest:
    """Enter a result; it is evaluated against the spec at once. Out of spec on a batch in
    manufacturing or QC opens a deviation (which holds the batch until QA dispositions it);
    out of spec on a released batch (a conditional release's pending test) recalls it."""
    now = timezone.now()
    require_happened(
        "resulted_at",
        resulted_at,
        what="A result",
        not_before=(test.triggered_at, "the step that triggers the test"),
    )
    if test.sample_due_at > now:
        raise ValidationError(
            {
                "value": "This test is not due for sampling until "
                f"{test.sample_due_at:%Y-%m-%d %H:%M %Z}."
            }
        )
    numeric, text, ok, explanation = evaluate(test.definition, value=value, unit=unit)
    with gmp_write(
        actor=actor, permission="qc.enter_qc_result", reason=f"QC result: {explanation}"
    ):
        batch = lock_batch(test.batch)
        test = _lock_test(test)
        if test.state not in (TestState.PLANNED, TestState.SAMPLED):
            raise ValidationError(
                {
                    "state": f"The test is already {test.get_state_display().lower()}; "
                    "enter a retest instead."
                }
            )
        if test.state == TestState.PLANNED:
            test.sampled_at, test.sampled_by = test.sample_due_at, actor
        test.state = TestState.RESULTED
        test.result_numeric, test.result_text = numeric, text
        test.result_unit = test.definition.unit if numeric is not None else ""
        test.in_spec, test.evaluation = ok, explanation[:300]
        test.resulted_at, test.resulted_by, test.result_source = resulted_at or now, actor, source
        test.save()
        if not ok:
            _act_on_out_of_spec(actor=actor, batch=batch, test=test, explanation=explanation)
    return test


def _act_on_out_of_spec(*, actor: User, batch: Batch, test: QcTest, explanation: str) -> None:
    """What a result out of specification does to its batch, at once, in the same
    transaction as the result: its phase I investigation is opened, and the batch is held
    (or recalled)."""
    what = f"{test.definition.name}: {explanation}"
    oos_investigation_open_locked(test)
    if batch.state == BatchState.RELEASED:
        recall_locked_batch(
            actor=actor, batch=batch, reason=f"Result out of specification: {what}", qc_test=test
        )
        return
    open_deviation_locked(
        actor=actor,
        batch=batch,
        step=None,
        kind=DeviationKind.OUT_OF_SPEC,
        what=what,
        why="Result outside specification (automatic)",
        impact="Release blocked until QA disposition and investigation.",
    )


def _reviewable(test: QcTest, actor: User) -> None:
    """Whether `actor` may review `test` as it stands: asked before the password (so a
    plainly impossible review costs no signing attempt) and again under the row lock."""
    if test.state != TestState.RESULTED:
        raise ValidationError({"state": "Only a resulted test can be reviewed."})
    if test.resulted_by_id == actor.pk:
        raise ValidationError(
            {"reviewer": "The reviewer must be a different person from the analyst."}
        )


def qc_result_review(
    *, actor: User, password: str, test: QcTest, request: HttpRequest | None = None
) -> QcTest:
    """Second-person review, e-signed; the reviewer must not be the analyst. Clears flags and
    closes a conditional release whose last pending test this was."""
    test = QcTest.objects.select_related("definition", "batch").get(pk=test.pk)
    _reviewable(test, actor)
    with signed_write(
        actor=actor,
        password=password,
        permission="qc.review_qc_result",
        meaning=SignatureMeaning.REVIEWED,
        label=f"QC {test.definition.code} for batch {test.batch.lot_number}",
        reason="QC result reviewed",
        request=request,
    ) as signing:
        test = _lock_test(test)
        _reviewable(test, actor)
        now = timezone.now()
        test.state, test.reviewed_at, test.reviewed_by = TestState.REVIEWED, now, actor
        test.save()
        QcAlert.objects.filter(test=test, cleared_at__isnull=True).update(cleared_at=now)
        _close_conditional_release(test, now)
        signing.sign(test, attests="qc_result")
    return test


def qc_results_review(
    *,
    actor: User,
    password: str,
    tests: Sequence[QcTest],
    request: HttpRequest | None = None,
) -> list[QcTest]:
    """Several results reviewed in one sitting under one e-signature. Each is reviewed by
    `qc_result_review`, so each is its own review with its own signature row under the same
    rules, and all in one transaction: if one is refused, none is recorded, and the
    ValidationError (on `tests`) names each refused result and why."""
    if not tests:
        raise ValidationError({"tests": "Choose at least one result to review."})
    chosen = list(
        in_worklist_order(
            QcTest.objects.filter(pk__in=[t.pk for t in tests]).select_related(
                "definition", "batch"
            )
        )
    )
    require_permission(actor, "qc.review_qc_result")
    # A plainly impossible review is refused before the password, as one review is.
    _each_or_none(chosen, lambda test: _reviewable(test, actor))
    lots = sorted({test.batch.lot_number for test in chosen})
    with signing_sitting(
        actor=actor,
        password=password,
        permission="qc.review_qc_result",
        meaning=SignatureMeaning.REVIEWED,
        label=f"{len(chosen)} QC results of batch {', '.join(lots)}",
        request=request,
    ):
        return _each_or_none(
            chosen,
            lambda test: qc_result_review(
                actor=actor, password=password, test=test, request=request
            ),
        )


def _each_or_none(tests: list[QcTest], call: Callable[[QcTest], Done]) -> list[Done]:
    """`call` on every test; if any is refused, one ValidationError naming each refused test
    and why (the refused calls' own savepoints rolled back; the caller's transaction ends)."""
    done: list[Done] = []
    refused: list[str] = []
    for test in tests:
        try:
            done.append(call(test))
        except ValidationError as exc:
            refused += [f"{test.definition.name}: {message}" for message in exc.messages]
    if refused:
        raise ValidationError({"tests": refused})
    return done


def _close_conditional_release(test: QcTest, now: datetime) -> None:
    """A conditional release is confirmed when its last pending test is reviewed in spec."""
    decision = ReleaseDecision.objects.filter(
        batch_id=test.batch_id, conditional=True, closed_at__isnull=True
    ).first()
    if decision is None:
        return
    if all(t.state == TestState.REVIEWED and t.in_spec for t in decision.pending_tests.all()):
        decision.closed_at = now
        decision.save(update_fields=["closed_at"])


def qc_retest(*, actor: User, test: QcTest, reason: str) -> QcTest:
    """A new test linked to the original; the original result stays as it was. Refused while
    `retest_blocker` says why."""
    with gmp_write(actor=actor, permission="qc.enter_qc_result", reason=f"Retest: {reason}"):
        original = _lock_test(test)
        blocker = retest_blocker(original)
        if blocker:
            raise ValidationError({"retest": blocker})
        now = timezone.now()
        return QcTest.objects.create(
            batch=original.batch,
            definition=original.definition,
            retest_of=original,
            triggered_at=now,
            sample_due_at=now,
            due_at=now + timedelta(hours=original.definition.turnaround_hours),
        )
