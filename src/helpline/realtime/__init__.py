"""Realtime plumbing shared by every app: group names and publishing after commit.

A browser must never see a write that is later rolled back, so every message to a Channels
group is sent from ``transaction.on_commit``. Several publishes of the same group in one
transaction are sent once.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from django.db import connection, transaction

logger = logging.getLogger(__name__)

ROUTING_QUEUE_GROUP = "routing.queue"


def _send(group: str, message: dict[str, Any]) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The write this message announces has already committed; a lost notification only
        # delays a screen (viewers also refresh on a timer), so it must not fail the caller.
        logger.exception("realtime publish to %s failed", group)


def publish_on_commit(group: str, message: dict[str, Any]) -> None:
    """Send ``message`` to ``group`` once the current transaction commits (now if none).

    Within one transaction, repeated publishes of the same (group, type) are sent once.
    """
    if not connection.in_atomic_block:
        _send(group, message)
        return
    key = (group, str(message.get("type", "")))
    # Django keeps the callbacks of the open transaction in run_on_commit and drops them on
    # rollback, so looking there de-duplicates without state that could outlive a rollback.
    for entry in connection.run_on_commit:
        if getattr(entry[1], "realtime_key", None) == key:
            return

    def deliver() -> None:
        _send(group, message)

    deliver.realtime_key = key  # type: ignore[attr-defined]
    transaction.on_commit(deliver)
