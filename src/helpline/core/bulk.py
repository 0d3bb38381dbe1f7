"""One multi-row ``INSERT ... RETURNING`` for a handful of new rows, and one
``UPDATE ... FROM (VALUES ...)`` for changed columns of many rows.

Django's ``bulk_create`` costs about a millisecond of Python per call before the first row (it
plans for every case: conflicts, batches, parent models, arrays of values on PostgreSQL), which
is most of the cost when a request or a batch writes two to fifty rows per table. This writes
the same rows with the field's own conversions (``pre_save`` and ``get_db_prep_save``, so JSON,
dates and defaults come out exactly as ``save()`` would write them) and sets each instance's
primary key from ``RETURNING``, in the order of the rows, on PostgreSQL and SQLite alike.
Measured on PostgreSQL for four ticket rows: 1.27 ms of CPU with ``bulk_create``, 0.22 ms here.

A primary key the database makes (an auto field) is left out and read back; one the row carries
(a one-to-one key such as ``TicketSla.ticket``) is written like any other column.

``update_rows`` is the same idea for ``bulk_update``, which builds a ``CASE WHEN pk = ... THEN``
expression per row and column and resolves each one through the ORM: for the email worker's
batches of ~100 SLA rows of ~20 columns, 2,000 expressions. Measured by
``bench/email_ingest.py --messages 600 --breakdown`` on PostgreSQL, the outbox stage (whose
largest part is those SLA writes) went from 8.62 to 3.48 ms of CPU per message with this.
Here the rows travel as a ``VALUES`` list joined on the primary key (PostgreSQL, and SQLite from
3.33; older SQLite falls back to ``bulk_update``).

For plain models only: no multi-table inheritance, no conflict handling (an IntegrityError
raises as from ``bulk_create``), no signals (Helpline uses none).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Field, Model

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


def update_rows(rows: Sequence[M], fields: Sequence[str]) -> int:
    """Write the named ``fields`` of ``rows`` (saved instances of one model), each row its own
    values, as ``bulk_update`` would; returns the number of rows matched."""
    if not rows:
        return 0
    model = type(rows[0])
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 33, 0):
        return model._default_manager.bulk_update(rows, fields=list(fields))  # no UPDATE FROM
    targets: list[Field[Any, Any]] = [meta.get_field(name) for name in fields]  # type: ignore[misc]
    if any(f.primary_key or not f.concrete or f.many_to_many for f in targets):
        raise ValueError(f"{meta.db_table}: update_rows writes plain columns only: {fields}")
    quote = connection.ops.quote_name
    cast = connection.vendor == "postgresql"  # VALUES columns are typed by their first row
    columns = [pk, *targets]

    def slot(field: Field[Any, Any]) -> str:
        return f"CAST(%s AS {field.db_type(connection)})" if cast else "%s"

    placeholder = "(" + ", ".join(slot(f) for f in columns) + ")"
    table = quote(meta.db_table)
    sets = ", ".join(
        f"{quote(str(f.column))} = v.column{i + 1}" for i, f in enumerate(columns) if i
    )
    per_statement = max(1, 900 // len(columns))
    matched = 0
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        params: list[Any] = []
        for row in chunk:
            params.append(pk.get_db_prep_save(getattr(row, pk.attname), connection))
            for field in targets:
                params.append(field.get_db_prep_save(getattr(row, field.attname), connection))
        values = ", ".join([placeholder] * len(chunk))
        # Names come from the model's metadata, values only as parameters.
        # The VALUES list's columns are column1, column2, ... on PostgreSQL and SQLite alike.
        source = "(VALUES " + values + ") AS v WHERE " + table + "." + quote(str(pk.column))
        sql = "UPDATE " + table + " SET " + sets + " FROM " + source + " = v.column1"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            matched += cursor.rowcount
    return matched
