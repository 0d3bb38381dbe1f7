from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest

from helpline.core import clock


class FakeClock:
    """Time that only moves when a test says so; every service reads it via clock.now()."""

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


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    # Monday 23 November 2026, 09:00 UTC.
    fake = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", fake)
    return fake


@pytest.fixture(autouse=True)
def default_policies(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush the tables the data migration filled; put the defaults back
    with the migration's own function."""
    if not request.node.get_closest_marker("django_db"):
        return
    from django.apps import apps

    from helpline.sla.models import SlaPolicy

    migration = importlib.import_module("helpline.sla.migrations.0002_default_channel_policies")
    if not SlaPolicy.objects.filter(name__endswith="(default)").exists():
        migration.create_defaults(apps, None)
