"""The only writers of signature rows and refused signing attempts.

Signatures and refused attempts are audit trail: nothing but these two functions creates them,
and nothing updates or deletes them (database triggers refuse it). Each calls a database
function (migration 0004) that runs as the tables' owner and stamps the database's clock: the
application's own role holds no INSERT on these tables and cannot choose the time.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pghistory
import pghistory.config
from django.db import connection

from carnk_mfg.models import ElectronicSignature, SignatureFailure

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.contrib.contenttypes.models import ContentType

SIGNATURE_FUNCTION = "carnk_mfg_insert_signature"
SIGNATURE_FAILURE_FUNCTION = "carnk_mfg_insert_signature_failure"
TRAIL_WRITER_FUNCTIONS = (SIGNATURE_FUNCTION, SIGNATURE_FAILURE_FUNCTION)


def _call(function: str, arguments: list[Any]) -> int:
    # pghistory hands its who/why to the database only ahead of statements that are not
    # SELECTs, so a signature written by this SELECT would be trailed with no context (or
    # the last statement's). Set the current context in the same round trip.
    placeholders = ", ".join(["%s"] * len(arguments))
    with pghistory.context() as context, connection.cursor() as cursor:
        metadata = json.dumps(context.metadata, cls=pghistory.config.json_encoder())
        cursor.execute(
            "SELECT set_config('pghistory.context_id', %s, true), "
            "set_config('pghistory.context_metadata', %s, true); "
            f'SELECT "public".{function}({placeholders})',  # noqa: S608
            [str(context.id), metadata, *arguments],
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
