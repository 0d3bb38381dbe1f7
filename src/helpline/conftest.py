"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest

from helpline.accounts.choices import Role
from helpline.accounts.models import User
from helpline.accounts.tests.factories import UserFactory


@pytest.fixture
def agent(db: None) -> User:
    return UserFactory(role=Role.AGENT)


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(role=Role.ADMIN)


@pytest.fixture
def supervisor(db: None) -> User:
    return UserFactory(role=Role.SUPERVISOR)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """The cache is shared by processes (files or Redis); each test starts with it empty."""
    from django.core.cache import cache

    from helpline.core import ratelimit

    cache.clear()
    ratelimit.forget()  # the request limits' in-process counts go with the shared ones


@pytest.fixture(autouse=True)
def _fresh_queue_inputs() -> None:
    """The SLA's reused queue inputs (policies, reply rates, weekly profiles) are per process:
    one test's rows must not answer the next test's estimate."""
    from helpline.sla.expected import reuse_cache_clear

    reuse_cache_clear()
