"""The audit trail catches every path that writes, and nobody can rewrite it (PostgreSQL)."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from batches.models import CordBloodUnit, LotStatus, ReagentLot, Recipient
from batches.services import donor, materials, recipients
from carnk_mfg.audit import audited, trail_context_for_copy
from carnk_mfg.dbroles import grant_app_role, trail_tables, trail_trigger_functions
from carnk_mfg.models import ElectronicSignature
from qc.models import QcTest
from tests.factories import (
    PASSWORD,
    CordBloodUnitFactory,
    ReagentLotFactory,
    RecipientFactory,
    UserFactory,
    certificate_for,
    check_char,
    make_din,
)

pytestmark = pytest.mark.django_db(transaction=False)

CbuEvent = apps.get_model("batches", "CordBloodUnitEvent")
QcTestEvent = apps.get_model("qc", "QcTestEvent")
LotEvent = apps.get_model("batches", "ReagentLotEvent")
RecipientEvent = apps.get_model("batches", "RecipientEvent")


def events(event_model, obj):
    return list(event_model.objects.filter(pgh_obj_id=obj.pk).order_by("pgh_id"))


@pytest.mark.clause("21 CFR 11.10(e)")
def test_service_write_records_who_why_and_new_values(qa):
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    donor.cord_blood_unit_determine_eligibility(
        actor=qa, password=PASSWORD, unit=unit, eligibility="eligible", notes=""
    )
    last = events(CbuEvent, unit)[-1]
    assert last.pgh_label == "update"
    assert last.eligibility == "eligible" and last.status == "available"
    assert last.pgh_context["actor_name"] == qa.username
    assert last.pgh_context["actor_kind"] == "user"
    assert last.pgh_context["reason"] == "Donor eligibility determined: eligible"


@pytest.mark.clause("21 CFR 11.10(e)")
def test_old_and_new_values_are_readable_as_a_diff(technician, qa):
    unit = CordBloodUnitFactory.create()
    donor.cord_blood_unit_move(
        actor=technician,
        unit=unit,
        freezer="LN2-09",
        rack="R1",
        box="B2",
        position="C3",
        reason="Freezer LN2-01 defrost",
    )
    from carnk_mfg.audit import audit_history

    diffs = [e.pgh_diff for e in audit_history(unit) if e.pgh_label == "update"]
    assert diffs[-1]["freezer"] == ["LN2-01", "LN2-09"]
    assert diffs[-1]["position"] == ["A4", "C3"]


@pytest.mark.clause("21 CFR 11.10(e)")
def test_api_write_is_captured_with_the_api_user(api, clinical):
    recipient = RecipientFactory.create()
    response = api.as_user(clinical).patch(
        f"/api/v1/recipients/{recipient.subject_id}/",
        {"dose_level": "DL3", "reason": "Escalated by safety committee"},
        format="json",
    )
    assert response.status_code == 200, response.content
    last = events(RecipientEvent, recipient)[-1]
    assert last.dose_level == "DL3"
    assert last.pgh_context["actor_name"] == clinical.username
    assert last.pgh_context["reason"] == "Escalated by safety committee"
    assert last.pgh_context["url"] == f"/api/v1/recipients/{recipient.subject_id}/"


def test_admin_action_is_captured_with_the_admin_user(client, qa):
    """A GMP action in the admin console (QA's, not the administrator's) is trailed too."""
    admin_user = qa
    admin_user.is_staff = True
    admin_user.save()
    lot = ReagentLotFactory.create()
    client.force_login(admin_user)
    response = client.post(
        "/admin/batches/reagentlot/",
        {
            "action": "action__quarantine_lot",
            "_selected_action": [lot.pk],
            "apply": "1",
            "reason": "Supplier recall 2026-14",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    lot.refresh_from_db()
    assert lot.status == LotStatus.QUARANTINED
    last = events(LotEvent, lot)[-1]
    assert last.status == "quarantined"
    assert last.pgh_context["actor_name"] == admin_user.username
    assert last.pgh_context["reason"] == "Supplier recall 2026-14"
    assert last.pgh_context["url"] == "/admin/batches/reagentlot/"


def test_queryset_update_is_captured():
    lots = ReagentLotFactory.create_batch(3)
    ReagentLot.objects.filter(pk__in=[x.pk for x in lots]).update(manufacturer="Other Inc")
    for lot in lots:
        assert events(LotEvent, lot)[-1].manufacturer == "Other Inc"
        assert events(LotEvent, lot)[-1].pgh_label == "update"


def test_bulk_create_is_captured():
    user = UserFactory.create()
    now = timezone.now()
    created = Recipient.objects.bulk_create(
        [
            Recipient(
                subject_id=f"BULK-{n}", diagnosis="CLL", registered_by=user, registered_at=now
            )
            for n in range(5)
        ]
    )
    assert (
        RecipientEvent.objects.filter(
            pgh_obj_id__in=[r.pk for r in created], pgh_label="insert"
        ).count()
        == 5
    )


def test_the_tables_written_in_bulk_are_trailed_once_per_statement():
    """Readings, counts, QC tests and their alerts: one trigger call per statement (from its
    transition table); every other tracked table once per row (tgtype bit 0)."""
    per_statement = {"batches_cellcount", "qc_instrumentreading", "qc_qctest", "qc_qcalert"}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgtype & 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = ANY(%s)",
            [trail_trigger_functions()],
        )
        levels = cursor.fetchall()
    assert len(levels) == len(trail_trigger_functions())
    assert {table for table, row in levels if not row} == per_statement


@pytest.mark.clause("21 CFR 11.10(e)")
def test_a_bulk_update_trails_each_changed_row_with_who_and_why(in_qc_batch, qa):
    tests = list(in_qc_batch.qc_tests.order_by("pk"))
    QcTest.objects.filter(pk=tests[0].pk).update(due_at=F("due_at") + timedelta(days=1))
    with audited(actor=qa, reason="Samples held at the courier"):
        QcTest.objects.filter(pk__in=[t.pk for t in tests[:3]]).update(
            due_at=tests[0].due_at + timedelta(days=1)
        )
    events = QcTestEvent.objects.filter(pgh_context__reason="Samples held at the courier")
    # The first test already had that due time: only the two that changed are trailed.
    assert sorted(e.pgh_obj_id for e in events) == [tests[1].pk, tests[2].pk]
    assert {(e.pgh_label, e.pgh_context["actor_name"]) for e in events} == {("update", qa.username)}


@pytest.mark.clause("21 CFR 11.10(e)")
def test_a_copy_of_many_rows_trails_each_row_with_who_and_why(qa):
    """COPY, the fastest bulk path, passes through the same trail triggers."""
    model = RecipientFactory.create()
    columns = [str(f.column) for f in Recipient._meta.concrete_fields if not f.primary_key]
    picked = ", ".join("'COPY-' || n" if c == "subject_id" else f'"{c}"' for c in columns)
    rows = io.StringIO()
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY (SELECT {picked} FROM batches_recipient, generate_series(1, 50) n"
            f" WHERE id = {model.pk:d}) TO STDOUT",
            rows,
        )
    rows.seek(0)
    with audited(actor=qa, reason="Registry import"), connection.cursor() as cursor:
        trail_context_for_copy(cursor)
        cursor.cursor.copy_expert(f"COPY batches_recipient ({', '.join(columns)}) FROM STDIN", rows)
    trailed = RecipientEvent.objects.filter(subject_id__startswith="COPY-", pgh_label="insert")
    assert trailed.count() == 50
    assert {e.pgh_context["reason"] for e in trailed} == {"Registry import"}
    assert {e.pgh_context["actor_name"] for e in trailed} == {qa.username}


def test_an_update_trails_only_the_rows_it_changed():
    lots = ReagentLotFactory.create_batch(3)
    ReagentLot.objects.filter(pk=lots[0].pk).update(manufacturer="Other Inc")
    ReagentLot.objects.filter(pk__in=[x.pk for x in lots]).update(manufacturer="Other Inc")
    updates = LotEvent.objects.filter(pgh_obj_id__in=[x.pk for x in lots], pgh_label="update")
    assert sorted(e.pgh_obj_id for e in updates) == sorted([lots[0].pk, lots[1].pk, lots[2].pk])


@pytest.mark.clause("21 CFR 11.10(e)")
def test_raw_sql_update_and_delete_are_captured():
    lot = ReagentLotFactory.create()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE batches_reagentlot SET manufacturer = 'Raw SQL' WHERE id = %s", [lot.pk]
        )
        cursor.execute("DELETE FROM batches_reagentlot WHERE id = %s", [lot.pk])
    labels = [(e.pgh_label, e.manufacturer) for e in events(LotEvent, lot)]
    assert labels == [("insert", "Acme Bio"), ("update", "Raw SQL"), ("delete", "Raw SQL")]


@pytest.mark.clause("21 CFR 11.10(e)")
def test_trail_time_is_wall_clock_not_transaction_start():
    lot = ReagentLotFactory.create()
    with transaction.atomic():
        ReagentLot.objects.filter(pk=lot.pk).update(manufacturer="A")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.05)")
        ReagentLot.objects.filter(pk=lot.pk).update(manufacturer="B")
    first, second = events(LotEvent, lot)[-2:]
    assert second.pgh_created_at - first.pgh_created_at >= timedelta(milliseconds=50)


def test_form_write_is_captured(client, technician):
    """The web form goes through the same service; its trail row names the user and URL."""
    client.force_login(technician)
    response = client.post(
        "/lots/new/reagent/",
        {
            "lot_number": "IL2-FORM-1",
            "manufacturer": "Clinigen",
            "received_on": timezone.localdate().isoformat(),
            "expiry_date": (timezone.localdate() + timedelta(days=90)).isoformat(),
            "reagent": "il2",
            "description": "",
            "quantity_received": "20",
            "unit": "vial",
            "reason": "Received from stores",
        },
    )
    assert response.status_code in (302, 303), response.content[:3000]
    lot = ReagentLot.objects.get(lot_number="IL2-FORM-1")
    first = events(LotEvent, lot)[0]
    assert first.pgh_label == "insert"
    assert first.pgh_context["actor_name"] == technician.username
    assert first.pgh_context["url"] == "/lots/new/reagent/"


# --- the trail cannot be rewritten ---


@pytest.mark.clause("21 CFR 11.10(e)")
@pytest.mark.parametrize("statement", ["UPDATE {t} SET pgh_label = 'forged'", "DELETE FROM {t}"])
def test_trail_rows_refuse_update_and_delete_even_for_the_owner(statement):
    ReagentLotFactory.create()
    with pytest.raises(DatabaseError, match="Cannot (update|delete)|protect"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(t=LotEvent._meta.db_table))
    assert LotEvent.objects.filter(pgh_label="forged").count() == 0
    assert LotEvent.objects.count() == 1


@pytest.mark.clause("21 CFR 11.70")
def test_signatures_refuse_update_and_delete(qa):
    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    donor.cord_blood_unit_determine_eligibility(
        actor=qa, password=PASSWORD, unit=unit, eligibility="eligible", notes=""
    )
    signature = ElectronicSignature.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        ElectronicSignature.objects.filter(pk=signature.pk).update(printed_name="Someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        signature.delete()
    signature.refresh_from_db()
    assert signature.printed_name == qa.get_full_name()


@pytest.mark.parametrize(
    "attempt",
    [
        "UPDATE {t} SET pgh_label = 'forged'",
        "DELETE FROM {t}",
        "ALTER TABLE {t} DISABLE TRIGGER ALL",
        "DROP TABLE {t}",
    ],
)
def test_app_role_cannot_switch_off_or_bypass_the_protection(attempt):
    """As the production role, even telling pgtrigger to ignore its trigger does not help:
    the role lacks the privilege, and it does not own the table to drop the trigger."""
    ReagentLotFactory.create()
    grant_app_role("carnk_app")
    table = LotEvent._meta.db_table
    assert table in trail_tables()
    with pytest.raises(DatabaseError, match="permission denied|must be owner"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL ROLE carnk_app")
            cursor.execute(
                "SELECT set_config('pgtrigger.ignore', %s, true)", ["{pgtrigger_append_only_all}"]
            )
            cursor.execute(attempt.format(t=table))
    assert LotEvent.objects.count() == 1


def test_app_role_can_still_do_its_work():
    """The same role can write GMP records, and so append to the trail."""
    user = UserFactory.create()
    grant_app_role("carnk_app")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE carnk_app")
        ReagentLot.objects.create(
            lot_number="ROLE-1",
            manufacturer="x",
            received_on=timezone.localdate(),
            expiry_date=timezone.localdate(),
            reagent="il2",
            registered_by=user,
            registered_at=timezone.now(),
        )
        cursor.execute(f"SELECT count(*) FROM {LotEvent._meta.db_table}")
        assert cursor.fetchone()[0] == 1


def test_registration_through_service_signs_and_trails(technician):
    din = make_din(777)
    unit = donor.cord_blood_unit_register(
        actor=technician,
        password=PASSWORD,
        din=din,
        check_character=check_char(din),
        product_code="S1145V00",
        source_bank="Bank",
        collected_at=timezone.now() - timedelta(days=3),
        cryopreserved_at=timezone.now() - timedelta(days=3) + timedelta(hours=5),
        volume_ml=Decimal("20"),
        tnc_count=1e9,
        cd34_count=1e6,
        nrbc_count=1e7,
        viability_pct=Decimal("90"),
        freezer="F",
        rack="R",
        box="B",
        position="P",
    )
    assert CordBloodUnit.objects.filter(din=din).exists()
    ev = events(CbuEvent, unit)
    assert [e.pgh_label for e in ev] == ["insert"]
    assert ev[0].pgh_context["reason"] == "Cord blood unit received and registered"
    assert (
        ElectronicSignature.objects.filter(object_id=str(unit.pk), meaning="performed").count() == 1
    )


def test_material_and_recipient_services_trail(technician, clinical, qa):
    lot = materials.material_lot_register(
        actor=technician,
        kind="reagent",
        lot_number="RN-1",
        manufacturer="Takara",
        received_on=timezone.localdate(),
        expiry_date=timezone.localdate() + timedelta(days=9),
        reagent="retronectin",
        quantity_received=Decimal("10"),
    )
    certificate_for(lot, technician)
    materials.material_lot_disposition(
        actor=qa, password=PASSWORD, lot=lot, status="released", reason="CoA ok"
    )
    assert [e.status for e in events(LotEvent, lot)] == ["quarantined", "released"]
    r = recipients.recipient_register(
        actor=clinical,
        subject_id="S-1",
        diagnosis="NHL",
        weight_kg=Decimal("70"),
        weight_measured_on=timezone.localdate(),
    )
    assert events(RecipientEvent, r)[0].pgh_context["reason"] == "Recipient enrolled"
