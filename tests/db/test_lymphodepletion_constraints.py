"""A lymphodepletion dose is held by the database itself, for the application's own role as
for anyone: its total is the dose for the body surface area, each number in its range, and an
agent is given once a day."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from psycopg2 import errors

from batches.models import LymphodepletionDose
from batches.services.recipients import lymphodepletion_record
from tests.db.test_app_role import app_db  # noqa: F401 (the fixture)
from tests.factories import RecipientFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clause("21 CFR 312.60")]

DOSES = LymphodepletionDose._meta.db_table


@pytest.fixture
def dose(clinical):
    return lymphodepletion_record(
        actor=clinical,
        recipient=RecipientFactory.create(),
        agent="fludarabine",
        dose_mg_per_m2=Decimal("30"),
        body_surface_area_m2=Decimal("1.85"),
        given_on=timezone.localdate() - timedelta(days=5),
    )


@pytest.mark.parametrize(
    "assignments, check",
    [
        ("total_dose_mg = 60", "lymphodepletion_total_is_dose_times_bsa"),
        ("dose_mg_per_m2 = 40", "lymphodepletion_total_is_dose_times_bsa"),
        ("body_surface_area_m2 = 4, total_dose_mg = 120", "lymphodepletion_bsa_in_human_range"),
        ("body_surface_area_m2 = 0.1, total_dose_mg = 3", "lymphodepletion_bsa_in_human_range"),
        ("dose_mg_per_m2 = 0, total_dose_mg = 0", "lymphodepletion_dose_in_range"),
    ],
)
def test_the_app_role_cannot_store_a_dose_that_does_not_add_up(app_db, dose, assignments, check):  # noqa: F811
    with pytest.raises(errors.CheckViolation, match=check):
        app_db((f"UPDATE {DOSES} SET {assignments} WHERE id = %s", [dose.pk]))
    assert LymphodepletionDose.objects.get(pk=dose.pk).total_dose_mg == Decimal("55.5")


def test_the_app_role_may_store_a_consistent_change(app_db, dose):  # noqa: F811
    app_db(
        (
            f"UPDATE {DOSES} SET dose_mg_per_m2 = 25, total_dose_mg = 46.3 WHERE id = %s",
            [dose.pk],
        )
    )
    assert LymphodepletionDose.objects.get(pk=dose.pk).total_dose_mg == Decimal("46.3")


def test_the_app_role_cannot_give_an_agent_twice_a_day(app_db, dose):  # noqa: F811
    with pytest.raises(errors.UniqueViolation, match="lymphodepletion_one_dose_of_an_agent_a_day"):
        app_db(
            (
                f"INSERT INTO {DOSES} (recipient_id, agent, dose_mg_per_m2, body_surface_area_m2,"
                " total_dose_mg, given_on, given_by_id, recorded_by_id, recorded_at)"
                " SELECT recipient_id, agent, dose_mg_per_m2, body_surface_area_m2,"
                " total_dose_mg, given_on, given_by_id, recorded_by_id, recorded_at"
                f" FROM {DOSES} WHERE id = %s",
                [dose.pk],
            )
        )
