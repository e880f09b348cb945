"""Logged in as the application's own role, the database keeps a read plate as read (no
change, no deletion), refuses a half-read one or a glove print naming nobody, keeps the
deviations an excursion opened linked to it, and keeps a batch's room from day 0."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from psycopg2 import errors

from batches.services import facility, lifecycle
from batches.services.batch_record import batch_create
from qc.services import environment
from tests.batch_steps import planned_days_ago, record_steps
from tests.db.test_app_role import app_db  # noqa: F401  (the fixture: a connection as the app role)
from tests.factories import CordBloodUnitFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def room(qa):
    return facility.room_create(actor=qa, identifier="CR-1", name="Suite 1", grade="B")


@pytest.fixture
def sample(room, qc_analyst):
    point = environment.sampling_point_create(
        actor=qc_analyst, room=room, code="BSC-1", description="Cabinet 1"
    )
    end = timezone.now() - timedelta(days=3)
    return environment.em_sample_record(
        actor=qc_analyst,
        sampling_point=point,
        sample_type="contact",
        sampling_started_at=end - timedelta(minutes=5),
        sampling_ended_at=end,
    )


def test_the_app_role_cannot_change_or_delete_a_read_result(app_db, sample, qc_analyst):  # noqa: F811
    environment.em_result_read(actor=qc_analyst, sample=sample, cfu=2)
    with pytest.raises(errors.RaiseException, match="em_result_final"):
        app_db(("UPDATE qc_emsample SET cfu = 0, level = 'within' WHERE id = %s", [sample.pk]))
    with pytest.raises(errors.RaiseException, match="em_result_final"):
        app_db(("DELETE FROM qc_emsample WHERE id = %s", [sample.pk]))
    sample.refresh_from_db()
    assert (sample.cfu, sample.level) == (2, "within")


def test_the_app_role_cannot_store_a_half_read_result(app_db, sample):  # noqa: F811
    with pytest.raises(errors.CheckViolation, match="em_read_whole"):
        app_db(("UPDATE qc_emsample SET cfu = 12 WHERE id = %s", [sample.pk]))


def test_the_app_role_reads_an_unread_plate_whole(app_db, sample, qc_analyst):  # noqa: F811
    app_db(
        (
            "UPDATE qc_emsample SET cfu = 1, level = 'within', alert_limit = 3,"
            " action_limit = 5, read_by_id = %s, read_at = now() WHERE id = %s",
            [qc_analyst.pk, sample.pk],
        )
    )
    sample.refresh_from_db()
    assert sample.cfu == 1


def test_the_app_role_cannot_store_a_glove_print_of_nobody(app_db, sample):  # noqa: F811
    with pytest.raises(errors.CheckViolation, match="em_glove_names_person"):
        app_db(("UPDATE qc_emsample SET sample_type = 'glove' WHERE id = %s", [sample.pk]))


def test_the_app_role_cannot_unlink_an_excursion_from_its_deviations(
    app_db,  # noqa: F811
    sample,
    qc_analyst,
    technician,
    approved_template,
    lots,
    room,
):
    with planned_days_ago(10):
        batch = batch_create(
            actor=technician,
            source_unit=CordBloodUnitFactory.create(),
            template=approved_template,
            unit_fraction_used_pct=Decimal("100"),
            room=room,
        )
    batch = lifecycle.batch_transition(
        actor=technician, batch=batch, to_state="in_process", reason="go"
    )
    record_steps(batch, technician, day0=timezone.now() - timedelta(days=5), first=1)
    environment.em_result_read(actor=qc_analyst, sample=sample, cfu=9)
    with pytest.raises(errors.RaiseException, match="em_excursion_link_kept"):
        app_db(("DELETE FROM qc_emexcursiondeviation WHERE sample_id = %s", [sample.pk]))
    # Nor move the batch to another room now that it has started.
    other = facility.room_create(
        actor=room.created_by, identifier="CR-2", name="Suite 2", grade="B"
    )
    with pytest.raises(errors.RaiseException, match="room_fixed_from_day0"):
        app_db(("UPDATE batches_batch SET room_id = %s WHERE id = %s", [other.pk, batch.pk]))
