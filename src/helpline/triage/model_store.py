"""The intent model in use: the newest IntentModelVersion row, or the bootstrap model.

Loaded once per process and re-checked at most every RECHECK_SECONDS (one indexed query), so a
retrain in the worker reaches web processes within a minute.
"""

from __future__ import annotations

import threading
import time

from helpline.nlp.intent import IntentModel, bootstrap_model
from helpline.triage.models import IntentModelVersion

RECHECK_SECONDS = 60.0

_lock = threading.Lock()
_cached: tuple[int, IntentModel] | None = None
_checked_at = 0.0


def active_model(*, fresh: bool = False) -> IntentModel:
    global _cached, _checked_at
    now = time.monotonic()
    with _lock:
        if not fresh and _cached is not None and now - _checked_at < RECHECK_SECONDS:
            return _cached[1]
        _checked_at = now
        latest = (
            IntentModelVersion.objects.order_by("-created_at", "-id")
            .values_list("id", flat=True)
            .first()
        )
        if latest is None:
            _cached = None
            return bootstrap_model()
        if _cached is None or _cached[0] != latest:
            row = IntentModelVersion.objects.get(pk=latest)
            _cached = (latest, IntentModel.from_json(row.model_json))
        return _cached[1]


def forget() -> None:
    """Drop the cache (tests, and right after a retrain in this process)."""
    global _cached, _checked_at
    with _lock:
        _cached = None
        _checked_at = 0.0
