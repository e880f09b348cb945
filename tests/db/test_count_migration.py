"""The migration to one count per batch and culture day keeps every count recorded before
it: the counts of a day after the first become a chain of corrections, each of the count
recorded before it, with a reason saying so, and the latest is the day's count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from batches.models import CellCount

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("batches", "0016_free_text")]
AFTER = [("batches", "0017_one_count_per_day")]


def migrate(targets=None):
    """To `targets`; without, to the newest migration of every app."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.fixture(autouse=True)
def newest_schema_after():
    # Every later test needs the whole schema back, not only the migration tried here.
    yield
    migrate()


def test_duplicates_become_a_chain_of_corrections(running_batch, technician):
    now = timezone.now()
    migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            ids = []
            for day, minutes in ((13, 30), (13, 20), (13, 10), (14, 5)):
                cursor.execute(
                    """
                    INSERT INTO batches_cellcount (batch_id, day, measured_at,
                        total_cells_per_ml, viable_cells_per_ml, viability_pct, source,
                        recorded_by_id, recorded_at, notes)
                    VALUES (%s, %s, %s, 2e6, 1.8e6, 90, 'manual', %s, %s, '')
                    RETURNING id
                    """,
                    [running_batch.pk, day, now, technician.pk, now - timedelta(minutes=minutes)],
                )
                ids.append(cursor.fetchone()[0])
    finally:
        migrate(AFTER)
    first, second, third, day14 = (CellCount.objects.get(pk=pk) for pk in ids)
    assert (first.corrects_id, second.corrects_id, third.corrects_id) == (None, first.pk, second.pk)
    assert day14.corrects_id is None and day14.correction_reason == ""
    assert "Recorded before the rule of one count per batch and culture day" in (
        second.correction_reason
    )
    current = CellCount.objects.filter(batch=running_batch, corrected_by__isnull=True)
    assert sorted(current.values_list("pk", flat=True)) == [third.pk, day14.pk]
