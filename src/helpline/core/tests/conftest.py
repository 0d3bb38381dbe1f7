from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpline.core import clock


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", fake)
    return fake
