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

    cache.clear()
