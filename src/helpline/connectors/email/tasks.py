"""Thin task wrappers: ids in, one service call, idempotent.

``inbound_kick`` wakes a worker to process stored mail (the SMTP listener calls it after each
store) and ``deliver_soon`` to send queued replies: wake-ups are coalesced, at most one per
``KICK_DELAY`` per process, and always sent after the writes they cover committed, so nothing
waits for the tick, and a burst of a thousand messages is a handful of tasks, not a thousand.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

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


# Stored mail first: a drain woken by new mail is taken before other queued work (outbox
# reactions, deliveries), so a burst of mail becomes tickets without waiting behind the
# follow-up work of the tickets before it (Huey's SQLite and Redis queues both honour
# priorities). Not for ever: while an outbox reaction has waited OUTBOX_PATIENCE seconds, a
# drain queues behind the work queued before it (normal priority) and lets it run.
DRAIN_PRIORITY = 10
OUTBOX_PATIENCE = timedelta(seconds=30)
DELIVERY_RETRY = 1.0  # seconds a delivery task waits while stored mail goes first


@db_task(priority=DRAIN_PRIORITY)  # type: ignore[untyped-decorator]
def email_drain() -> None:
    """Put stored mail on tickets, batch after batch (woken by new mail: ahead of other work,
    unless the outbox reactions have waited too long)."""
    if _reactions_starved():
        _drain_later()
        return
    _drain()


@db_task()  # type: ignore[untyped-decorator]
def email_drain_later() -> None:
    """The same, queued at the normal priority: behind the work queued before it."""
    with _later_lock:
        _later_queued[0] = 0.0
    _drain()


def _drain() -> None:
    # Another worker thread draining: wait for it rather than run the outbox reactions beside
    # it (one GIL: they would halve the drain's speed while mail waits).
    taken = services.inbound_drain(budget=DRAIN_BUDGET, wait=DRAIN_BUDGET)
    if taken and services.inbound_pending():
        # Past the budget: a fresh task, ahead of other work again unless the reactions have
        # waited OUTBOX_PATIENCE (it checks). Queued behind them instead, a burst's last
        # messages waited for the whole outbox backlog of the burst (27 committed/s).
        email_drain()


_later_lock = threading.Lock()
_later_queued = [0.0]  # monotonic time this process last queued one (another may run it)
LATER_COALESCE = 5.0  # seconds


def _drain_later() -> None:
    """Queue one normal-priority drain, unless this process queued one in the last few
    seconds that has not started yet."""
    now = time.monotonic()
    with _later_lock:
        if now - _later_queued[0] < LATER_COALESCE:
            return
        _later_queued[0] = now
    try:
        email_drain_later()
    except Exception:
        with _later_lock:
            _later_queued[0] = 0.0
        raise


def _reactions_starved() -> bool:
    """An outbox event (the SLA, routing and triage reactions) due OUTBOX_PATIENCE ago and not
    taken yet."""
    from helpline.core import clock
    from helpline.core.models import OutboxEvent

    return OutboxEvent.objects.filter(
        failed_at__isnull=True, available_at__lte=clock.now() - OUTBOX_PATIENCE
    ).exists()


@db_task()  # type: ignore[untyped-decorator]
def email_deliver_due() -> None:
    """Send every reply whose delivery is due (a burst of acknowledgements in one task, over
    one SMTP connection per relay). While stored mail waits to become tickets, deliveries
    step aside: one waiter per process comes back in DELIVERY_RETRY seconds (a delivery due
    for 30 s goes anyway, see services.deliveries_should_wait)."""
    deadline = time.monotonic() + DRAIN_BUDGET
    while time.monotonic() < deadline:
        if services.deliveries_should_wait():
            _wait_for_mail()
            return
        due = services.outbound_due_ids(limit=DELIVERY_BATCH)
        if not due:
            return
        services.outbound_deliver_many(outbound_ids=due)
    if services.outbound_due_ids(limit=1):
        email_deliver_due()


DELIVERY_BATCH = 50
_waiter_lock = threading.Lock()
_waiter_scheduled = [0.0]  # monotonic time a delivery waiter was scheduled for, 0: none


def _wait_for_mail() -> None:
    """Schedule one delivery task for later, unless this process has one scheduled already
    (every acknowledgement of a burst wakes a delivery task: they must not all come back)."""
    now = time.monotonic()
    with _waiter_lock:
        if _waiter_scheduled[0] > now + 0.1:  # one is scheduled (the waiter itself is due)
            return
        _waiter_scheduled[0] = now + DELIVERY_RETRY
    email_deliver_due.schedule(delay=DELIVERY_RETRY)


class _Kick:
    """A coalesced wake-up: the first call arms a timer, calls until it fires are absorbed, and
    the task is enqueued when it fires, so every call is followed by an enqueue that happens
    after it (the writes the caller committed before calling are seen by the task)."""

    def __init__(self, send: Callable[[], object], what: str) -> None:
        self._send = send
        self._what = what
        self._lock = threading.Lock()
        self._pending = False

    def __call__(self) -> None:
        with self._lock:
            if self._pending:
                return
            self._pending = True
        timer = threading.Timer(KICK_DELAY, self._fire)
        timer.daemon = True
        timer.start()

    def _fire(self) -> None:
        with self._lock:
            self._pending = False  # cleared before enqueueing: later calls arm a new timer
        try:
            self._send()
        except Exception:  # the queue is down: the tick does the work once it is back
            logger.exception("could not wake a worker for %s", self._what)


_wake_drain = _Kick(lambda: email_drain(), "stored email")
_wake_delivery = _Kick(lambda: email_deliver_due(), "email delivery")
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
    _wake_drain()


def deliver_soon(outbound_id: int) -> None:
    """Have a queued reply sent (call after its row committed). Bursts share one task."""
    if HUEY.immediate:
        email_deliver(outbound_id)
        return
    _wake_delivery()
