"""Logged in as the application's own database role, nobody can switch the trail or the
database's guards off, write the trail directly, back-date a signature, or empty the trail.

Each test opens a second, real connection that logs in as that role, as production does; the
rows a test sets up are committed first (transactional tests), so that connection sees them.
"""

from datetime import timedelta

import pgtrigger
import psycopg2
import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg2 import errors

from batches.models import Batch, ProcessTemplate, ReagentLot, ReleaseDecision
from carnk_mfg.dbroles import TRUNCATE_GUARD, grant_app_role, trail_tables
from carnk_mfg.models import ElectronicSignature, SignatureFailure
from tests.factories import CordBloodUnitFactory, ReagentLotFactory, UserFactory, make_din

pytestmark = pytest.mark.django_db(transaction=True)

APP_ROLE = "carnk_app_test"
APP_PASSWORD = "app-role-test-password"

LotEvent = apps.get_model("batches", "ReagentLotEvent")
LOT_EVENTS = LotEvent._meta.db_table
SIGNATURES = ElectronicSignature._meta.db_table
FAILURES = SignatureFailure._meta.db_table
SIGN = (
    "SELECT carnk_mfg_insert_signature(%s, 'Q. A.', 'released', %s, '7', 'Batch 7', 'record',"
    " 'abc', '{}', '')"
)


def pgid(uri: str) -> str:
    """The name a pgtrigger trigger has in the database (what pgtrigger.ignore lists)."""
    ((model, trigger),) = pgtrigger.registered(uri)
    return trigger.get_pgid(model)


def ignoring(*names: str):
    """The statement that tells pgtrigger to skip the named triggers in this transaction."""
    return ("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(names) + "}"])


def every_trigger() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return [name for (name,) in cursor.fetchall()]


@pytest.fixture
def app_db():
    """A connection logged in as the application's role. `app_db(*statements)` runs them in
    one transaction (each SQL text or (SQL, params)) and returns each one's rows."""
    grant_app_role(APP_ROLE, password=APP_PASSWORD)
    settings = connection.settings_dict
    conn = psycopg2.connect(
        host="127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=APP_ROLE,
        password=APP_PASSWORD,
    )

    def run(*statements):
        results = []
        with conn, conn.cursor() as cursor:  # commits, or rolls back on an error
            for statement in statements:
                sql, params = statement if isinstance(statement, tuple) else (statement, None)
                cursor.execute(sql, params)
                results.append(cursor.fetchall() if cursor.description else None)
        return results

    yield run
    conn.close()


def test_the_connection_is_the_app_role_and_no_superuser(app_db):
    (rows,) = app_db("SELECT session_user, usesuper FROM pg_user WHERE usename = session_user")
    assert rows == [(APP_ROLE, False)]


# --- pgtrigger.ignore is heard from the owner alone ---


def test_the_owner_may_still_tell_a_trigger_to_skip_itself():
    """Data repairs keep pgtrigger's behaviour; this also shows the names used below work."""
    lot = ReagentLotFactory.create(status="quarantined")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(*ignoring(pgid("batches.ReagentLot:update_update")))
        cursor.execute("UPDATE batches_reagentlot SET status = 'released' WHERE id = %s", [lot.pk])
    assert not LotEvent.objects.filter(pgh_obj_id=lot.pk, pgh_label="update").exists()


def test_ignoring_the_trail_trigger_does_not_keep_a_lot_release_out_of_the_trail(app_db):
    lot = ReagentLotFactory.create(status="quarantined")
    app_db(
        ignoring(pgid("batches.ReagentLot:update_update")),
        ("SELECT set_config('pghistory.context_metadata', %s, true)", ['{"reason": "quiet"}']),
        ("UPDATE batches_reagentlot SET status = 'released' WHERE id = %s", [lot.pk]),
    )
    assert ReagentLot.objects.get(pk=lot.pk).status == "released"
    event = LotEvent.objects.get(pgh_obj_id=lot.pk, pgh_label="update")
    assert event.status == "released"
    assert event.pgh_context == {"reason": "quiet"}


def test_ignoring_every_trigger_does_not_keep_a_change_out_of_the_trail(app_db):
    lot = ReagentLotFactory.create(status="quarantined")
    app_db(
        ignoring(*every_trigger()),
        ("UPDATE batches_reagentlot SET manufacturer = 'Quiet' WHERE id = %s", [lot.pk]),
    )
    assert LotEvent.objects.filter(pgh_obj_id=lot.pk, manufacturer="Quiet").count() == 1


@pytest.fixture
def held_batch(approved_template, qa):
    """A batch put on hold while planned, with a release decision already on record, so the
    state machine alone stands between it and 'released'."""
    now = timezone.now()
    batch = Batch.objects.create(
        lot_number="CARNK-ROLE-1",
        source_unit=CordBloodUnitFactory.create(),
        template=approved_template,
        din=make_din(990001),
        unit_fraction_used_pct=100,
        state="planned",
        state_changed_at=now,
        created_by=qa,
        created_at=now,
    )
    Batch.objects.filter(pk=batch.pk).update(state="on_hold", held_from_state="planned")
    ReleaseDecision.objects.create(
        batch=batch, decision="release", reason="fixture", decided_by=qa, decided_at=now
    )
    return batch


def test_ignoring_the_state_machine_does_not_release_a_held_batch(app_db, held_batch):
    with pytest.raises(errors.RaiseException, match='Invalid transition of field "state"'):
        app_db(
            ignoring(pgid("batches.Batch:lifecycle")),
            ("UPDATE batches_batch SET state = 'released' WHERE id = %s", [held_batch.pk]),
        )
    assert Batch.objects.get(pk=held_batch.pk).state == "on_hold"


def test_ignoring_every_batch_guard_does_not_release_without_a_decision(app_db, held_batch):
    ReleaseDecision.objects.filter(batch=held_batch).delete()
    Batch.objects.filter(pk=held_batch.pk).update(state="in_qc", held_from_state="")
    with pytest.raises(errors.RaiseException, match="without a release decision"):
        app_db(
            ignoring(*every_trigger()),
            ("UPDATE batches_batch SET state = 'released' WHERE id = %s", [held_batch.pk]),
        )
    assert Batch.objects.get(pk=held_batch.pk).state == "in_qc"


def test_ignoring_the_freeze_does_not_rename_an_approved_template(app_db, approved_template):
    with pytest.raises(errors.RaiseException, match="Cannot update rows"):
        app_db(
            ignoring(pgid("batches.ProcessTemplate:frozen_once_approved")),
            (
                "UPDATE batches_processtemplate SET name = 'Renamed' WHERE id = %s",
                [approved_template.pk],
            ),
        )
    assert ProcessTemplate.objects.get(pk=approved_template.pk).name == approved_template.name


# --- the trail is written only by the owner's triggers and functions ---


@pytest.mark.clause("21 CFR 11.10(e)")
@pytest.mark.parametrize(
    "table, columns, values",
    [
        (
            LOT_EVENTS,
            "pgh_created_at, pgh_label, pgh_obj_id, id, lot_number, manufacturer, received_on,"
            " expiry_date, status, registered_at, registered_by_id, reagent, description",
            "now(), 'update', 1, 1, 'L', 'M', now(), now(), 'released', now(), 1, 'il2', ''",
        ),
        (
            SIGNATURES,
            "signer_id, printed_name, signed_at, meaning, content_type_id, object_id,"
            " record_label, attests, record_sha256, record_content, comment",
            "1, 'Q. A.', now() - interval '30 days', 'released', 1, '1', 'Batch', 'record',"
            " 'abc', '{}', ''",
        ),
        (
            FAILURES,
            "username, attempted_at, meaning, record_label, cause",
            "'qa1', now(), 'released', 'Batch', 'forged'",
        ),
    ],
)
def test_the_app_role_cannot_insert_trail_rows(app_db, table, columns, values):
    with pytest.raises(errors.InsufficientPrivilege, match=f"permission denied for table {table}"):
        app_db(ignoring(*every_trigger()), f"INSERT INTO {table} ({columns}) VALUES ({values})")


def test_a_signature_carries_the_database_clock_at_writing(app_db, qa):
    """Not the transaction's start, and not anything the caller says: the function takes no
    time at all."""
    batch_type = ContentType.objects.get_for_model(Batch).pk
    started, _, before, ((signature_id,),), after = app_db(
        "SELECT now()",
        "SELECT pg_sleep(0.05)",
        "SELECT clock_timestamp()",
        (SIGN, [qa.pk, batch_type]),
        "SELECT clock_timestamp()",
    )
    signature = ElectronicSignature.objects.get(pk=signature_id)
    assert before[0][0] <= signature.signed_at <= after[0][0]
    assert signature.signed_at - started[0][0] >= timedelta(milliseconds=50)
    assert (signature.signer, signature.meaning) == (qa, "released")
    with pytest.raises(errors.UndefinedFunction):
        app_db(
            (
                SIGN.replace("'')", "'', now() - interval '30 days')"),
                [qa.pk, batch_type],
            )
        )


def test_a_refused_signing_attempt_carries_the_database_clock(app_db, qa):
    before, ((failure_id,),), after = app_db(
        "SELECT clock_timestamp()",
        (
            "SELECT carnk_mfg_insert_signature_failure(%s, %s, 'released', 'Batch 7',"
            " 'wrong password', '10.0.0.7')",
            [qa.pk, qa.username],
        ),
        "SELECT clock_timestamp()",
    )
    failure = SignatureFailure.objects.get(pk=failure_id)
    assert before[0][0] <= failure.attempted_at <= after[0][0]
    assert (failure.user, failure.ip_address) == (qa, "10.0.0.7")


@pytest.mark.clause("21 CFR 11.70")
@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {SIGNATURES} SET signed_at = signed_at - interval '30 days'",
        f"DELETE FROM {SIGNATURES}",
    ],
)
def test_a_signature_cannot_be_changed_or_removed_afterwards(app_db, qa, statement):
    batch_type = ContentType.objects.get_for_model(Batch).pk
    app_db((SIGN, [qa.pk, batch_type]))
    signed_at = ElectronicSignature.objects.get().signed_at
    with pytest.raises(errors.InsufficientPrivilege):
        app_db(ignoring(*every_trigger()), statement)
    with pytest.raises(DatabaseError, match="Cannot (update|delete)"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert ElectronicSignature.objects.get().signed_at == signed_at


def test_only_the_app_role_may_call_the_signature_functions(app_db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r, has_function_privilege(r, p, 'EXECUTE') FROM unnest(ARRAY[%s, 'public']) r,"
            " unnest(ARRAY['carnk_mfg_insert_signature', 'carnk_mfg_insert_signature_failure']) n,"
            " LATERAL (SELECT oid FROM pg_proc WHERE proname = n) p(p)",
            [APP_ROLE],
        )
        may = sorted(cursor.fetchall())
    assert may == [(APP_ROLE, True), (APP_ROLE, True), ("public", False), ("public", False)]


# --- nobody empties the trail ---


def test_every_trail_table_has_the_truncate_guard():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = %s AND t.tgenabled = 'O'",
            [TRUNCATE_GUARD],
        )
        guarded = {name for (name,) in cursor.fetchall()}
    assert set(trail_tables()) <= guarded
    assert len(trail_tables()) > 30


@pytest.mark.parametrize("table", [LOT_EVENTS, SIGNATURES, FAILURES])
def test_truncate_is_refused_to_the_app_role_and_to_the_owner(app_db, qa, table):
    ReagentLotFactory.create()
    app_db((SIGN, [qa.pk, ContentType.objects.get_for_model(Batch).pk]))
    with pytest.raises(errors.InsufficientPrivilege):
        app_db(ignoring(*every_trigger()), f"TRUNCATE {table}")
    with pytest.raises(DatabaseError, match=f"append-only: TRUNCATE of {table} is refused"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
    assert LotEvent.objects.count() == 1
    assert ElectronicSignature.objects.count() == 1


# --- the app role cannot take the guards away ---


@pytest.mark.parametrize(
    "attempt",
    [
        "ALTER TABLE batches_reagentlot DISABLE TRIGGER ALL",
        f"ALTER TABLE {LOT_EVENTS} DISABLE TRIGGER {TRUNCATE_GUARD}",
        "DROP TRIGGER {lifecycle} ON batches_batch",
        f"DROP TRIGGER {TRUNCATE_GUARD} ON {SIGNATURES}",
        'CREATE OR REPLACE FUNCTION "public"._pgtrigger_should_ignore(trigger_name NAME)'
        " RETURNS BOOLEAN AS $$ SELECT TRUE $$ LANGUAGE sql",
        "SET session_replication_role = replica",
        # A temporary table named like a real one would be read in its place by a guard.
        "CREATE TEMPORARY TABLE batches_releasedecision (batch_id bigint, decision text)",
    ],
)
def test_the_app_role_cannot_take_a_guard_away(app_db, attempt):
    with pytest.raises(errors.InsufficientPrivilege):
        app_db(attempt.format(lifecycle=pgid("batches.Batch:lifecycle")))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = %s", [TRUNCATE_GUARD])
        assert cursor.fetchone()[0] == len(trail_tables())
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgenabled = 'D'")
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT prosrc LIKE '%%SESSION_USER%%' FROM pg_proc"
            " WHERE proname = '_pgtrigger_should_ignore'"
        )
        assert cursor.fetchone()[0] is True


def test_a_temporary_table_does_not_catch_the_trail_row():
    """The trail's trigger functions look only in the real schema (even for the owner, who
    may create temporary tables)."""
    lot = ReagentLotFactory.create()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {LOT_EVENTS} (LIKE public.{LOT_EVENTS})")
        cursor.execute(
            "UPDATE batches_reagentlot SET manufacturer = 'Temp' WHERE id = %s", [lot.pk]
        )
        cursor.execute(f"SELECT count(*) FROM pg_temp.{LOT_EVENTS}")
        assert cursor.fetchone()[0] == 0
        cursor.execute(f"DROP TABLE pg_temp.{LOT_EVENTS}")
    assert LotEvent.objects.filter(pgh_obj_id=lot.pk, manufacturer="Temp").count() == 1


# --- and it can still do its work ---


def test_the_app_role_writes_records_and_they_are_trailed(app_db):
    user = UserFactory.create()
    today = timezone.localdate()
    _, ((lot_id,),), _ = app_db(
        ("SELECT set_config('pghistory.context_metadata', %s, true)", ['{"reason": "received"}']),
        (
            "INSERT INTO batches_reagentlot (lot_number, manufacturer, received_on, expiry_date,"
            " status, status_reason, registered_at, registered_by_id, reagent, description,"
            " quantity_received, quantity_on_hand, unit)"
            " VALUES ('ROLE-1', 'Takara', %s, %s, 'quarantined', '', now(), %s, 'il2', '',"
            " 10, 10, 'vial')"
            " RETURNING id",
            [today, today + timedelta(days=90), user.pk],
        ),
        "UPDATE batches_reagentlot SET status = 'released' WHERE lot_number = 'ROLE-1'",
    )
    events = LotEvent.objects.filter(pgh_obj_id=lot_id).order_by("pgh_id")
    assert [(e.pgh_label, e.status) for e in events] == [
        ("insert", "quarantined"),
        ("update", "released"),
    ]
    assert events[0].pgh_context == {"reason": "received"}


@pytest.fixture
def django_as_app_role(app_db):
    """Django's own connection, logged in as the application's role for the test's body."""
    settings = connection.settings_dict
    saved = {key: settings[key] for key in ("USER", "PASSWORD", "HOST")}
    connection.close()
    settings.update(USER=APP_ROLE, PASSWORD=APP_PASSWORD, HOST="127.0.0.1")
    try:
        yield
    finally:
        connection.close()
        settings.update(saved)


def test_the_signature_service_works_as_the_app_role(qa, django_as_app_role):
    from batches.services import donor
    from tests.factories import PASSWORD

    unit = CordBloodUnitFactory.create(eligibility="pending", status="received")
    with pytest.raises(ValidationError):
        donor.cord_blood_unit_determine_eligibility(
            actor=qa, password="wrong", unit=unit, eligibility="eligible", notes=""
        )
    donor.cord_blood_unit_determine_eligibility(
        actor=qa, password=PASSWORD, unit=unit, eligibility="eligible", notes=""
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_user")
        assert cursor.fetchone()[0] == APP_ROLE
    (signature,) = ElectronicSignature.objects.filter(object_id=str(unit.pk))
    assert (signature.signer, signature.meaning) == (qa, "approved")
    assert signature.record_content["eligibility"] == "eligible"
    assert SignatureFailure.objects.get().username == qa.username
    unit_events = apps.get_model("batches", "CordBloodUnitEvent").objects.filter(pgh_obj_id=unit.pk)
    assert unit_events.filter(eligibility="eligible", pgh_context__actor_name=qa.username).exists()
