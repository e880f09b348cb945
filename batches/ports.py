"""What batches asks of QC, without importing it.

QC depends on batches (a QC test belongs to a batch), so batches never imports qc. Where the
batch record needs QC (the tests a step triggers, the tests release waits for, the notices of
a recall) it calls one of the ports below. Each is a plain function slot with the signature
and meaning written here; `qc.apps.QcConfig.ready()` fills them at start-up with `fill(...)`.
No signals and nothing implicit: a port calls exactly the one function filled in, and calling
a port nobody filled raises `PortNotFilled` naming it.

Reading a batch's QC tests through the reverse relation `batch.qc_tests` needs no port; a port
is for what needs QC's own models or rules.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from batches.models import (
        Batch,
        Capa,
        EquipmentCalibration,
        ExecutedStep,
        FollowUpVisit,
        Recall,
        TrainingRecord,
    )

P = ParamSpec("P")
R = TypeVar("R")

# The function each port calls, by port name; written only by `fill`.
_provided: dict[str, Callable[..., Any]] = {}
_stubs: dict[str, Callable[..., Any]] = {}


class PortNotFilled(LookupError):
    """A port was called before any app filled it (is `qc` in INSTALLED_APPS?)."""


def port(stub: Callable[P, R]) -> Callable[P, R]:
    """Declare a port: `stub` gives its name, signature and docstring; its body is never run."""
    name = stub.__name__
    _stubs[name] = stub

    @functools.wraps(stub)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            provided = _provided[name]
        except KeyError:
            raise PortNotFilled(
                f"batches.ports.{name} has not been filled: the app that provides it fills it "
                "in its AppConfig.ready() (qc.apps.QcConfig)."
            ) from None
        return provided(*args, **kwargs)

    return call


@port
def qc_plan_for_step(*, executed_step: ExecutedStep) -> list[Any]:
    """Create the QC tests that this executed step triggers under the approved spec set of
    the batch's template, each with its sample and review due times; inside the step's own
    transaction and trail. Returns the tests created (none without an approved spec set)."""
    raise NotImplementedError


@port
def release_tests(*, batch: Batch | None = None) -> QuerySet[Any]:
    """The QC tests release waits for (those required for release) with their definitions,
    ordered by definition, trigger time and id, so the last of each definition is the newest
    (a retest after its original). Of one batch; or, with no batch, of every batch, for a
    prefetch."""
    raise NotImplementedError


@port
def qc_tests_marked_overdue(*, now: datetime) -> QuerySet[Any]:
    """QC tests with their definitions, each with a boolean `overdue` as of `now` by QC's one
    overdue rule (for a prefetch on a batch's page)."""
    raise NotImplementedError


@port
def qc_test_of_sample(*, sample_id: str) -> Any | None:
    """The QC test a sample ID names (`<lot number>-QC<test id>`, the scheme printed on sample
    labels), with its definition and batch; None when it names no test."""
    raise NotImplementedError


@port
def notify_recall(recall: Recall) -> int:
    """Tell QA and clinical staff of this recall by e-mail and in-app notice, sent as soon as
    the recall commits. Returns the number of notices written."""
    raise NotImplementedError


@port
def notify_visits_overdue(*, visits: list[FollowUpVisit], now: datetime) -> int:
    """Tell clinical staff, by e-mail and in-app notice, that these follow-up visits (just
    flagged overdue) are overdue, sent as soon as the flag commits; at most one notice per
    visit, channel and person. Returns the number of notices written."""
    raise NotImplementedError


@port
def notify_training_expiring(*, records: list[TrainingRecord], now: datetime) -> int:
    """Tell each trainee and their supervisor, by e-mail and in-app notice, that these
    trainings (just flagged) expire soon, sent as soon as the flag commits; at most one
    notice per record, channel and person. Returns the number of notices written."""
    raise NotImplementedError


@port
def notify_calibration_due(
    *, calibrations: list[EquipmentCalibration], overdue: bool, now: datetime
) -> int:
    """Tell the equipment's users, by e-mail and in-app notice, that these calibrations (just
    flagged) fall due soon, or (`overdue`) have lapsed; sent as soon as the flag commits; at
    most one notice of each kind per calibration, channel and person. Returns the number of
    notices written."""
    raise NotImplementedError


@port
def notify_capas_overdue(*, capas: list[Capa], now: datetime) -> int:
    """Tell each CAPA's owner, by e-mail and in-app notice, that these CAPAs (just flagged)
    are overdue, sent as soon as the flag commits; at most one notice per CAPA, channel and
    person. Returns the number of notices written."""
    raise NotImplementedError


@port
def qc_worklists() -> list[Any]:
    """QC's worklists (`carnk_mfg.worklists.Worklist`): the analysts' tests due, overdue and
    awaiting review, and the spec sets awaiting QA's approval, for the home page and the
    full worklists."""
    raise NotImplementedError


NAMES = frozenset(_stubs)


def fill(**provided: Callable[..., Any]) -> None:
    """Fill ports by name. Each function must take the port's parameters (same names and
    kinds), so a mismatch fails at start-up rather than at the first call."""
    unknown = provided.keys() - NAMES
    if unknown:
        raise LookupError(f"No such port: {', '.join(sorted(unknown))}.")
    for name, function in provided.items():
        wanted = [(p.name, p.kind) for p in inspect.signature(_stubs[name]).parameters.values()]
        given = [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]
        if given != wanted:
            raise TypeError(
                f"{function.__module__}.{function.__qualname__} does not match the port "
                f"batches.ports.{name}{inspect.signature(_stubs[name])}."
            )
        _provided[name] = function


def unfilled() -> frozenset[str]:
    """The ports no app has filled yet (empty once every app is ready)."""
    return NAMES - _provided.keys()
