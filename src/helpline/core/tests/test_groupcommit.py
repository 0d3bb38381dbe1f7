"""Group commit with real threads: who leads, what each request gets back, how long it waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from helpline.core.groupcommit import GroupBusy, GroupCommit


def _run_threads(n: int, target) -> tuple[dict[int, object], dict[int, BaseException]]:
    results: dict[int, object] = {}
    errors: dict[int, BaseException] = {}

    def work(i: int) -> None:
        try:
            results[i] = target(i)
        except BaseException as exc:
            errors[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return results, errors


class HeldFirstGroup:
    """A run_group whose first group waits until ``others`` more items are queued, so the next
    group is exactly those (deterministic grouping with real threads)."""

    def __init__(self, others: int) -> None:
        self.others = others
        self.groups: list[list[int]] = []
        self.threads: list[str] = []
        self.committer: GroupCommit[int, int] | None = None

    def __call__(self, items: Sequence[int]) -> list[int | BaseException]:
        assert self.committer is not None
        if not self.groups:
            deadline = time.monotonic() + 10
            while len(self.committer._waiting) < self.others and time.monotonic() < deadline:
                time.sleep(0.001)
        self.groups.append(list(items))
        self.threads.append(threading.current_thread().name)
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]


def test_items_waiting_while_a_group_is_written_go_in_the_next_group_and_each_gets_its_answer():
    run = HeldFirstGroup(others=7)
    committer: GroupCommit[int, int] = GroupCommit(run, max_group=32)
    run.committer = committer
    started = threading.Event()

    def submit(i: int) -> int:
        if i == 0:
            started.set()
        else:
            started.wait()
            time.sleep(0.01)  # the first one leads and is held; these queue behind it
        return committer.submit(i)

    results, errors = _run_threads(8, submit)
    assert len(run.groups) == 2
    assert run.groups[0] == [0]
    assert sorted(run.groups[1]) == [1, 2, 3, 4, 5, 6, 7]
    assert results == {i: i * 10 for i in range(0, 8, 2)}
    assert {i: str(e) for i, e in errors.items()} == {i: f"odd {i}" for i in range(1, 8, 2)}
    assert (committer.groups, committer.items) == (2, 8)
    # The second group was written by one of its own requests (no committer thread).
    assert run.threads[1] != run.threads[0]


def test_max_group_splits_a_queue():
    run = HeldFirstGroup(others=7)
    committer: GroupCommit[int, int] = GroupCommit(run, max_group=3)
    run.committer = committer
    started = threading.Event()

    def submit(i: int) -> int:
        if i:
            started.wait()
            time.sleep(0.01)
        else:
            started.set()
        return committer.submit(i * 2)  # even: all succeed

    results, errors = _run_threads(8, submit)
    assert errors == {}
    assert results == {i: i * 20 for i in range(8)}
    assert [len(g) for g in run.groups] == [1, 3, 3, 1]


def test_an_exception_escaping_run_group_reaches_every_item_of_that_group_only():
    calls: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int | BaseException]:
        calls.append(list(items))
        if 13 in items:
            raise RuntimeError("boom")
        return list(items)

    committer: GroupCommit[int, int] = GroupCommit(run)
    with pytest.raises(RuntimeError, match="boom"):
        committer.submit(13)
    assert committer.submit(5) == 5  # the lead was handed back: the next request is served


def test_a_wrong_number_of_answers_is_an_error_not_a_hang():
    committer: GroupCommit[int, int] = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError, match="answered 0 items of a group of 1"):
        committer.submit(1)
    assert committer._leading is False


def test_a_request_no_leader_takes_in_time_is_withdrawn_unwritten():
    release = threading.Event()
    written: list[int] = []

    def run(items: Sequence[int]) -> list[int | BaseException]:
        if 0 in items:
            release.wait(10)
        written.extend(items)
        return list(items)

    committer: GroupCommit[int, int] = GroupCommit(run, timeout=0.2)
    leader = threading.Thread(target=committer.submit, args=(0,))
    leader.start()
    while not committer._leading:
        time.sleep(0.001)
    with pytest.raises(GroupBusy):
        committer.submit(1)
    release.set()
    leader.join(10)
    assert written == [0]
    assert list(committer._waiting) == []
    assert committer.submit(2) == 2


def test_many_threads_many_rounds_every_answer_to_its_own_request():
    lock = threading.Lock()
    sizes: list[int] = []

    def run(items: Sequence[int]) -> list[int | BaseException]:
        with lock:
            sizes.append(len(items))
        time.sleep(0.002)
        return [i + 1 for i in items]

    committer: GroupCommit[int, int] = GroupCommit(run, max_group=16)

    def submit(i: int) -> list[int]:
        return [committer.submit(i * 1000 + k) for k in range(50)]

    results, errors = _run_threads(12, submit)
    assert errors == {}
    for i, answers in results.items():
        assert answers == [i * 1000 + k + 1 for k in range(50)]
    assert committer.items == 600
    assert max(sizes) > 1  # twelve threads on a 2 ms write do share groups
    assert committer._leading is False and not committer._waiting
