"""The release queue's count of where a batch's release tests stand."""

from types import SimpleNamespace

from batches import selectors
from batches.presenters.release_queue import qc_summary


def readiness(*statuses):
    return SimpleNamespace(tests=[(object(), status) for status in statuses])


def test_every_test_in_spec_is_complete():
    summary = qc_summary(readiness(selectors.IN_SPEC, selectors.IN_SPEC))
    assert summary == {
        "total": 2,
        "in_spec": 2,
        "pending_allowed": 0,
        "open": 0,
        "out_of_spec": 0,
        "complete": True,
    }


def test_pending_tests_the_spec_allows_do_not_keep_it_incomplete():
    summary = qc_summary(readiness(selectors.IN_SPEC, selectors.PENDING))
    assert summary["pending_allowed"] == 1 and summary["complete"]


def test_an_open_or_out_of_spec_test_keeps_it_incomplete():
    assert not qc_summary(readiness(selectors.IN_SPEC, selectors.OPEN))["complete"]
    summary = qc_summary(readiness(selectors.OUT_OF_SPEC, selectors.OPEN, selectors.IN_SPEC))
    assert (summary["total"], summary["open"], summary["out_of_spec"]) == (3, 1, 1)
    assert not summary["complete"]


def test_no_tests_is_not_complete():
    assert qc_summary(readiness()) == {
        "total": 0,
        "in_spec": 0,
        "pending_allowed": 0,
        "open": 0,
        "out_of_spec": 0,
        "complete": False,
    }
