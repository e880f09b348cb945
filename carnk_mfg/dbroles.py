"""The application's database role, which cannot rewrite the trail (21 CFR 11.10(e)).

Two locks guard the trail tables (pghistory event tables, signatures, refused signatures):
1. a pgtrigger `Protect` trigger on each refuses UPDATE and DELETE, whoever asks;
2. in production the app connects as APP_DB_ROLE, which does not own those tables and holds
   only SELECT and INSERT on them. Without ownership it cannot drop or disable the trigger,
   and without the privilege its UPDATE or DELETE fails even if it sets `pgtrigger.ignore`.
Migrations run as the owning role (the one in DATABASE_URL during deploys).
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection

from carnk_mfg.models import ElectronicSignature, SignatureFailure


def trail_tables() -> list[str]:
    """Every table whose rows are audit trail: append-only for the application."""
    from pghistory.models import Event

    tables = {ElectronicSignature._meta.db_table, SignatureFailure._meta.db_table}
    for model in apps.get_models():
        if issubclass(model, Event) and not model._meta.proxy and model._meta.managed:
            tables.add(model._meta.db_table)
    return sorted(tables)


def grant_app_role(role: str, *, password: str | None = None) -> None:
    """Create `role` if needed and give it exactly the rights the application needs."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
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
                cursor.execute(f"GRANT SELECT, INSERT ON {qn(table)} TO {qn(role)}")
            else:
                cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {qn(table)} TO {qn(role)}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {qn(role)}")
