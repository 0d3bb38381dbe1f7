"""core.ratelimit: counts kept per process and added to the shared count (the cache) in steps.
``forget()`` stands for another process: it drops this process's counts, not the shared one."""

from __future__ import annotations

import pytest

from helpline.core import ratelimit

T0 = 1_800_000_010.0  # 10 s into a minute


@pytest.fixture
def clock(monkeypatch):
    now = [T0]
    monkeypatch.setattr(ratelimit, "_now", lambda: now[0])
    return now


def _hits(n: int, *, limit: int, ident: str = "caller") -> list[bool]:
    return [ratelimit.hit("t", ident, limit=limit).allowed for _ in range(n)]


def test_hits_reach_the_shared_count_in_steps(clock):
    assert all(_hits(25, limit=1000))  # step 10: shared after the 1st, 11th and 21st hit
    ratelimit.forget()
    assert ratelimit.used("t", "caller") == 21  # what another process sees: behind by < a step
    assert ratelimit.hit("t", "caller", limit=1000).remaining == 1000 - 22


def test_near_the_limit_every_hit_is_shared(clock):
    assert all(_hits(150, limit=200))  # step 2
    ratelimit.forget()  # the other process
    seen = ratelimit.used("t", "caller")
    assert 150 - 2 < seen <= 150  # the first process's last step may still be its own
    allowed = _hits(60, limit=200)
    # The other process is refused exactly at the limit as far as the shared count knows it.
    assert allowed.count(True) == 200 - seen
    assert allowed[200 - seen :] == [False] * (60 - 200 + seen)
    ratelimit.forget()
    assert ratelimit.used("t", "caller") == 210 - (150 - seen)  # every one of its hits shared


def test_a_second_later_the_pending_hits_are_shared(clock):
    assert all(_hits(5, limit=6000))  # step 60: only the first is shared at once
    ratelimit.forget()
    assert ratelimit.used("t", "caller") == 1
    clock[0] = T0  # the first process again
    assert all(_hits(5, limit=6000))
    clock[0] = T0 + 1.5
    ratelimit.hit("t", "caller", limit=6000)
    ratelimit.forget()
    assert ratelimit.used("t", "caller") >= 7


def test_callers_and_minutes_are_counted_apart(clock):
    assert _hits(3, limit=2) == [True, True, False]
    assert _hits(1, limit=2, ident="someone else") == [True]
    clock[0] = T0 + 60
    assert _hits(3, limit=2) == [True, True, False]
    verdict = ratelimit.hit("t", "caller", limit=2)
    assert verdict.reset_seconds == 50 and verdict.remaining == 0


def test_zero_is_off(clock):
    assert all(_hits(50, limit=0))
    assert ratelimit.used("t", "caller") == 0
