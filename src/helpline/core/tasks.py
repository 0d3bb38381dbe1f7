"""The periodic tick: the one clock-driven entry point later features hang their checks on."""

from __future__ import annotations

import logging
from collections.abc import Callable

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from helpline.core import heartbeat

logger = logging.getLogger(__name__)

_tick_jobs: list[Callable[[], None]] = []


def on_tick(job: Callable[[], None]) -> Callable[[], None]:
    """Register ``job`` to run on every tick. Jobs must be idempotent: state lives in columns."""
    if job not in _tick_jobs:
        _tick_jobs.append(job)
    return job


def tick_jobs() -> list[str]:
    return [f"{job.__module__}.{job.__qualname__}" for job in _tick_jobs]


def run_tick() -> int:
    """Run every registered job once; a failing job is logged and does not stop the rest."""
    failures = 0
    for job in list(_tick_jobs):
        try:
            job()
        except Exception:
            failures += 1
            logger.exception("tick job %s failed", job.__qualname__)
    heartbeat.record_tick()
    return failures


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def tick() -> None:
    run_tick()


@db_task()  # type: ignore[untyped-decorator]
def outbox_drain_task() -> None:
    """Deliver the outbox's due events; a drain that ran out of time hands over to a new task so
    that other queued work is not starved."""
    from helpline.core import outbox

    outbox.outbox_drain()
    if outbox.outbox_due():
        outbox_drain_task()


@db_task()  # type: ignore[untyped-decorator]
def ping() -> str:
    """Answer with the worker's name: proves the queue path from enqueuer to worker end to end."""
    return heartbeat.worker_name()
