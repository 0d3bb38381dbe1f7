"""API test fixtures: real users, real tokens, the full Django stack through the test Client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from helpline.accounts.models import User
from helpline.accounts.services import api_token_create

ClientFor = Callable[[User], Client]


@pytest.fixture
def client_for(db: None) -> ClientFor:
    """A test client that authenticates as ``user`` with a freshly created API token."""

    def make(user: User) -> Client:
        _, secret = api_token_create(user=user, name="tests")
        return Client(headers={"Authorization": f"Bearer {secret}"}, enforce_csrf_checks=True)

    return make


@pytest.fixture
def api(client_for: ClientFor, agent: User) -> Client:
    """The plain agent's API client."""
    return client_for(agent)
