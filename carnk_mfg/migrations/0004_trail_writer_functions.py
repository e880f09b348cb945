"""The only way the application writes a signature or a refused signing attempt.

The application's role holds no INSERT on those tables (carnk_mfg.dbroles); it calls these
functions, which run as the role that owns the tables (SECURITY DEFINER) and stamp the time
with the database's clock themselves, so nobody can choose or back-date it. EXECUTE is taken
from PUBLIC here and given to the application's role by `manage.py grant_app_role`.
"""

from django.db import migrations

# pg_temp last: a temporary table of the same name must never catch the row.
SEARCH_PATH = "pg_catalog, public, pg_temp"

INSERT_SIGNATURE = f"""
CREATE FUNCTION carnk_mfg_insert_signature(
    signer_id integer,
    printed_name text,
    meaning text,
    content_type_id integer,
    object_id text,
    record_label text,
    attests text,
    record_sha256 text,
    record_content jsonb,
    comment text
) RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = {SEARCH_PATH}
AS $$
    INSERT INTO carnk_mfg_electronicsignature (
        signer_id, printed_name, signed_at, meaning, content_type_id, object_id,
        record_label, attests, record_sha256, record_content, comment
    ) VALUES (
        signer_id, printed_name, clock_timestamp(), meaning, content_type_id, object_id,
        record_label, attests, record_sha256, record_content, comment
    )
    RETURNING id
$$;
REVOKE ALL ON FUNCTION carnk_mfg_insert_signature(
    integer, text, text, integer, text, text, text, text, jsonb, text
) FROM PUBLIC;
"""

INSERT_SIGNATURE_FAILURE = f"""
CREATE FUNCTION carnk_mfg_insert_signature_failure(
    user_id integer,
    username text,
    meaning text,
    record_label text,
    cause text,
    ip_address inet
) RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = {SEARCH_PATH}
AS $$
    INSERT INTO carnk_mfg_signaturefailure (
        user_id, username, attempted_at, meaning, record_label, cause, ip_address
    ) VALUES (
        user_id, username, clock_timestamp(), meaning, record_label, cause, ip_address
    )
    RETURNING id
$$;
REVOKE ALL ON FUNCTION carnk_mfg_insert_signature_failure(
    integer, text, text, text, text, inet
) FROM PUBLIC;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("carnk_mfg", "0003_signature_attests"),
    ]

    operations = [
        migrations.RunSQL(
            INSERT_SIGNATURE,
            "DROP FUNCTION carnk_mfg_insert_signature("
            "integer, text, text, integer, text, text, text, text, jsonb, text)",
        ),
        migrations.RunSQL(
            INSERT_SIGNATURE_FAILURE,
            "DROP FUNCTION carnk_mfg_insert_signature_failure(integer, text, text, text, text, inet)",
        ),
    ]
