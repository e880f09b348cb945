"""Logged in as the application's own role, the database refuses a lot with less than nothing
on hand; and two steps drawing a lot's last units at once on real PostgreSQL: exactly one
gets them."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from psycopg2 import errors

from batches.models import Batch, MaterialUse, ReagentLot
from batches.services import batch_record
from batches.services.batch_record import batch_create
from batches.services.lifecycle import batch_transition
from tests.batch_steps import planned_days_ago, step_payloads
from tests.db.test_app_role import app_db  # noqa: F401  (the fixture: a connection as the app role)
from tests.factories import PASSWORD, CordBloodUnitFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("table", ["batches_vectorlot", "batches_feederlot", "batches_reagentlot"])
def test_the_app_role_cannot_leave_a_lot_below_nothing(app_db, lots, table):  # noqa: F811
    with pytest.raises(errors.CheckViolation, match="on_hand_not_negative"):
        app_db((f"UPDATE {table} SET quantity_on_hand = -1", None))
    app_db((f"UPDATE {table} SET quantity_on_hand = 0", None))  # empty is allowed


def test_two_steps_drawing_the_last_units_one_succeeds(technician, approved_template, lots):
    ReagentLot.objects.filter(lot_number="ISO-1").update(quantity_on_hand=Decimal("10"))
    batches = []
    for _ in range(2):
        with planned_days_ago(30):
            batch = batch_create(
                actor=technician,
                source_unit=CordBloodUnitFactory.create(),
                template=approved_template,
                unit_fraction_used_pct=Decimal("100"),
            )
        batches.append(
            batch_transition(actor=technician, batch=batch, to_state="in_process", reason="go")
        )
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(batch):
        code, at, values, _m = step_payloads(
            timezone.now() - timedelta(days=20), din=batch.source_unit.din
        )[0]
        try:
            barrier.wait()
            batch_record.step_record(
                actor=technician,
                password=PASSWORD,
                batch=Batch.objects.get(pk=batch.pk),
                template_step=batch.template.steps.get(code=code),
                performed_at=at,
                values=values,
                materials=[{"kind": "reagent", "lot_number": "ISO-1", "quantity": "8"}],
            )
            outcomes.append("drawn")
        except Exception as exc:  # noqa: BLE001 - the loser's refusal is what is counted
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("drawn") == 1, outcomes
    (refused,) = [o for o in outcomes if o != "drawn"]
    assert "Reagent lot ISO-1 has 2 mL on hand" in refused
    assert ReagentLot.objects.get(lot_number="ISO-1").quantity_on_hand == Decimal("2")
    assert MaterialUse.objects.filter(reagent_lot__lot_number="ISO-1").count() == 1
