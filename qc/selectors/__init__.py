"""Reads of QC, one module per subdomain; `from qc.selectors import X` reaches every public
name."""

from qc.selectors.notices import cause_open_q, in_app_notices, unread_notices
from qc.selectors.overdue import due_soon_q, overdue_q, qc_tests_marked_overdue, with_overdue
from qc.selectors.results import qc_test_list, release_tests

__all__ = [
    "cause_open_q",
    "in_app_notices",
    "unread_notices",
    "due_soon_q",
    "overdue_q",
    "qc_test_list",
    "qc_tests_marked_overdue",
    "release_tests",
    "with_overdue",
]
