"""Keyset ("seek") pagination: the next page starts after the last row shown.

No ``COUNT(*)`` and no ``OFFSET``: the cost of a page does not grow with the table or with how
far the agent has scrolled, which is what keeps the inbox fast at a million tickets.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Page(Generic[M]):
    rows: list[M]
    next_cursor: str | None
    is_first: bool


def _encode(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def page_by_time_and_id(
    queryset: QuerySet[M], *, cursor: str | None, time_field: str, size: int
) -> Page[M]:
    """Rows of ``queryset`` ordered by (``time_field`` desc, id desc), ``size`` at a time.

    The queryset must already be ordered that way; a malformed cursor starts from the top.
    """
    position = _decode(cursor) if cursor else None
    qs = queryset
    if position and "|" in position:
        stamp, _, raw_id = position.rpartition("|")
        try:
            after_time = datetime.fromisoformat(stamp)
            after_id = int(raw_id)
        except ValueError:
            position = None
        else:
            # (time, id) < (after_time, after_id), with a plain upper bound on time so the
            # database can start its index scan at the cursor instead of at the top.
            qs = qs.filter(
                Q(**{f"{time_field}__lte": after_time})
                & (Q(**{f"{time_field}__lt": after_time}) | Q(pk__lt=after_id))
            )
    else:
        position = None
    rows = list(qs[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        stamp_value: datetime = getattr(last, time_field)
        next_cursor = _encode(f"{stamp_value.isoformat()}|{last.pk}")
    return Page(rows=rows, next_cursor=next_cursor, is_first=position is None)


def page_by_id(queryset: QuerySet[M], *, cursor: str | None, size: int) -> Page[M]:
    """Rows of ``queryset`` ordered by id desc, ``size`` at a time."""
    qs = queryset
    after = _decode(cursor) if cursor else None
    is_first = True
    if after and after.isdigit():
        qs = qs.filter(pk__lt=int(after))
        is_first = False
    rows = list(qs[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = _encode(str(rows[-1].pk))
    return Page(rows=rows, next_cursor=next_cursor, is_first=is_first)
