"""Cursor (keyset) pagination: pages stay as fast at row one million as at row one.

A cursor is opaque to clients: URL-safe base64 of the ordering keys' values of the last row
served. The next page is "rows strictly after that one in the ordering", an index range scan,
so there is no OFFSET to skip and no COUNT(*) of the table. Rows written between two page
requests never shift a page (no duplicates, no gaps for rows that did not move).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from helpline.core.errors import ValidationError

M = TypeVar("M", bound=models.Model)

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def _bad_cursor() -> ValidationError:
    return ValidationError(
        "The cursor is not valid for this list; start again without it.", field="cursor"
    )


def encode_cursor(row: models.Model, keys: Sequence[str]) -> str:
    return _encode_values(keys, [getattr(row, key) for key in keys])


def _encode_values(keys: Sequence[str], values: Sequence[Any]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    raw = json.dumps({"k": list(keys), "v": plain}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, model: type[models.Model], keys: Sequence[str]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(payload, dict) or payload.get("k") != list(keys):
        raise _bad_cursor()
    raw_values = payload.get("v")
    if not isinstance(raw_values, list) or len(raw_values) != len(keys):
        raise _bad_cursor()
    values: list[Any] = []
    for key, raw in zip(keys, raw_values, strict=True):
        field = model._meta.get_field(key)
        if isinstance(field, models.DateTimeField):
            if not isinstance(raw, str):
                raise _bad_cursor()
            try:
                parsed = datetime.fromisoformat(raw)
            except ValueError as exc:
                raise _bad_cursor() from exc
            if timezone.is_naive(parsed):
                raise _bad_cursor()
            values.append(parsed)
        elif isinstance(field, models.IntegerField | models.AutoField):
            # bool is an int in Python; a cursor never holds one.
            if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw < 2**63:
                raise _bad_cursor()
            values.append(raw)
        else:  # pragma: no cover - a programming error, not bad input
            raise TypeError(f"cursor pagination does not support {type(field).__name__}")
    return values


def _after(keys: Sequence[str], values: Sequence[Any], descending: bool) -> Q:
    """Rows strictly after ``values`` in the lexicographic ordering over ``keys``."""
    op = "lt" if descending else "gt"
    condition = Q(**{f"{keys[-1]}__{op}": values[-1]})
    for index in range(len(keys) - 2, -1, -1):
        condition = Q(**{f"{keys[index]}__{op}": values[index]}) | (
            Q(**{keys[index]: values[index]}) & condition
        )
    if len(keys) > 1:
        # Logically redundant, but it is what lets the database start an index range scan at
        # the cursor: without it PostgreSQL reads the OR as a filter and walks the index from
        # the top (measured: 1.8 s for a page at row 500,000 of 1M tickets).
        condition &= Q(**{f"{keys[0]}__{op}e": values[0]})
    return condition


def paginate(
    queryset: QuerySet[M],
    *,
    cursor: str | None,
    limit: int,
    keys: Sequence[str],
    descending: bool,
    max_limit: int = MAX_LIMIT,
) -> tuple[list[M], str | None]:
    """One page of ``queryset`` ordered by ``keys`` (the last key must be unique, e.g. ``id``).

    Returns the rows and the cursor of the next page (None on the last page). The ordering of
    ``queryset`` is replaced by the keys' so that cursor and ordering cannot disagree.
    """
    if not 1 <= limit <= max_limit:
        raise ValidationError(f"limit must be between 1 and {max_limit}.", field="limit")
    if cursor:
        values = decode_cursor(cursor, queryset.model, keys)
        queryset = queryset.filter(_after(keys, values, descending))
    if keys[-1] not in ("id", "pk"):  # pragma: no cover - a programming error
        raise TypeError("the last pagination key must be the primary key")
    prefix = "-" if descending else ""
    ordering = [prefix + key for key in keys]
    # Two steps: first the page's ids alone, read straight off an index; then those rows with
    # their joins and prefetches. Joining before the LIMIT makes PostgreSQL join every row
    # that shares an updated_at with the page (measured 50 ms instead of 1 ms at 1M tickets).
    # One extra id says whether another page exists, without counting anything.
    page = list(
        queryset.select_related(None)
        .prefetch_related(None)
        .order_by(*ordering)
        .values_list(*keys)[: limit + 1]
    )
    has_more = len(page) > limit
    page = page[:limit]
    page_ids = [values[-1] for values in page]
    by_id = {row.pk: row for row in queryset.order_by().filter(pk__in=page_ids)} if page else {}
    rows = [by_id[pk] for pk in page_ids if pk in by_id]
    # The cursor holds the keys as the first step read them, so a row changed in between
    # cannot move the next page.
    return rows, _encode_values(keys, page[-1]) if has_more else None
