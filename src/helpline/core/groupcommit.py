"""Group commit: concurrent requests of one process hand their writes to one of them, which does
them together (one transaction, multi-row inserts) and gives each request its own answer.

There is no committer thread. The first request that finds nobody committing becomes the
leader: it takes every item waiting (its own first, at most ``max_group``), runs ``run_group``
on them in its own thread (so with its own database connection), hands each waiting request
its result or its exception, and then passes the lead to the oldest request that arrived
meanwhile, or, if none did, leaves it free. Nothing waits on purpose: a group is whatever
arrived while the previous one was being written, so a lone request pays no delay and a busy
process writes bigger groups.

``run_group`` must answer every item: a list aligned with its input, each entry the item's
result or the exception to raise in that item's request. An exception that escapes it is
given to every item of the group.

A request waits at most ``timeout`` seconds for a leader to *take* its item; if none did, the
item is withdrawn (never written) and :class:`GroupBusy` is raised. Once taken, it waits for the
answer: the write is under way and its outcome must not be lost.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupBusy(Exception):
    """No leader took the item within the timeout; nothing of it was written."""


class _Slot(Generic[T, R]):
    __slots__ = ("done", "error", "item", "lead", "result", "taken")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = threading.Event()
        self.lead = False
        self.taken = False
        self.result: R | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        run_group: Callable[[Sequence[T]], Sequence[R | BaseException]],
        *,
        max_group: int = 32,
        timeout: float = 30.0,
    ) -> None:
        if max_group < 1:
            raise ValueError("max_group must be at least 1")
        self._run_group = run_group
        self.max_group = max_group
        self.timeout = timeout
        self._lock = threading.Lock()
        self._waiting: deque[_Slot[T, R]] = deque()
        self._leading = False
        # Figures for benchmarks and tests: groups written and items in them.
        self.groups = 0
        self.items = 0

    def submit(self, item: T) -> R:
        """Write ``item`` with whatever else is waiting; return its result or raise its error."""
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._waiting.append(slot)
            if not self._leading:
                self._leading = True
                slot.lead = True
        if not slot.lead:
            self._wait(slot)
        if slot.lead:  # first in, or handed the lead while waiting
            self._lead(slot)
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _wait(self, slot: _Slot[T, R]) -> None:
        if slot.done.wait(self.timeout):
            return
        with self._lock:
            if not slot.taken and not slot.lead:
                self._waiting.remove(slot)
                raise GroupBusy("the write queue did not take this request in time")
        slot.done.wait()  # taken: the write is under way, its outcome is coming

    def _lead(self, own: _Slot[T, R]) -> None:
        with self._lock:
            group = [
                self._waiting.popleft() for _ in range(min(self.max_group, len(self._waiting)))
            ]
            for slot in group:
                slot.taken = True
        try:
            try:
                answers = list(self._run_group([slot.item for slot in group]))
                if len(answers) != len(group):
                    raise RuntimeError(
                        f"run_group answered {len(answers)} items of a group of {len(group)}"
                    )
            except BaseException as exc:
                answers = [exc] * len(group)
            self.groups += 1
            self.items += len(group)
            for slot, answer in zip(group, answers, strict=True):
                if isinstance(answer, BaseException):
                    slot.error = answer
                else:
                    slot.result = answer
                if slot is not own:
                    slot.done.set()
        finally:
            own.lead = False
            self._hand_over()

    def _hand_over(self) -> None:
        with self._lock:
            if self._waiting:
                following = self._waiting[0]
                following.lead = True
                following.done.set()
            else:
                self._leading = False
