"""Many new rows of one model in one INSERT, sent as one array per column.

What Django's `bulk_create` does on PostgreSQL (INSERT ... SELECT FROM unnest, keys read back
in order) without its per-value preparation, which costs more than the database's own work
for a request of 500 readings: values go to psycopg2 as they are, JSON as text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypeVar

from django.db import connection, models
from django.db.models import Model

M = TypeVar("M", bound=Model)


def bulk_insert(records: Sequence[M]) -> Sequence[M]:
    """Insert `records` (new, unsaved, of one model) and set their primary keys. Each field's
    `pre_save` runs as in a save (so free text is checked the same way); no signal is sent,
    as with `bulk_create`."""
    if not records:
        return records
    meta = records[0]._meta
    pk = meta.pk
    assert pk is not None
    fields = [
        f for f in meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))
    ]
    casts, columns = [], []
    for field in fields:
        values = [field.pre_save(record, True) for record in records]
        if isinstance(field, models.JSONField):
            values = [None if v is None else json.dumps(v, cls=field.encoder) for v in values]
        casts.append(f"%s::{field.db_type(connection)}[]")
        columns.append(values)
    qn = connection.ops.quote_name
    names = [qn(str(f.column)) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            # Names from the model's meta, values as parameters.
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(names)}) "  # noqa: S608
            f"SELECT * FROM unnest({', '.join(casts)}) RETURNING {qn(str(pk.column))}",
            columns,
        )
        # PostgreSQL returns the rows of INSERT ... SELECT FROM unnest in the arrays' order,
        # as bulk_create relies on too.
        for record, (key,) in zip(records, cursor.fetchall(), strict=True):
            setattr(record, pk.attname, key)
            record._state.adding = False
            record._state.db = connection.alias
    return records
