from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest

from helpline.core import clock
from helpline.core.tests.clock import FakeClock


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
