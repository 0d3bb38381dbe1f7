"""Thin task wrappers: ids in, one service call, idempotent.

``inbound_kick`` wakes a worker to process stored mail (the SMTP listener calls it after each
store): wake-ups are coalesced, at most one per ``KICK_DELAY`` per process, and always sent
after the stores they cover committed, so no stored message waits for the tick.
"""

from __future__ import annotations

import logging
import threading

from huey.contrib.djhuey import HUEY, db_task

from helpline.connectors.email import services

logger = logging.getLogger(__name__)

KICK_DELAY = 0.02  # seconds a wake-up waits to gather the stores of a burst
DRAIN_BUDGET = 5.0  # seconds one drain task works before handing over to a fresh task


@db_task()  # type: ignore[untyped-decorator]
def email_deliver(outbound_id: int) -> str:
    return services.outbound_deliver(outbound_id=outbound_id)


@db_task()  # type: ignore[untyped-decorator]
def email_process(inbound_id: int) -> None:
    from helpline.connectors.email.models import InboundEmail

    row = InboundEmail.objects.filter(pk=inbound_id).first()
    if row is not None:
        services.inbound_process(inbound=row)


@db_task()  # type: ignore[untyped-decorator]
def email_drain() -> int:
    """Put stored mail on tickets, batch after batch; past the budget, hand the rest to a new
    task so other queued work is not starved."""
    taken = services.inbound_drain(budget=DRAIN_BUDGET)
    if taken and services.inbound_pending():
        email_drain()
    return int(taken)


_kick_lock = threading.Lock()
_kick_pending = False
_draining = threading.local()


def inbound_kick() -> None:
    """Ask a worker to process stored mail soon (call after the store committed).

    With immediate tasks (tests, ``HELPLINE_TASKS_IMMEDIATE``) the drain runs here and now."""
    if HUEY.immediate:
        if not getattr(_draining, "active", False):
            _draining.active = True
            try:
                services.inbound_drain(budget=DRAIN_BUDGET)
            finally:
                _draining.active = False
        return
    global _kick_pending
    with _kick_lock:
        if _kick_pending:
            return
        _kick_pending = True
    timer = threading.Timer(KICK_DELAY, _send_kick)
    timer.daemon = True
    timer.start()


def _send_kick() -> None:
    global _kick_pending
    with _kick_lock:
        _kick_pending = False  # cleared before enqueueing: later stores schedule a new wake-up
    try:
        email_drain()
    except Exception:  # the queue is down: the tick processes what is stored once it is back
        logger.exception("could not wake a worker for stored email")
