"""Running Huey consumers in this process."""

from __future__ import annotations

import os
import threading
from typing import Any

from huey.consumer import Consumer
from huey.contrib.djhuey import HUEY


class _InProcessConsumer(Consumer):  # type: ignore[misc]
    """A consumer that runs beside the web server: signals belong to uvicorn, not to Huey."""

    def _set_signal_handlers(self) -> None:
        return None


def consumer_options() -> dict[str, Any]:
    from django.conf import settings

    options: dict[str, Any] = dict(settings.HUEY.get("consumer", {}))
    options.setdefault("workers", 2)
    options.setdefault("worker_type", "thread")
    options.setdefault("periodic", True)
    options.setdefault("check_worker_health", True)
    return options


# Niceness of the background threads of `helpline serve`: a burst of work for the worker (the
# outbox after a wave of new tickets) must not slow down accepting the next customer message.
BACKGROUND_NICE = 10


def _background_priority() -> None:
    """Lower this thread's CPU priority (Linux schedules threads; other systems: no-op)."""
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(current, BACKGROUND_NICE))  # only ever lower
    except (AttributeError, OSError):
        pass


def start_in_process() -> tuple[Consumer, threading.Event]:
    from helpline.core.heartbeat import start_beating

    HUEY.on_startup("background_priority")(_background_priority)
    consumer = _InProcessConsumer(HUEY, **consumer_options())
    consumer.start()
    stop = threading.Event()
    start_beating(stop)
    return consumer, stop


def run_foreground() -> None:
    from helpline.core.heartbeat import start_beating

    stop = threading.Event()
    start_beating(stop)
    try:
        Consumer(HUEY, **consumer_options()).run()
    finally:
        stop.set()
