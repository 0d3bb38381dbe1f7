"""The transactional outbox behind the bus's deferred subscribers.

``publish`` inserts one row per event inside the writer's transaction. After the commit the
writer wakes the worker (``kick``); the worker claims a batch of due rows with a short lease,
hands each event to its deferred handlers, and deletes the rows it delivered. A failing delivery
is retried with backoff and, after ``MAX_ATTEMPTS``, kept with ``failed_at`` set. A worker that
dies mid-batch loses nothing: its lease runs out and another worker takes the rows again (hence
at-least-once delivery and idempotent handlers). The periodic tick drains whatever a lost wake-up
left behind.

Waking is coalesced: a process sends at most one wake-up per ``KICK_DELAY`` however many writes
commit in that time, and a wake-up is only ever sent after the commits it covers.

A handler may leave work for the end of its batch (``at_batch_end``): gathered from every event
of the batch and done once, after all the batch's handlers ran, so it sees what they changed
(the SLA's first clocks of new tickets come after routing set their team and priority).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Count, F, Min

from helpline.core import bus, clock, memo
from helpline.core.bulk import insert_rows
from helpline.core.models import OutboxEvent

logger = logging.getLogger(__name__)
T = TypeVar("T")

BATCH = 200
LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 8
KICK_DELAY = 0.02  # seconds a wake-up waits to gather the commits of a burst
DRAIN_BUDGET = 5.0  # seconds one drain task works before handing the queue to a fresh task


_record_listeners: dict[str, list[Callable[[list[dict[str, Any]]], None]]] = {}


def on_record(topic: str, listener: Callable[[list[dict[str, Any]]], None]) -> None:
    """Call ``listener(payloads)`` inside the writer's transaction whenever events of ``topic``
    are recorded, with all of one ``publish`` call's events of that topic together: for an
    inline reaction that costs much less for a whole batch than one event at a time (it
    typically registers one ``transaction.on_commit`` for them all). A listener that raises is
    logged and the write goes on, so a listener must not be the only guard of anything.
    Registering twice is a no-op."""
    listeners = _record_listeners.setdefault(topic, [])
    if listener not in listeners:
        listeners.append(listener)


def record_listeners() -> dict[str, list[str]]:
    """The ``on_record`` wiring, as names (pinned by the wiring snapshot test)."""
    return {
        topic: [f"{fn.__module__}.{fn.__qualname__}" for fn in listeners]
        for topic, listeners in sorted(_record_listeners.items())
        if listeners
    }


def outbox_record(events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Write events for the deferred subscribers in the current transaction, and wake the worker
    once it commits."""
    now = clock.now()
    rows = [
        OutboxEvent(topic=topic, payload=payload, created_at=now, available_at=now)
        for topic, payload in events
    ]
    insert_rows(rows)
    transaction.on_commit(kick)
    for topic, listeners in _record_listeners.items():
        payloads = [payload for t, payload in events if t == topic]
        for listener in listeners if payloads else ():
            try:
                listener(payloads)
            except Exception:  # a listener never undoes the writer's change
                logger.exception("outbox record listener %r failed", listener)


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempt - 1)))


def _claim(limit: int) -> tuple[list[OutboxEvent], int]:
    """Lease the next due events (attempts counted now, committed before any delivery).

    An event tried before goes alone: after a worker died mid-batch, the batch is retried one
    event at a time, so only an event that kills the worker every time reaches MAX_ATTEMPTS
    and is set aside, without taking the others with it. Returns (leased rows, how many were
    set aside)."""
    now = clock.now()
    with transaction.atomic():
        rows = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(failed_at__isnull=True, available_at__lte=now)
            .order_by("available_at", "id")[:limit]
        )
        if rows and rows[0].attempts > 0:
            rows = rows[:1]
        spent = [row for row in rows if row.attempts >= MAX_ATTEMPTS]
        for row in spent:  # its handlers raised nothing: the worker died delivering it
            OutboxEvent.objects.filter(pk=row.pk).update(
                failed_at=now,
                last_error=(row.last_error + "\n" if row.last_error else "")
                + f"the worker stopped while delivering this event {row.attempts} times",
            )
        rows = [row for row in rows if row.attempts < MAX_ATTEMPTS]
        if rows:
            OutboxEvent.objects.filter(pk__in=[row.pk for row in rows]).update(
                available_at=now + LEASE, attempts=F("attempts") + 1
            )
    for row in rows:
        row.attempts += 1
    return rows, len(spent)


_UNREADABLE = "cannot rebuild the event"


@dataclass
class _Finisher:
    work: Callable[[list[Any]], None]
    items: dict[Any, None] = field(default_factory=dict)  # ordered, without duplicates
    row_ids: set[int] = field(default_factory=set)


# Set while a batch is delivered: the end-of-batch work gathered so far, and the outbox rows
# whose handler is running (a failing finisher fails the rows that asked for it).
_finishers: ContextVar[dict[str, _Finisher] | None] = ContextVar("outbox_finishers", default=None)
_delivering: ContextVar[tuple[int, ...]] = ContextVar("outbox_delivering", default=())


def at_batch_end(key: str, work: Callable[[list[T]], None], items: Iterable[T]) -> bool:
    """Inside a deferred handler: gather ``items`` under ``key`` and call ``work(items)`` once
    for the whole batch, after every handler of the batch ran (items in order, duplicates
    dropped). Returns False outside an outbox delivery: the caller does the work itself.

    If ``work`` raises, the events whose handlers gathered items are retried, like a failing
    handler's."""
    finishers = _finishers.get()
    if finishers is None:
        return False
    finisher = finishers.setdefault(key, _Finisher(work=work))
    finisher.items.update(dict.fromkeys(items))
    finisher.row_ids.update(_delivering.get())
    return True


def batch_end_items(key: str) -> frozenset[Any]:
    """The items gathered under ``key`` for the end of the current batch (empty outside one):
    a reaction to a change can skip what the end of the batch will do anyway."""
    finishers = _finishers.get()
    finisher = finishers.get(key) if finishers is not None else None
    return frozenset(finisher.items) if finisher is not None else frozenset()


def _finish_batch(finishers: dict[str, _Finisher], errors: dict[int, str]) -> None:
    for key, finisher in finishers.items():
        try:
            finisher.work(list(finisher.items))
        except Exception as exc:
            logger.exception("end-of-batch work %r failed", key)
            message = f"{key}: {exc!r}"
            for pk in finisher.row_ids:
                errors[pk] = "\n".join(filter(None, [errors[pk], message]))


def _deliver(row: OutboxEvent) -> str:
    """Hand one event to each deferred handler; returns the errors, empty when all succeeded."""
    try:
        event = bus.event_from_payload(row.topic, row.payload)
    except Exception as exc:  # an event class renamed or removed since the row was written
        return f"{_UNREADABLE}: {exc!r}"
    errors = []
    token = _delivering.set((row.pk,))
    try:
        for handler in bus.deferred_handlers(row.topic):
            try:
                handler(event)
            except Exception as exc:
                logger.exception("deferred handler %r failed for outbox event %s", handler, row.pk)
                errors.append(f"{getattr(handler, '__qualname__', handler)}: {exc!r}")
    finally:
        _delivering.reset(token)
    return "\n".join(errors)


def _deliver_batches(rows: list[OutboxEvent], errors: dict[int, str]) -> None:
    """Hand each topic's events of this batch to its batch handlers, in outbox order; a failing
    batch handler fails (and retries) every event it was given."""
    by_topic: dict[str, list[OutboxEvent]] = {}
    for row in rows:
        by_topic.setdefault(row.topic, []).append(row)
    for topic, group in by_topic.items():
        handlers = bus.deferred_batch_handlers(topic)
        if not handlers:
            continue
        rebuilt = [row for row in group if not errors[row.pk].startswith(_UNREADABLE)]
        events = [bus.event_from_payload(row.topic, row.payload) for row in rebuilt]
        for handler in handlers:
            token = _delivering.set(tuple(row.pk for row in rebuilt))
            try:
                handler(events)
            except Exception as exc:
                logger.exception("deferred batch handler %r failed", handler)
                message = f"{getattr(handler, '__qualname__', handler)}: {exc!r}"
                for row in rebuilt:
                    errors[row.pk] = "\n".join(filter(None, [errors[row.pk], message]))
            finally:
                _delivering.reset(token)


def outbox_drain(*, budget: float = DRAIN_BUDGET, batch: int = BATCH) -> int:
    """Deliver due events until none is left or ``budget`` seconds passed; returns how many were
    delivered. Safe to run in several workers at once."""
    delivered = 0
    deadline = time.monotonic() + budget
    _draining.active = True
    try:
        while time.monotonic() < deadline:
            rows, spent = _claim(batch)
            if not rows:
                if spent:
                    continue  # set one aside; others may be due behind it
                break
            done: list[int] = []
            finishers: dict[str, _Finisher] = {}
            token = _finishers.set(finishers)
            try:
                with memo.batch():
                    errors = {row.pk: _deliver(row) for row in rows}
                    _deliver_batches(rows, errors)
                    _finishers.set(None)  # work done at the end does its own work at once
                    _finish_batch(finishers, errors)
            finally:
                _finishers.reset(token)
            for row in rows:
                error = errors[row.pk]
                if not error:
                    done.append(row.pk)
                    continue
                now = clock.now()
                OutboxEvent.objects.filter(pk=row.pk).update(
                    last_error=error[:4000],
                    available_at=now + backoff(row.attempts),
                    failed_at=now if row.attempts >= MAX_ATTEMPTS else None,
                )
            OutboxEvent.objects.filter(pk__in=done).delete()
            delivered += len(done)
    finally:
        _draining.active = False
    return delivered


def outbox_due() -> bool:
    due = OutboxEvent.objects.filter(failed_at__isnull=True, available_at__lte=clock.now())
    return due.exists()


def outbox_pending() -> int:
    return OutboxEvent.objects.filter(failed_at__isnull=True).count()


def outbox_backlog() -> tuple[int, float | None]:
    """(events waiting, age in seconds of the oldest one) — one indexed query."""
    waiting = OutboxEvent.objects.filter(failed_at__isnull=True).aggregate(
        n=Count("id"), oldest=Min("created_at")
    )
    oldest = waiting["oldest"]
    age = round((clock.now() - oldest).total_seconds(), 1) if oldest is not None else None
    return int(waiting["n"]), age


def outbox_tick() -> None:
    """The safety net: deliver what a lost wake-up or a dead worker left behind."""
    outbox_drain()


# --- waking the worker ---------------------------------------------------------------------------

_draining = threading.local()
_kick_lock = threading.Lock()
_kick_pending = False


def kick() -> None:
    """Ask a worker to drain the outbox (after-commit hook of ``outbox_record``).

    With immediate tasks (tests, ``HELPLINE_TASKS_IMMEDIATE``) the drain runs here and now, unless
    this thread is already draining (its loop picks the new rows up)."""
    from huey.contrib.djhuey import HUEY

    if HUEY.immediate:
        if not getattr(_draining, "active", False):
            outbox_drain()
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
        _kick_pending = False  # cleared before enqueueing: later commits schedule a new wake-up
    from helpline.core.tasks import outbox_drain_task

    try:
        outbox_drain_task()
    except Exception:  # the queue is down: the tick drains once it is back
        logger.exception("could not wake the worker for the outbox")
