from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpline.core import clock
from helpline.core.tests.clock import FakeClock


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", fake)
    return fake
