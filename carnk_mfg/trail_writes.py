"""The only writers of signature rows and refused signing attempts.

Signatures and refused attempts are audit trail: nothing but these two functions creates them,
and nothing updates or deletes them (database triggers refuse it). Each calls a database
function (migration 0004) that runs as the tables' owner and stamps the database's clock: the
application's own role holds no INSERT on these tables and cannot choose the time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection

from carnk_mfg.audit import trail_context_statement
from carnk_mfg.models import ElectronicSignature, SignatureFailure

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.contrib.contenttypes.models import ContentType

SIGNATURE_FUNCTION = "carnk_mfg_insert_signature"
SIGNATURE_FAILURE_FUNCTION = "carnk_mfg_insert_signature_failure"
TRAIL_WRITER_FUNCTIONS = (SIGNATURE_FUNCTION, SIGNATURE_FAILURE_FUNCTION)


def _call(function: str, arguments: list[Any]) -> int:
    # A signature written by this SELECT would be trailed with no context (or the last
    # statement's): the current who and why go in the same round trip.
    placeholders = ", ".join(["%s"] * len(arguments))
    context_sql, context_params = trail_context_statement()
    with connection.cursor() as cursor:
        cursor.execute(
            f'{context_sql}; SELECT "public".{function}({placeholders})',  # noqa: S608
            [*context_params, *arguments],
        )
        row = cursor.fetchone()
    if row is None:  # the functions return the new row's id, always
        raise RuntimeError(f"{function} returned no row")
    pk: int = row[0]
    return pk


def insert_signature(
    *,
    signer: User,
    printed_name: str,
    meaning: str,
    content_type: ContentType,
    object_id: str,
    record_label: str,
    attests: str,
    record_sha256: str,
    record_content: dict[str, Any],
    comment: str = "",
) -> ElectronicSignature:
    """Write one signature, stamped by the database with the time of writing."""
    content = ElectronicSignature._meta.get_field("record_content")
    pk = _call(
        SIGNATURE_FUNCTION,
        [
            signer.pk,
            printed_name,
            meaning,
            content_type.pk,
            object_id,
            record_label,
            attests,
            record_sha256,
            content.get_db_prep_save(record_content, connection),
            comment,
        ],
    )
    return ElectronicSignature.objects.get(pk=pk)


def insert_signature_failure(
    *,
    user: User | None,
    username: str,
    meaning: str,
    record_label: str,
    cause: str,
    ip_address: str | None,
) -> SignatureFailure:
    """Record one refused signing attempt, stamped by the database with the time of writing."""
    pk = _call(
        SIGNATURE_FAILURE_FUNCTION,
        [user.pk if user else None, username, meaning, record_label, cause, ip_address],
    )
    return SignatureFailure.objects.get(pk=pk)
