"""A small event bus with two kinds of subscribers.

Lower apps announce what happened with a frozen dataclass (``TicketOpened``); higher apps react
by subscribing a handler for that class. Handlers are registered explicitly in each app's
``handlers.register()``, called from ``AppConfig.ready()``, so the whole wiring can be listed
(``subscribers()``) and pinned by one snapshot test.

- An **inline** subscriber runs in the publishing process right after the surrounding
  transaction commits: for what the actor must see at once (an agent's own change).
- A **deferred** subscriber runs in the worker: ``publish`` writes the event to the outbox table
  in the same transaction as the change (``helpline.core.outbox``), and the worker delivers it
  shortly after. For work that may follow the change by a moment (SLA clocks and routing of a new
  ticket, triage), so that accepting a customer's message costs only the write itself. Deferred
  handlers must be idempotent: an event is delivered at least once.

Either way a handler never sees a write that is later rolled back.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import typing
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[Any], None]

_inline: dict[type, list[Handler]] = defaultdict(list)
_deferred: dict[type, list[Handler]] = defaultdict(list)
# Deferred handlers that take a whole batch of events at once (a list, in outbox order).
_deferred_batch: dict[type, list[Callable[[Sequence[Any]], None]]] = defaultdict(list)
_types: dict[str, type] = {}


def topic_of(event_type: type) -> str:
    return f"{event_type.__module__}.{event_type.__qualname__}"


def subscribe(event_type: type[E], handler: Callable[[E], None], *, deferred: bool = False) -> None:
    """Register ``handler`` for events of exactly ``event_type``; registering twice is a no-op.

    ``deferred=True`` delivers through the outbox in the worker (the event must be a dataclass of
    JSON-serialisable fields).
    """
    if deferred and not dataclasses.is_dataclass(event_type):
        raise TypeError(f"{event_type!r} must be a dataclass to be delivered through the outbox")
    table = _deferred if deferred else _inline
    handlers = table[event_type]
    if handler not in handlers:
        handlers.append(handler)
    _types[topic_of(event_type)] = event_type


def subscribe_batch(event_type: type[E], handler: Callable[[Sequence[E]], None]) -> None:
    """Register a deferred ``handler`` that receives the events of one outbox batch together
    (for work that is much cheaper in bulk); it runs after the batch's per-event handlers."""
    if not dataclasses.is_dataclass(event_type):
        raise TypeError(f"{event_type!r} must be a dataclass to be delivered through the outbox")
    handlers = _deferred_batch[event_type]
    if handler not in handlers:
        handlers.append(handler)
    _types[topic_of(event_type)] = event_type


def unsubscribe_all() -> None:
    """Forget every subscriber (a benchmark measuring one app's path alone)."""
    _inline.clear()
    _deferred.clear()
    _deferred_batch.clear()


def unsubscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    for table in (_inline, _deferred, _deferred_batch):
        if handler in table.get(event_type, ()):
            table[event_type].remove(handler)  # type: ignore[arg-type]


@contextmanager
def suspended() -> Iterator[None]:
    """No subscriber at all inside the block (benchmarks measuring a write alone)."""
    saved = {k: list(v) for k, v in _inline.items()}, {k: list(v) for k, v in _deferred.items()}
    saved_batch = {k: list(v) for k, v in _deferred_batch.items()}
    unsubscribe_all()
    try:
        yield
    finally:
        unsubscribe_all()
        _inline.update(saved[0])
        _deferred.update(saved[1])
        _deferred_batch.update(saved_batch)


def subscribers() -> dict[str, list[str]]:
    """The wiring, as names: ``{"helpline.tickets.events.TicketOpened": ["mod.func", ...]}``;
    deferred handlers carry a ``" (deferred)"`` suffix."""

    def name(handler: Handler) -> str:
        return f"{handler.__module__}.{getattr(handler, '__qualname__', repr(handler))}"

    wiring: dict[str, list[str]] = {}
    for event_type in sorted(set(_inline) | set(_deferred) | set(_deferred_batch), key=topic_of):
        names = [name(h) for h in _inline.get(event_type, ())]
        names += [f"{name(h)} (deferred)" for h in _deferred.get(event_type, ())]
        names += [f"{name(h)} (deferred, batch)" for h in _deferred_batch.get(event_type, ())]
        if names:
            wiring[topic_of(event_type)] = names
    return wiring


def publish(*events: object) -> None:
    """Announce ``events``: inline subscribers run once the current transaction commits; events
    with deferred subscribers are written to the outbox now, in the same transaction.

    Outside a transaction (autocommit) inline delivery is immediate. A failing inline handler is
    logged with its traceback and does not stop the others: the write that raised the event has
    already committed.
    """
    outgoing = [
        event for event in events if _deferred.get(type(event)) or _deferred_batch.get(type(event))
    ]
    if outgoing:
        from helpline.core import outbox

        outbox.outbox_record(
            [(topic_of(type(event)), dataclasses.asdict(event)) for event in outgoing]  # type: ignore[call-overload]
        )
    for event in events:
        if _inline.get(type(event)):
            transaction.on_commit(functools.partial(_deliver_inline, event))


def _deliver_inline(event: object) -> None:
    for handler in list(_inline.get(type(event), ())):
        try:
            handler(event)
        except Exception:
            logger.exception("event handler %r failed for %r", handler, type(event).__name__)


def deferred_handlers(topic: str) -> list[Handler]:
    event_type = _types.get(topic)
    return list(_deferred.get(event_type, ())) if event_type is not None else []


def deferred_batch_handlers(topic: str) -> list[Callable[[Sequence[Any]], None]]:
    event_type = _types.get(topic)
    return list(_deferred_batch.get(event_type, ())) if event_type is not None else []


def event_from_payload(topic: str, payload: dict[str, Any]) -> object:
    """Rebuild the event an outbox row holds (JSON lists become the tuples the class declares)."""
    event_type = _types.get(topic)
    if event_type is None:
        raise LookupError(f"no subscriber knows the event {topic!r}")
    hints = typing.get_type_hints(event_type)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(event_type):
        if field.name not in payload:
            continue
        value = payload[field.name]
        origin = typing.get_origin(hints.get(field.name))
        if isinstance(value, list) and origin is tuple:
            value = tuple(value)
        values[field.name] = value
    return event_type(**values)
