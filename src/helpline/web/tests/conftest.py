from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from helpline.accounts.tests.factories import TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    # The sign-in rate limit counts in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def agent_client(agent) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def team_a(db):
    return TeamFactory(name="Billing")


@pytest.fixture
def team_b(db):
    return TeamFactory(name="Hardware")


@pytest.fixture
def restricted(team_a):
    user = UserFactory(name="Rita Restricted", restricted_to_teams=True)
    user.teams.set([team_a])
    return user


@pytest.fixture
def restricted_client(restricted) -> Client:
    client = Client()
    client.force_login(restricted)
    return client


HX = {"HX-Request": "true"}
