"""Request limits per caller: at most ``limit`` hits per ``window`` seconds (a fixed window, the
clock's minute by default), counted in Django's cache.

With the default file cache the count is shared by the processes of one host; with Redis
(``HELPLINE_REDIS_URL``) by every host. A limit of 0 turns the check off. Identities (tokens,
addresses) are hashed before they become cache keys, so no secret is ever stored there.

Each process counts in memory and adds its hits to the shared count in steps: at a caller's
first hit of a window, then every ``limit // 100`` hits or every second, whichever comes first,
and at every hit once the caller is within a step of the limit. A request costs a dictionary
update, not a cache write (a file write and rename with the default cache: measured at ~0.6 ms
of CPU per API request when every hit was written). The shared count can lag by less than a
step per process, and never by more than a second.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass

from django.core.cache import cache

_now = time.time  # a seam for tests
SYNC_SECONDS = 1.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the window ends and the count starts again


class _Count:
    __slots__ = ("pending", "shared", "synced_at")

    def __init__(self) -> None:
        self.pending = 0  # this process's hits not yet added to the shared count
        self.shared = 0  # the shared count as last read
        self.synced_at = -math.inf


_lock = threading.Lock()
_counts: dict[str, _Count] = {}
_counts_window = [0]  # the window start the entries belong to


def _key(scope: str, ident: str, start: int) -> str:
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"helpline:rl:{scope}:{digest}:{start}"


def _window(window: int) -> tuple[float, int, int]:
    now = _now()
    start = int(now // window) * window
    return now, start, max(1, math.ceil(start + window - now))


def _entry(key: str, start: int) -> _Count:
    """Under ``_lock``: this process's count for ``key``; a new window drops the old ones."""
    if _counts_window[0] != start:
        _counts.clear()
        _counts_window[0] = start
    entry = _counts.get(key)
    if entry is None:
        entry = _counts[key] = _Count()
    return entry


def _add_shared(key: str, delta: int, window: int) -> int:
    if delta <= 0:
        value = cache.get(key, 0)
        return int(value)
    try:
        return int(cache.incr(key, delta))
    except ValueError:  # the window's first hit here; or another process added it meanwhile
        if cache.add(key, delta, timeout=window + 5):
            return delta
        return int(cache.incr(key, delta))


def hit(scope: str, ident: str, *, limit: int, window: int = 60) -> Verdict:
    """Count one request of ``ident`` and say whether it is within ``limit``."""
    if limit <= 0:
        return Verdict(allowed=True, limit=0, remaining=0, reset_seconds=0)
    now, start, reset = _window(window)
    key = _key(scope, ident, start)
    step = max(1, limit // 100)
    with _lock:
        entry = _entry(key, start)
        entry.pending += 1
        total = entry.shared + entry.pending
        sync = (
            entry.pending >= step
            or total >= limit - step
            or now - entry.synced_at >= SYNC_SECONDS
        )
        if sync:
            delta, entry.pending = entry.pending, 0
    if sync:
        shared = _add_shared(key, delta, window)
        with _lock:
            entry.shared = max(entry.shared, shared)
            entry.synced_at = now
            total = entry.shared + entry.pending
    return Verdict(
        allowed=total <= limit, limit=limit, remaining=max(0, limit - total), reset_seconds=reset
    )


def used(scope: str, ident: str, *, window: int = 60) -> int:
    """How many hits ``ident`` has in the current window, as this process knows it (read from
    the cache at most once a second); nothing is counted."""
    now, start, _ = _window(window)
    key = _key(scope, ident, start)
    with _lock:
        entry = _entry(key, start)
        if now - entry.synced_at < SYNC_SECONDS:
            return entry.shared + entry.pending
    shared = _add_shared(key, 0, window)
    with _lock:
        entry.shared = max(entry.shared, shared)
        entry.synced_at = now
        return entry.shared + entry.pending


def seconds_left(*, window: int = 60) -> int:
    return _window(window)[2]


def forget() -> None:
    """Drop this process's counts (tests: the shared cache is emptied between them)."""
    with _lock:
        _counts.clear()
