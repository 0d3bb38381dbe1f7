"""A clock for tests: time that only moves when the test says so. Every service reads the time
through ``helpline.core.clock.now``, which the fixtures replace with a ``FakeClock``."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current

    def set(self, value: datetime) -> datetime:
        self.current = value
        return value
