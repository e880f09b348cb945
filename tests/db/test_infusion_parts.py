"""The infusion's two signed parts, held by the database whatever path writes: logged in as
the application's own role, an end before the start, what is observed after the infusion
without its end, a second completion, a change of the start, a second infusion of one bag
and the removal of an infusion are all refused; the completion of one in progress is taken."""

from datetime import timedelta

import pytest
from django.utils import timezone
from psycopg2 import errors

from batches.models import BedsideCheck, Infusion
from batches.services import bedside
from tests.batch_steps import bedside_scans
from tests.db.test_app_role import app_db  # noqa: F401 - the fixture, used by name below
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

COMPLETE = """
    UPDATE batches_infusion SET ended_at = %s, volume_ml = 4.4, completed_by_id = %s,
        completed_recorded_at = now(), vitals = vitals || '{"post": {"hr": 84}}'
    WHERE id = %s
"""


@pytest.fixture
def started(issued_bag, clinical):
    """An infusion in progress: checked at the bedside and started now."""
    check = bedside.bedside_verify(actor=clinical, **bedside_scans(issued_bag))
    return bedside.infusion_start(
        actor=clinical,
        password=PASSWORD,
        check=check,
        started_at=check.checked_at,
        vitals_before={"hr": 80},
    )


def row(infusion):
    return Infusion.objects.filter(pk=infusion.pk).values().get()


def test_an_infusion_in_progress_is_completed(app_db, started, clinical):  # noqa: F811
    app_db((COMPLETE, [timezone.now(), clinical.pk, started.pk]))
    done = Infusion.objects.get(pk=started.pk)
    assert done.ended_at is not None and done.vitals == {"pre": {"hr": 80}, "post": {"hr": 84}}


def test_an_end_before_the_start_is_refused(app_db, started, clinical):  # noqa: F811
    before = row(started)
    with pytest.raises(errors.CheckViolation, match="infusion_ends_after_start"):
        app_db((COMPLETE, [started.started_at - timedelta(minutes=1), clinical.pk, started.pk]))
    assert row(started) == before


@pytest.mark.parametrize(
    "change",
    [
        """vitals = vitals || '{"post": {"hr": 84}}'""",
        "reactions = 'Chills'",
    ],
    ids=["vitals-after", "reactions"],
)
def test_what_is_observed_after_comes_with_the_end(app_db, started, change):  # noqa: F811
    before = row(started)
    with pytest.raises(errors.CheckViolation, match="infusion_after_with_end"):
        app_db((f"UPDATE batches_infusion SET {change} WHERE id = %s", [started.pk]))  # noqa: S608
    assert row(started) == before


def test_an_infusion_is_completed_once(app_db, started, clinical, qa):  # noqa: F811
    app_db((COMPLETE, [timezone.now(), clinical.pk, started.pk]))
    done = row(started)
    with pytest.raises(errors.RaiseException, match="was completed at .*: its record is final"):
        app_db((COMPLETE, [timezone.now(), qa.pk, started.pk]))
    for change in ("volume_ml = 9", "reactions = 'None'", "notes = 'after the fact'"):
        with pytest.raises(errors.RaiseException, match="its record is final"):
            app_db((f"UPDATE batches_infusion SET {change} WHERE id = %s", [started.pk]))  # noqa: S608
    assert row(started) == done


@pytest.mark.parametrize(
    "change",
    [
        "started_at = started_at - interval '10 minutes'",
        "administered_by_id = completed_by_id",
        "recorded_at = now()",
        """vitals = jsonb_set(vitals, '{pre,hr}', '60')""",
    ],
    ids=["started-at", "administered-by", "recorded-at", "vitals-before"],
)
@pytest.mark.parametrize("completed", [False, True], ids=["in-progress", "completed"])
def test_the_start_stays_as_signed(app_db, started, clinical, change, completed):  # noqa: F811
    if completed:
        app_db((COMPLETE, [timezone.now(), clinical.pk, started.pk]))
    before = row(started)
    with pytest.raises(errors.RaiseException, match="start is signed|record is final"):
        app_db((f"UPDATE batches_infusion SET {change} WHERE id = %s", [started.pk]))  # noqa: S608
    assert row(started) == before


def test_a_second_infusion_of_one_bag_is_refused(app_db, started, clinical):  # noqa: F811
    other_check = BedsideCheck.objects.create(
        scanned_bag="x",
        scanned_wristband="CARNK-QC",
        dose_unit=started.dose_unit,
        recipient=started.recipient,
        outcome="match",
        checked_by=clinical,
        checked_at=timezone.now(),
    )
    with pytest.raises(errors.UniqueViolation, match="dose_unit_id"):
        app_db(
            (
                "INSERT INTO batches_infusion (dose_unit_id, recipient_id, bedside_check_id,"
                " started_at, vitals, reactions, administered_by_id, notes, recorded_at)"
                " VALUES (%s, %s, %s, now(), '{}', '', %s, '', now())",
                [started.dose_unit_id, started.recipient_id, other_check.pk, clinical.pk],
            )
        )
    assert Infusion.objects.count() == 1


@pytest.mark.parametrize("completed", [False, True], ids=["in-progress", "completed"])
def test_an_infusion_is_never_deleted(app_db, started, clinical, completed):  # noqa: F811
    if completed:
        app_db((COMPLETE, [timezone.now(), clinical.pk, started.pk]))
    with pytest.raises(errors.RaiseException, match="never deleted"):
        app_db(("DELETE FROM batches_infusion WHERE id = %s", [started.pk]))
    assert Infusion.objects.filter(pk=started.pk).exists()
