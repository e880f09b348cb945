"""A worklist: one query of work waiting for a role, shown twice, as a section of the home
page (its count and first rows) and in full, so the two always agree. Each app declares its
worklists with this one shape; the home page gathers them (QC's through
`batches.ports.qc_worklists`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


@dataclass(frozen=True)
class WorkRow:
    """One piece of work as a list shows it: what (linked to the page where it is done),
    a detail, when it is due or happened, and whether it is late."""

    label: str
    href: str
    detail: str = ""
    when: datetime | None = None
    late: bool = False


@dataclass(frozen=True)
class Worklist:
    """`query(actor, now)` is the worklist's one selector; `row` turns one of its items into a
    WorkRow; `full_url`, when given, is the page that lists it in full with the same
    selector (else the generic worklist page). `everyone(now)`, when given, is the same list
    for every recipient where `query` lists the signed-in clinician's own; the generic page
    links to it."""

    key: str
    title: str
    role: str
    permission: str
    query: Callable[[Any, datetime], QuerySet[Any] | Sequence[Any]]
    row: Callable[[Any], WorkRow]
    full_url: Callable[[], str] | None = None
    help: str = ""
    columns: tuple[str, str] = field(default=("Detail", "When"))
    everyone: Callable[[datetime], QuerySet[Any]] | None = None


def first_rows(
    worklist: Worklist, *, actor: User | AnonymousUser, now: datetime, n: int
) -> tuple[int, list[WorkRow]]:
    """(how many items the worklist holds, its first `n` as rows), reading one more than `n`
    so a short list costs one query and a long one two."""
    items = worklist.query(actor, now)
    first = list(items[: n + 1])
    if len(first) <= n:
        count = len(first)
    else:
        count = len(items) if isinstance(items, Sequence) else items.count()
    return count, [worklist.row(item) for item in first[:n]]
