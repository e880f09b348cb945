"""The application's database role, and the database's own guard on the audit trail
(21 CFR 11.10(e)). Migrations run as the owning role (the one in DATABASE_URL during deploys);
the application runs as APP_DB_ROLE, which owns nothing. For that role:

1. No trigger can be told to skip itself. pgtrigger's triggers obey `SET pgtrigger.ignore`,
   which any role may set; `_pgtrigger_should_ignore` is redefined to obey it only in a
   session logged in as the owning role (or a member of it), so data repairs keep it.
2. The trail is written only by the owner's code. The role holds SELECT alone on the trail
   tables; pghistory's trigger functions run as their owner (SECURITY DEFINER), so its
   ordinary writes are still trailed, and signatures and refused signing attempts go through
   two owner's functions that stamp the database's clock (migration 0004).
3. Trail rows are never changed or removed: pgtrigger `Protect` triggers refuse UPDATE and
   DELETE, and a statement trigger refuses TRUNCATE, whoever asks (only the owner may name
   them in pgtrigger.ignore, as `manage.py flush` does for the TRUNCATE guard).
4. Without ownership it can neither disable nor drop a trigger, nor redefine a function.
5. It may not create temporary tables: a temporary table named like a real one would be read
   instead of it by the guard triggers (a forged release decision, for one).

Every trigger install (pgtrigger) and every CREATE OR REPLACE FUNCTION undoes 1 and 2 for
what it touches, so `harden_trail` runs after every migrate (carnk_mfg.apps) and from
`grant_app_role`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pghistory.trigger
import pgtrigger
from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from pghistory.models import Event

from carnk_mfg.models import ElectronicSignature, SignatureFailure
from carnk_mfg.trail_writes import TRAIL_WRITER_FUNCTIONS

# The statement trigger on every trail table that refuses TRUNCATE.
TRUNCATE_GUARD = "trail_refuses_truncate"

# For the trail's trigger functions, which run as the owner: pg_temp last, so that no
# temporary table can catch a trail row.
TRAIL_SEARCH_PATH = "pg_catalog, public, pg_temp"

# Same signature as pgtrigger's own (every pgtrigger trigger calls it by this name). The
# setting is read first, so a session that sets nothing pays no more than before. The session
# user, not the current user: inside the trail's SECURITY DEFINER functions the current user
# is the owner.
_SHOULD_IGNORE = """
CREATE OR REPLACE FUNCTION "public"._pgtrigger_should_ignore(trigger_name NAME)
RETURNS BOOLEAN AS $$
    DECLARE
        _ignore TEXT := NULLIF(CURRENT_SETTING('pgtrigger.ignore', TRUE), '');
    BEGIN
        IF _ignore IS NULL OR NOT pg_has_role(SESSION_USER, %(owner)s, 'MEMBER') THEN
            RETURN FALSE;
        END IF;
        RETURN trigger_name = ANY(_ignore::TEXT[]);
    END;
$$ LANGUAGE plpgsql
"""

_REFUSE_TRUNCATE = """
CREATE OR REPLACE FUNCTION "public".carnk_mfg_refuse_truncate()
RETURNS TRIGGER AS $$
    BEGIN
        IF "public"._pgtrigger_should_ignore(TG_NAME) IS TRUE THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'The audit trail is append-only: TRUNCATE of % is refused.',
            TG_TABLE_NAME;
    END;
$$ LANGUAGE plpgsql
"""


def trail_tables() -> list[str]:
    """Every table whose rows are audit trail: append-only for the application."""
    tables = {ElectronicSignature._meta.db_table, SignatureFailure._meta.db_table}
    for model in apps.get_models():
        if issubclass(model, Event) and not model._meta.proxy and model._meta.managed:
            tables.add(model._meta.db_table)
    return sorted(tables)


def trail_trigger_functions() -> list[str]:
    """The functions of pghistory's triggers: each writes one trail row per change."""
    return sorted(
        trigger.get_pgid(model)
        for model, trigger in pgtrigger.registered()
        if isinstance(trigger, pghistory.trigger.Event)
    )


def harden_trail(using: str = DEFAULT_DB_ALIAS) -> None:
    """Put the guard described above back in place (idempotent; run as the owning role)."""
    qn = connections[using].ops.quote_name
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
        cursor.execute(_SHOULD_IGNORE, {"owner": owner})

        # CREATE OR REPLACE (each trigger install) resets a function to SECURITY INVOKER.
        cursor.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p"
            " WHERE p.pronamespace = 'public'::regnamespace AND p.proname = ANY(%s)"
            " AND NOT (p.prosecdef AND p.proconfig IS NOT DISTINCT FROM %s)",
            [trail_trigger_functions(), [f"search_path={TRAIL_SEARCH_PATH}"]],
        )
        for (function,) in cursor.fetchall():
            cursor.execute(
                f"ALTER FUNCTION {function} SECURITY DEFINER SET search_path = {TRAIL_SEARCH_PATH}"
            )

        cursor.execute(_REFUSE_TRUNCATE)
        # New event tables appear with new tracked models; each gets the guard here.
        cursor.execute(
            "SELECT c.relname FROM pg_class c"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
            " AND c.relname = ANY(%s) AND NOT EXISTS ("
            "   SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = %s)",
            [trail_tables(), TRUNCATE_GUARD],
        )
        for (table,) in cursor.fetchall():
            cursor.execute(
                f"CREATE TRIGGER {qn(TRUNCATE_GUARD)} BEFORE TRUNCATE ON {qn(table)}"
                ' FOR EACH STATEMENT EXECUTE FUNCTION "public".carnk_mfg_refuse_truncate()'
            )


@contextlib.contextmanager
def trail_truncate_allowed(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """One transaction in which the owning role may empty trail tables: only for emptying
    the whole database on purpose (`manage.py flush`, which tests run between cases)."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pgtrigger.ignore', %s, TRUE)", ["{" + TRUNCATE_GUARD + "}"]
        )
        yield


def grant_app_role(role: str, *, password: str | None = None) -> None:
    """Create `role` if needed and give it exactly the rights the application needs."""
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        owner, database = cursor.fetchone()
        if role == owner:
            raise ValueError(f"{role} owns the tables; the application needs a role of its own.")
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {qn(role)} NOLOGIN")  # noqa: S608 - quoted identifier
        if password:
            cursor.execute(f"ALTER ROLE {qn(role)} LOGIN PASSWORD %s", [password])
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {qn(role)}")
        trail = set(trail_tables())
        for table in connection.introspection.table_names(cursor):
            if table in trail:
                cursor.execute(f"REVOKE ALL ON {qn(table)} FROM {qn(role)}")
                cursor.execute(f"GRANT SELECT ON {qn(table)} TO {qn(role)}")
            else:
                cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {qn(table)} TO {qn(role)}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {qn(role)}")
        functions = ", ".join(f'"public".{name}' for name in TRAIL_WRITER_FUNCTIONS)
        cursor.execute(f"GRANT EXECUTE ON FUNCTION {functions} TO {qn(role)}")
        # Every role may create temporary tables unless PUBLIC loses the right.
        cursor.execute(f"REVOKE TEMPORARY ON DATABASE {qn(database)} FROM PUBLIC, {qn(role)}")
    harden_trail()


def may_create_temporary_tables(role: str) -> bool:
    """True if `role` still may (REVOKE needs the database's owner, which may be another)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_database_privilege(%s, current_database(), 'TEMPORARY')", [role])
        row = cursor.fetchone()
    return bool(row and row[0])
