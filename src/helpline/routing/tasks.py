"""Routing's background work: drains that may hand out many tickets at once run in a worker,
not in the request that caused them (an agent coming online with 70 free seats)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from helpline.routing import services


@db_task()  # type: ignore[untyped-decorator]
def queue_drain_task(team_ids: list[int | None]) -> int:
    """Idempotent: draining a queue nobody can take from does nothing."""
    return services.queue_drain(team_ids=team_ids)
