"""One count per batch and culture day, held by the database whatever path writes: logged in
as the application's own role, a second original count of a day, a correction without a
reason, a correction of another day or batch, and a second correction of one count are all
refused; a proper correction is taken."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from psycopg2 import errors

from batches.services.batch_record import batch_create, cell_count_record
from tests.db.test_app_role import app_db  # noqa: F401 - the fixture, used by name below
from tests.factories import CordBloodUnitFactory

pytestmark = pytest.mark.django_db(transaction=True)

INSERT = """
    INSERT INTO batches_cellcount (batch_id, day, measured_at, total_cells_per_ml,
        viable_cells_per_ml, viability_pct, source, recorded_by_id, recorded_at, notes,
        corrects_id, correction_reason)
    VALUES (%s, %s, now() - interval '1 hour', 2e6, 1.8e6, 90, 'manual', %s, now(), '', %s, %s)
    RETURNING id
"""


@pytest.fixture
def day13(running_batch, technician):
    return cell_count_record(
        actor=technician,
        batch=running_batch,
        day=13,
        measured_at=timezone.now() - timedelta(hours=2),
        total_cells_per_ml=2e6,
        viable_cells_per_ml=1.8e6,
        volume_ml=Decimal("50"),
    )


def insert(app_db, batch, user, day, corrects=None, reason=""):  # noqa: F811 - the fixture
    ((row,),) = app_db((INSERT, [batch.pk, day, user.pk, corrects, reason]))
    return row[0]


def test_a_second_original_count_of_a_day_is_refused(app_db, day13, running_batch, technician):  # noqa: F811
    with pytest.raises(errors.UniqueViolation, match="count_one_per_day"):
        insert(app_db, running_batch, technician, 13)
    insert(app_db, running_batch, technician, 14)  # another day


@pytest.mark.parametrize("reason", ["", "  \t"])
def test_a_correction_without_a_reason_is_refused(app_db, day13, running_batch, technician, reason):  # noqa: F811
    with pytest.raises(errors.CheckViolation, match="count_correction_has_reason"):
        insert(app_db, running_batch, technician, 13, corrects=day13.pk, reason=reason)


def test_a_reason_without_a_correction_is_refused(app_db, running_batch, technician):  # noqa: F811
    with pytest.raises(errors.CheckViolation, match="count_correction_has_reason"):
        insert(app_db, running_batch, technician, 13, reason="why not")


def test_a_correction_of_another_day_or_batch_is_refused(
    app_db,  # noqa: F811
    day13,
    running_batch,
    technician,
    approved_template,
):
    with pytest.raises(errors.RaiseException, match="not of the same batch and culture day"):
        insert(app_db, running_batch, technician, 12, corrects=day13.pk, reason="typo")
    other = batch_create(
        actor=technician,
        source_unit=CordBloodUnitFactory.create(),
        template=approved_template,
        unit_fraction_used_pct=Decimal("100"),
    )
    with pytest.raises(errors.RaiseException, match="not of the same batch and culture day"):
        insert(app_db, other, technician, 13, corrects=day13.pk, reason="typo")


def test_a_count_is_corrected_once_so_corrections_form_a_chain(
    app_db,  # noqa: F811
    day13,
    running_batch,
    technician,
):
    second = insert(app_db, running_batch, technician, 13, corrects=day13.pk, reason="recount")
    with pytest.raises(errors.UniqueViolation):
        insert(app_db, running_batch, technician, 13, corrects=day13.pk, reason="again")
    third = insert(app_db, running_batch, technician, 13, corrects=second, reason="again")
    assert third > second
