"""Reads of QC, one module per subdomain; `from qc.selectors import X` reaches every public
name."""

from qc.selectors.notices import cause_open_q, in_app_notices, unread_notices
from qc.selectors.overdue import due_soon_q, overdue_q, qc_tests_marked_overdue, with_overdue
from qc.selectors.results import qc_test_list, qc_test_of_sample, release_tests
from qc.selectors.worklist import (
    WORKLIST_ORDER,
    awaiting_review_by_q,
    in_worklist_order,
    qc_next_test,
    qc_results_awaiting_review,
)

__all__ = [
    "WORKLIST_ORDER",
    "awaiting_review_by_q",
    "in_worklist_order",
    "qc_next_test",
    "qc_results_awaiting_review",
    "cause_open_q",
    "in_app_notices",
    "unread_notices",
    "due_soon_q",
    "overdue_q",
    "qc_test_list",
    "qc_test_of_sample",
    "qc_tests_marked_overdue",
    "release_tests",
    "with_overdue",
]
