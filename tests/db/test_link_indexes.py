"""Which links carry an index of their own: the trail's event tables of the tables written in
bulk index only what the trail is read by, and `AlterLinkIndex`, the migration operation that
changes a link's index, changes nothing else."""

import pytest
from django.db import connection, models
from django.db.migrations.state import ModelState, ProjectState

from batches.models import Batch, CellCount
from carnk_mfg.migration_operations import AlterLinkIndex
from qc.models import InstrumentReading, QcAlert, QcTest

BULK_TABLES = (CellCount, InstrumentReading, QcTest, QcAlert)


def _indexed_columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.attname FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = %s::regclass AND i.indnatts = 1
            """,
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
@pytest.mark.parametrize("model", BULK_TABLES, ids=lambda m: m.__name__)
def test_a_bulk_tables_events_index_only_what_the_trail_reads_by(model):
    event = _event_model_of(model)
    indexed = _indexed_columns(event._meta.db_table)
    links = {f.column for f in event._meta.concrete_fields if isinstance(f, models.ForeignKey)} - {
        "pgh_context_id"
    }
    # What the batch page's trail filters an event table by (batches.selectors.sublists): its
    # links to a batch, whatever their name; and the tracked record.
    read_by = {"pgh_obj_id"} | {
        f.column for f in event._meta.concrete_fields if f.is_relation and f.related_model is Batch
    }
    assert indexed & links == read_by


def _event_model_of(model):
    import pghistory.models
    from django.apps import apps

    (event,) = [
        m
        for m in apps.get_models()
        if issubclass(m, pghistory.models.Event) and m.pgh_tracked_model is model
    ]
    return event


def _state_with_link(**options) -> ProjectState:
    state = ProjectState()
    state.add_model(ModelState("lab", "shelf", [("id", models.AutoField(primary_key=True))]))
    link = models.ForeignKey("lab.shelf", on_delete=models.PROTECT, **options)
    state.add_model(
        ModelState("lab", "box", [("id", models.AutoField(primary_key=True)), ("shelf", link)])
    )
    return state


def test_alter_link_index_leaves_the_link_as_it_was_but_its_index():
    state = _state_with_link()
    AlterLinkIndex(
        "box", "shelf", models.ForeignKey("lab.shelf", on_delete=models.PROTECT, db_index=False)
    ).state_forwards("lab", state)
    field = state.models["lab", "box"].fields["shelf"]
    assert field.db_index is False
    assert state.apps.get_model("lab", "box")._meta.get_field("shelf").db_index is False


def test_alter_link_index_refuses_any_other_change():
    state = _state_with_link()
    with pytest.raises(ValueError, match="only db_index"):
        AlterLinkIndex(
            "box", "shelf", models.ForeignKey("lab.shelf", on_delete=models.CASCADE)
        ).state_forwards("lab", state)
