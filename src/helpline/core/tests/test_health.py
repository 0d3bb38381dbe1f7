from __future__ import annotations

from datetime import timedelta

import pytest

from helpline.core import clock, heartbeat
from helpline.core.models import WorkerHeartbeat
from helpline.core.tasks import on_tick, run_tick, tick_jobs

pytestmark = pytest.mark.django_db


def test_healthz_reports_worker_down_without_heartbeat(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["worker"] == "down"
    assert body["status"] == "degraded"


def test_healthz_ok_with_a_fresh_heartbeat_and_down_with_a_stale_one(client):
    heartbeat.beat()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"

    WorkerHeartbeat.objects.update(seen_at=clock.now() - timedelta(minutes=5))
    assert client.get("/healthz").json()["worker"] == "down"


def test_healthz_shows_how_far_the_worker_is_behind(client):
    from helpline.core.models import OutboxEvent

    heartbeat.beat()
    assert client.get("/healthz").json()["outbox"] == {"waiting": 0, "oldest_seconds": None}
    now = clock.now()
    OutboxEvent.objects.create(
        topic="x.Y", payload={}, created_at=now - timedelta(seconds=90), available_at=now
    )
    backlog = client.get("/healthz").json()["outbox"]
    assert backlog["waiting"] == 1 and 89 <= backlog["oldest_seconds"] <= 120


def test_tick_runs_jobs_records_tick_and_survives_a_failing_job():
    calls: list[str] = []

    def good() -> None:
        calls.append("good")

    def bad() -> None:
        raise RuntimeError("boom")

    on_tick(bad)
    on_tick(good)
    try:
        assert f"{__name__}.{good.__qualname__}" in tick_jobs()
        failures = run_tick()
    finally:
        from helpline.core import tasks

        tasks._tick_jobs.remove(bad)
        tasks._tick_jobs.remove(good)
    assert failures == 1
    assert calls == ["good"]
    assert WorkerHeartbeat.objects.get(name=heartbeat.worker_name()).last_tick_at is not None
