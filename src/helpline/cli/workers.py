"""Running Huey consumers in this process."""

from __future__ import annotations

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


def start_in_process() -> tuple[Consumer, threading.Event]:
    from helpline.core.heartbeat import start_beating

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
