"""The lists of a batch's record, newest first, each a query to slice or page: its trail,
signatures, executed steps, counts, custody hand-offs and deviations. The batch page shows
the first few of each; their own pages show all of them a page at a time."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pghistory.models
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, IntegerField, Model, Q, QuerySet, Value
from django.db.models.functions import Cast

from batches.models import Batch, CustodyEvent, Deviation, DeviationState, ExecutedStep
from batches.selectors.batch_lists import batch_custody, batch_deviations, batch_steps
from batches.selectors.batch_record import SignatureRow
from carnk_mfg.models import ElectronicSignature
from carnk_mfg.signatures import signature_intact


def latest_n() -> int:
    """How many of each list the batch page shows (setting BATCH_PAGE_LATEST)."""
    return int(settings.BATCH_PAGE_LATEST)


@dataclass(frozen=True)
class TrailEvent:
    """One trail event as the history table shows it (the fields of pghistory's Events)."""

    pgh_created_at: datetime
    pgh_label: str
    pgh_obj_model: str
    pgh_context: dict[str, Any] | None
    pgh_diff: dict[str, list[Any]] | None


@functools.cache
def _event_tables() -> list[tuple[type[Model], list[str]]]:
    """Each event table with a column pointing at a batch, and those columns (the models do
    not change while the process runs)."""
    tables: list[tuple[type[Model], list[str]]] = []
    for model in apps.get_models():
        if not issubclass(model, pghistory.models.Event):
            continue
        links = [
            field.attname
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model is Batch
        ]
        if links:
            tables.append((model, links))
    return tables


def _trail_sources(batch: Batch) -> list[QuerySet[Any]]:
    """Each event table's events that point at the batch (the batch's own, and those of its
    steps, counts, deviations, custody, QC tests...), newest first."""
    sources = []
    for model, links in _event_tables():
        pointing = Q()
        for attname in links:
            pointing |= Q(**{attname: batch.pk})
        sources.append(
            model._default_manager.filter(pointing).order_by("-pgh_created_at", "-pgh_id")
        )
    return sources


def _with_diffs(model: type[Model], ids: set[int]) -> dict[int, TrailEvent]:
    """The events `ids` of one event table, each with what it changed since the one before
    it of the same record: the events and those before them are read in one query."""
    fields = [f.attname for f in model._meta.concrete_fields if not f.name.startswith("pgh_")]
    events = model._default_manager
    read: QuerySet[Any] = events.filter(
        pgh_obj_id__in=events.filter(pgh_id__in=ids).values("pgh_obj_id"),
        pgh_id__lte=max(ids),
    ).order_by("pgh_id")
    history: dict[Any, list[Any]] = {}
    for event in read:
        history.setdefault(event.pgh_obj_id, []).append(event)
    tracked = model._meta.get_field("pgh_obj").related_model
    assert isinstance(tracked, type)  # an event table tracks one model
    label = tracked._meta.label
    shown = {}
    for record_events in history.values():
        for old, event in zip([None, *record_events], record_events, strict=False):
            if event.pgh_id not in ids:
                continue
            diff = None
            if old is not None:
                diff = {
                    name: [getattr(old, name), getattr(event, name)]
                    for name in fields
                    if getattr(old, name) != getattr(event, name)
                }
            shown[event.pgh_id] = TrailEvent(
                event.pgh_created_at, event.pgh_label, label, event.pgh_context, diff
            )
    return shown


class Trail:
    """The trail of the batch and of every record that points at it, newest first, read a
    page at a time: each event table gives its newest rows up to the page's end (all tables
    in one query, a UNION ALL), so the cost follows the page, not the length of the trail
    (pghistory's aggregate view works out every event's changes before it can sort them)."""

    def __init__(self, batch: Batch):
        self.sources = _trail_sources(batch)

    def count(self) -> int:
        if not self.sources:
            return 0
        ids = [source.order_by().values("pgh_id") for source in self.sources]
        return ids[0].union(*ids[1:], all=True).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):  # type: ignore[no-untyped-def]  # int or slice, as a list
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        assert stop is not None  # pages and "the latest N" are bounded slices
        if not self.sources or stop <= start:
            return []
        # Each table's newest rows up to the page's end, tagged with the table's place.
        newest = [
            source.annotate(trail_table=Value(i, output_field=IntegerField())).values_list(
                "pgh_created_at", "pgh_id", "trail_table"
            )[:stop]
            for i, source in enumerate(self.sources)
        ]
        merged = newest[0].union(*newest[1:], all=True)
        page = list(merged.order_by("-pgh_created_at", "-pgh_id", "trail_table")[start:stop])
        by_source: dict[int, set[int]] = {}
        for _, pgh_id, i in page:
            by_source.setdefault(i, set()).add(pgh_id)
        shown = {i: _with_diffs(self.sources[i].model, ids) for i, ids in by_source.items()}
        return [shown[i][pgh_id] for _, pgh_id, i in page]


def trail_newest_first(batch: Batch) -> Trail:
    """The trail of the batch and of every record that points at it, newest first."""
    return Trail(batch)


def state_events_newest_first(batch: Batch) -> QuerySet[pghistory.models.Events]:
    """The batch's own trail events (its creation and state changes among them), newest
    first."""
    events: QuerySet[pghistory.models.Events] = pghistory.models.Events.objects.tracks(batch)
    return events.order_by("-pgh_created_at")


# The newest-first lists are the API's record lists (batches.selectors.batch_lists) read
# backwards, with the people the page names joined.


def steps_newest_first(batch: Batch) -> QuerySet[ExecutedStep]:
    return batch_steps(batch).reverse()


def custody_newest_first(batch: Batch) -> QuerySet[CustodyEvent]:
    """Hand-offs of the batch and of its cord blood unit."""
    return batch_custody(batch).select_related("recorded_by").reverse()


def deviations_newest_first(batch: Batch) -> QuerySet[Deviation]:
    return batch_deviations(batch).select_related("dispositioned_by").reverse()


def closed_deviations_newest_first(batch: Batch) -> QuerySet[Deviation]:
    return deviations_newest_first(batch).exclude(state=DeviationState.OPEN)


def _ids_of(query: QuerySet[Any]) -> QuerySet[Any]:
    """Primary keys as text, as signatures name the record they sign."""
    ids: QuerySet[Any] = query.annotate(text_id=Cast("pk", CharField())).values("text_id")
    return ids


def signatures_newest_first(batch: Batch) -> QuerySet[ElectronicSignature]:
    """Every signature of the batch record: on the batch (lifecycle moves, formulation,
    review, release), its steps, its deviations and its QC reviews."""
    # QC's test model, reached through the relation to the batch (batches never imports qc).
    qc_test: type[Model] = Batch._meta.get_field("qc_tests").related_model
    of = ContentType.objects.get_for_model
    found = (
        Q(content_type=of(Batch), object_id=str(batch.pk))
        | Q(
            content_type=of(ExecutedStep),
            object_id__in=_ids_of(ExecutedStep.objects.filter(batch=batch)),
        )
        | Q(
            content_type=of(Deviation), object_id__in=_ids_of(Deviation.objects.filter(batch=batch))
        )
        | Q(
            content_type=of(qc_test),
            object_id__in=_ids_of(qc_test._default_manager.filter(batch=batch)),
        )
    )
    return (
        ElectronicSignature.objects.filter(found)
        .select_related("signer", "content_type")
        .order_by("-signed_at", "-id")
    )


def signature_rows(signatures: list[ElectronicSignature]) -> list[SignatureRow]:
    """Each signature with whether what it attests still holds; the signed records are read
    one query per kind."""
    by_type: dict[int, set[str]] = {}
    for sig in signatures:
        by_type.setdefault(sig.content_type_id, set()).add(sig.object_id)
    records: dict[tuple[int, str], Model] = {}
    for content_type_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        assert model is not None  # a signature names a model that exists
        for found in model._default_manager.filter(pk__in=ids):
            records[(content_type_id, str(found.pk))] = found
    rows: list[SignatureRow] = []
    for sig in signatures:
        signed = records.get((sig.content_type_id, sig.object_id))
        rows.append(
            {"signature": sig, "intact": signed is not None and signature_intact(sig, signed)}
        )
    return rows
