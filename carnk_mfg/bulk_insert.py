"""Many new rows of one model in one INSERT, sent as one array per column.

What Django's `bulk_create` does on PostgreSQL (INSERT ... SELECT FROM unnest, keys read back
in order) without its per-value preparation, which costs more than the database's own work
for a request of 500 readings. Each column goes as one array literal ('{"a","b"}'), one
parameter the server reads with its array input: a Python list would be sent as ARRAY[...]
of 500 separate constants, which psycopg2 quotes one by one and PostgreSQL parses and plans
one by one (about 20 ms of a 500-reading request).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

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
    casts: list[str] = []
    columns: list[Any] = []
    for field in fields:
        values = _prepared(field, records)
        if isinstance(field, models.JSONField):
            values = [None if v is None else json.dumps(v, cls=field.encoder) for v in values]
        casts.append(f"%s::{field.db_type(connection)}[]")
        columns.append(array_literal(values))
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


def _prepared(field: models.Field[Any, Any], records: Sequence[Model]) -> list[Any]:
    """Each record's value of `field` as a save prepares it: by its own `pre_save` when the
    field has one (free text, auto_now), else (most fields) read straight from the record."""
    if type(field).pre_save is models.Field.pre_save:
        attname = field.attname
        return [getattr(record, attname) for record in records]
    return [field.pre_save(record, True) for record in records]


def _quoted(text: str) -> str:
    # Quoted, so commas, braces, spaces and the word NULL inside are the text itself.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# How each type a field's pre_save gives is written in array text. Found by the exact type
# first (tens of thousands of values a request); a subclass (a choices enum is a str) is
# looked up once by isinstance and remembered.
_WRITERS: dict[type, Callable[[Any], str]] = {
    type(None): lambda _: "NULL",
    bool: lambda v: "t" if v else "f",
    int: str,
    float: str,
    Decimal: str,
    uuid.UUID: str,
    str: _quoted,
    datetime: lambda v: _quoted(v.isoformat()),
    date: lambda v: _quoted(v.isoformat()),
}


def _writer(kind: type) -> Callable[[Any], str]:
    writer = _WRITERS.get(kind)
    if writer is None:
        # In _WRITERS' order: bool before int, datetime before date.
        found = next((w for t, w in _WRITERS.items() if issubclass(kind, t)), None)
        if found is None:
            raise TypeError(f"No array text for {kind.__name__}")
        writer = _WRITERS[kind] = found
    return writer


def array_literal(values: Sequence[object]) -> str | list[object]:
    """The values as PostgreSQL array text, or the values themselves (for psycopg2 to adapt)
    when one is of a type this does not write."""
    try:
        return "{" + ",".join([_writer(type(v))(v) for v in values]) + "}"
    except TypeError:
        return list(values)
