"""`helpline serve` runs its background worker threads at a lower CPU priority than the web."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from helpline.cli.workers import BACKGROUND_NICE, _background_priority


def _nice(tid: int) -> int:
    stat = Path(f"/proc/self/task/{tid}/stat").read_text(encoding="ascii")
    return int(stat.rsplit(")", 1)[1].split()[16])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_only_the_worker_thread_is_lowered():
    before = _nice(threading.get_native_id())
    seen: list[int] = []

    def worker() -> None:
        _background_priority()
        seen.append(_nice(threading.get_native_id()))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [max(before, BACKGROUND_NICE)]
    assert _nice(threading.get_native_id()) == before  # the web side keeps its priority
    assert os.getpriority(os.PRIO_PROCESS, 0) == before
