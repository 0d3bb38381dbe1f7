"""Worker liveness, as rows in the database, so any web process can report it."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.db import close_old_connections

from helpline.core import clock
from helpline.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=60)
INTERVAL_SECONDS = 10.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat() -> None:
    WorkerHeartbeat.objects.update_or_create(name=worker_name(), defaults={"seen_at": clock.now()})


def record_tick() -> None:
    WorkerHeartbeat.objects.update_or_create(
        name=worker_name(), defaults={"seen_at": clock.now(), "last_tick_at": clock.now()}
    )


def live_workers() -> int:
    return WorkerHeartbeat.objects.filter(seen_at__gte=clock.now() - STALE_AFTER).count()


def start_beating(stop: threading.Event) -> threading.Thread:
    """Beat every few seconds on a daemon thread until ``stop`` is set."""

    def loop() -> None:
        while not stop.is_set():
            try:
                beat()
            except Exception:
                # A missed beat is what /healthz reports; the loop must outlive a DB blip.
                logger.exception("worker heartbeat failed")
            finally:
                close_old_connections()
            stop.wait(INTERVAL_SECONDS)

    thread = threading.Thread(target=loop, name="helpline-heartbeat", daemon=True)
    thread.start()
    return thread
