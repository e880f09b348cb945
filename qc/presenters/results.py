"""One QC test's page: the test with everything it names, and which actions (sample, result,
review, retest) its state and the user's roles allow now; how a result and its specification
read on the QC pages; and the page that reviews several results of a batch at once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db.models import QuerySet

from carnk_mfg.audit import audit_history
from carnk_mfg.notation import NO_VALUE, lab_number_text
from carnk_mfg.roles import actor_may
from carnk_mfg.web import history_rows, signature_rows
from qc.models import QcTest, QcTestDefinition, ResultType, TestState
from qc.selectors import qc_results_awaiting_review, with_overdue

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django_stubs_ext import WithAnnotations

    from batches.models import Batch


class Overdue(TypedDict):
    """What `with_overdue` adds to each test."""

    overdue: bool


if TYPE_CHECKING:
    # A test as the page reads it: marked `overdue` by the database.
    MarkedTest = WithAnnotations[QcTest, Overdue]


def qc_tests_for_page(*, now: datetime) -> QuerySet[MarkedTest]:
    # `with_overdue` adds the mark; its own type names only the model.
    return cast(
        "QuerySet[MarkedTest]",
        with_overdue(QcTest.objects.all(), now=now).select_related(
            "batch",
            "batch__intended_recipient",
            "definition",
            "definition__spec_set",
            "sampled_by",
            "resulted_by",
            "reviewed_by",
            "retest_of",
        ),
    )


def qc_test_page(test: MarkedTest, *, user: User | AnonymousUser, now: datetime) -> dict[str, Any]:
    """The test page's context without the action forms; `show_*_form` says which to show."""
    state = test.state
    may_result = actor_may(user, "qc.enter_qc_result")
    may_review = actor_may(user, "qc.review_qc_result")
    # The analyst who entered a result may not review it (segregation of duties).
    own_result = test.resulted_by_id is not None and test.resulted_by_id == user.pk
    return {
        "test": test,
        "definition": test.definition,
        "overdue": test.overdue,
        "sample_due": test.sample_due_at <= now,
        "alerts": list(test.alerts.all()),
        "retests": list(test.retests.select_related("definition")),
        "show_sample_form": actor_may(user, "qc.record_qc_sample") and state == TestState.PLANNED,
        "show_result_form": may_result and state in (TestState.PLANNED, TestState.SAMPLED),
        "may_review": may_review and state == TestState.RESULTED,
        "own_result": own_result,
        "show_review_form": may_review and state == TestState.RESULTED and not own_result,
        # Reviewers reach the batch's other results awaiting them from any of its tests.
        "may_review_batch": may_review,
        "show_retest_form": may_result and state in (TestState.RESULTED, TestState.REVIEWED),
        "result_shown": shown_result(test),
        "entry": result_entry(test.definition),
        "signatures": signature_rows(test),
        "history": history_rows(audit_history(test), QcTest),
    }


# --- how results and specifications read ---


def shown_result(test: QcTest) -> str:
    """The result with its unit, numbers in lab notation; a dash before there is one."""
    if test.result_numeric is not None:
        return f"{lab_number_text(test.result_numeric)} {test.result_unit}".strip()
    return test.result_text or "\u2014"


def verdict(test: QcTest) -> str:
    """Pass, or out of specification (a pass/fail test's failure says so too); blank before a
    result."""
    if test.in_spec is None:
        return ""
    if test.in_spec:
        return "Pass"
    return "Fail (OOS)" if test.definition.result_type == ResultType.PASS_FAIL else "OOS"


# Examples for the results whose size or unit is easily mistaken (CD3+ T cells: a percentage
# of the product, or cells per kg of the recipient, where 2 x 10^5 is typed 2e5).
ENTRY_EXAMPLES = {
    "%": "For example 0.4 for 0.4 % of all cells.",
    "cells": "For example 1.5e5 for 1.5 \u00d7 10\u2075 cells.",
    "cells/kg": "For example 1.5e5 for 1.5 \u00d7 10\u2075 cells/kg.",
}


# Counts this large are typed with an exponent, which a decimal keypad lacks.
COUNT_UNITS = ("cells", "cells/kg")


def result_entry(definition: QcTestDefinition) -> dict[str, str]:
    """What the result input shows beside and below it: the unit, and help with an example
    for the CD3+ tests (a unit too easily mistaken); the keypad a phone offers for it."""
    unit = definition.unit if definition.result_type == ResultType.NUMERIC else ""
    help_text = f"Specification: {definition.spec_text or NO_VALUE}."
    if unit:
        help_text += f" Enter the number in {unit}; the unit is not typed."
    example = ENTRY_EXAMPLES.get(unit) if definition.code.startswith("cd3") else None
    if example:
        help_text += f" {example}"
    inputmode = "text" if unit in COUNT_UNITS else "decimal"
    return {"unit": unit, "help": help_text, "inputmode": inputmode}


# --- several results of a batch reviewed at once ---


def batch_review_page(*, batch: Batch, user: User | AnonymousUser) -> dict[str, Any]:
    """The batch's results awaiting review that `user` may review, each with its spec in
    words, its value with unit and its verdict."""
    tests = list(qc_results_awaiting_review(batch=batch, user=user))
    return {
        "batch": batch,
        "rows": [
            {
                "test": test,
                "spec": test.definition.spec_text or NO_VALUE,
                "result": shown_result(test),
                "verdict": verdict(test),
            }
            for test in tests
        ],
    }
