"""Request limits per caller: at most ``limit`` hits per ``window`` seconds (a fixed window, the
clock's minute by default), counted in Django's cache.

With the default file cache the count is shared by the processes of one host; with Redis
(``HELPLINE_REDIS_URL``) by every host. A limit of 0 turns the check off. Identities (tokens,
addresses) are hashed before they become cache keys, so no secret is ever stored there.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

_now = time.time  # a seam for tests


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the window ends and the count starts again


def _key(scope: str, ident: str, start: int) -> str:
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"helpline:rl:{scope}:{digest}:{start}"


def _window(window: int) -> tuple[int, int]:
    now = _now()
    start = int(now // window) * window
    return start, max(1, math.ceil(start + window - now))


def hit(scope: str, ident: str, *, limit: int, window: int = 60) -> Verdict:
    """Count one request of ``ident`` and say whether it is within ``limit``."""
    if limit <= 0:
        return Verdict(allowed=True, limit=0, remaining=0, reset_seconds=0)
    start, reset = _window(window)
    key = _key(scope, ident, start)
    try:
        count = cache.incr(key)
    except ValueError:  # the window's first hit; or another request added it meanwhile
        count = 1 if cache.add(key, 1, timeout=window + 5) else cache.incr(key)
    return Verdict(
        allowed=count <= limit, limit=limit, remaining=max(0, limit - count), reset_seconds=reset
    )


def used(scope: str, ident: str, *, window: int = 60) -> int:
    """How many hits ``ident`` has in the current window (nothing counted)."""
    start, _ = _window(window)
    value = cache.get(_key(scope, ident, start), 0)
    return int(value)


def seconds_left(*, window: int = 60) -> int:
    return _window(window)[1]
