"""A separate worker process consumes tasks from Redis, as on a scaled-out install."""

from __future__ import annotations

import os
import subprocess

import pytest
import redis

from tests.cli_helpers import HELPLINE, clean_env, run

REDIS_URL = os.environ.get("HELPLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis is not answering")
def test_worker_on_redis_answers_a_ping_from_another_process(tmp_path):
    if os.environ.get("HELPLINE_DATABASE_URL"):
        pytest.skip("runs on the embedded database with a Redis queue")
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = clean_env(tmp_path, HELPLINE_REDIS_URL=REDIS_URL)
    migrate = run("manage", "migrate", "-v0", env=env)
    assert migrate.returncode == 0, migrate.stderr
    worker = subprocess.Popen(
        [*HELPLINE, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        answered = run("manage", "worker_ping", "--timeout", "60", env=env)
        assert answered.returncode == 0, answered.stderr
        assert "answered" in answered.stdout
        assert f":{worker.pid}" in answered.stdout
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_worker_ping_fails_clearly_without_a_worker(tmp_path):
    if os.environ.get("HELPLINE_DATABASE_URL"):
        pytest.skip("runs on the embedded database")
    env = clean_env(tmp_path)
    result = run("manage", "worker_ping", "--timeout", "2", env=env)
    assert result.returncode == 1
    assert "no worker answered" in result.stderr
