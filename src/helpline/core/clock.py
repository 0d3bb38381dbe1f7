"""The one source of "now", so tests and simulations can move time explicitly."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
