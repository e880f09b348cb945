"""One QC test's page: the test with everything it names, and which actions (sample, result,
review, retest) its state and the user's roles allow now."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db.models import QuerySet

from carnk_mfg.audit import audit_history
from carnk_mfg.roles import actor_may
from carnk_mfg.web import history_rows, signature_rows
from qc.models import QcTest, TestState
from qc.selectors import with_overdue

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django_stubs_ext import WithAnnotations


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
        "show_retest_form": may_result and state in (TestState.RESULTED, TestState.REVIEWED),
        "signatures": signature_rows(test),
        "history": history_rows(audit_history(test), QcTest),
    }
