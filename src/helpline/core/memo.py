"""Reference data read once per batch of background work.

A worker delivering two hundred events would otherwise load the same SLA policies, routing rules
and team profiles two hundred times. Inside ``batch()`` (the outbox wraps each batch of events
in one), ``memoized(key, loader)`` loads a value once and hands the same value out again; outside
a batch it simply calls ``loader``. An edit to such data is seen from the next batch on, a
fraction of a second later: never cache anything here that a handler itself changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_batch: ContextVar[dict[str, Any] | None] = ContextVar("helpline_memo_batch", default=None)


@contextmanager
def batch() -> Iterator[None]:
    token = _batch.set({})
    try:
        yield
    finally:
        _batch.reset(token)


def memoized(key: str, loader: Callable[[], T]) -> T:
    values = _batch.get()
    if values is None:
        return loader()
    if key not in values:
        values[key] = loader()
    value: T = values[key]
    return value
