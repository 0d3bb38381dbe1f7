"""Slows down password guessing: a few failed sign-ins per address and IP, then a pause.

Counts live in Django's cache. With the default in-process cache each web process counts on
its own; configure a shared cache (Redis) when several processes serve the UI.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _key(*, ip: str, email: str) -> str:
    digest = hashlib.sha256(f"{ip}|{email.strip().lower()}".encode()).hexdigest()
    return f"helpline:signin-failures:{digest}"


def signin_blocked(*, ip: str, email: str) -> bool:
    failures: int = cache.get(_key(ip=ip, email=email), 0)
    return failures >= MAX_FAILURES


def signin_failed(*, ip: str, email: str) -> None:
    key = _key(ip=ip, email=email)
    if cache.add(key, 1, WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, WINDOW_SECONDS)


def signin_succeeded(*, ip: str, email: str) -> None:
    cache.delete(_key(ip=ip, email=email))
