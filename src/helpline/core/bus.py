"""A small in-process event bus.

Lower apps announce what happened with a frozen dataclass (``TicketOpened``); higher apps react
by subscribing a handler for that class. Handlers are registered explicitly in each app's
``handlers.register()``, called from ``AppConfig.ready()``, so the whole wiring can be listed
(``subscribers()``) and pinned by one snapshot test.

Events are delivered after the surrounding transaction commits: a handler never sees a write
that is later rolled back.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[Any], None]

_subscribers: dict[type, list[Handler]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Register ``handler`` for events of exactly ``event_type``; registering twice is a no-op."""
    handlers = _subscribers[event_type]
    if handler not in handlers:
        handlers.append(handler)


def subscribers() -> dict[str, list[str]]:
    """The wiring, as names: ``{"helpline.tickets.events.TicketOpened": ["mod.func", ...]}``."""
    return {
        f"{event_type.__module__}.{event_type.__qualname__}": [
            f"{h.__module__}.{getattr(h, '__qualname__', repr(h))}" for h in handlers
        ]
        for event_type, handlers in sorted(
            _subscribers.items(), key=lambda item: (item[0].__module__, item[0].__qualname__)
        )
        if handlers
    }


def publish(event: object) -> None:
    """Deliver ``event`` to its subscribers once the current transaction commits.

    Outside a transaction (autocommit) delivery is immediate. A failing handler is logged with
    its traceback and does not stop the others: the write that raised the event has already
    committed, and each handler is responsible for its own retries (usually by enqueuing a task).
    """
    transaction.on_commit(lambda: _deliver(event))


def _deliver(event: object) -> None:
    for handler in list(_subscribers.get(type(event), ())):
        try:
            handler(event)
        except Exception:
            logger.exception("event handler %r failed for %r", handler, type(event).__name__)
