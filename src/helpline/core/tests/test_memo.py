from __future__ import annotations

from helpline.core import memo


def test_outside_a_batch_every_call_loads():
    calls: list[int] = []

    def load() -> int:
        calls.append(1)
        return len(calls)

    assert memo.memoized("k", load) == 1
    assert memo.memoized("k", load) == 2


def test_inside_a_batch_a_value_is_loaded_once_and_forgotten_after():
    calls: list[int] = []

    def load() -> int:
        calls.append(1)
        return len(calls)

    with memo.batch():
        assert memo.memoized("k", load) == 1
        assert memo.memoized("k", load) == 1
        assert memo.memoized("other", load) == 2
    with memo.batch():  # the next batch sees edits made meanwhile
        assert memo.memoized("k", load) == 3
