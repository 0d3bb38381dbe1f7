"""The process remembers a token's owner for a few seconds (accounts.services.TOKEN_CACHE_SECONDS):
one token query per process every few seconds instead of one per request, and a revocation
made elsewhere takes effect within that time."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from helpline.accounts import services
from helpline.accounts.models import ApiToken, User
from helpline.accounts.services import api_token_create, api_token_revoke
from helpline.api.tests.helpers import BASE
from helpline.core import clock


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic(monkeypatch) -> Monotonic:
    fake = Monotonic()
    monkeypatch.setattr("helpline.accounts.services.time.monotonic", fake)
    return fake


@pytest.mark.django_db
def test_a_remembered_token_costs_no_query_and_gives_a_fresh_user_each_time(agent: User):
    _, secret = api_token_create(user=agent)
    first = services.api_token_authenticate(secret=secret)
    with CaptureQueriesContext(connection) as ctx:
        second = services.api_token_authenticate(secret=secret)
    assert len(ctx.captured_queries) == 0
    assert first == second == agent
    assert first is not second
    second.name = "changed in one request"
    third = services.api_token_authenticate(secret=secret)
    assert third is not None and third.name == agent.name
    assert third.role == agent.role and third.is_active


@pytest.mark.django_db
def test_a_token_revoked_by_another_process_stops_working_within_the_cache_time(
    agent: User, monotonic: Monotonic
):
    token, secret = api_token_create(user=agent)
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get(BASE + "/me").status_code == 200
    # Another process (or the admin site) revokes it: this process is not told.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=clock.now())
    monotonic.now += services.TOKEN_CACHE_SECONDS - 0.5
    assert client.get(BASE + "/me").status_code == 200
    monotonic.now += 1.0
    assert client.get(BASE + "/me").status_code == 401
    assert client.get(BASE + "/me").status_code == 401


@pytest.mark.django_db
def test_a_deactivated_agent_is_refused_within_the_cache_time(agent: User, monotonic: Monotonic):
    _, secret = api_token_create(user=agent)
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get(BASE + "/me").status_code == 200
    User.objects.filter(pk=agent.pk).update(is_active=False)
    monotonic.now += services.TOKEN_CACHE_SECONDS + 0.1
    assert client.get(BASE + "/me").status_code == 401


@pytest.mark.django_db
def test_revoking_in_this_process_takes_effect_at_once(agent: User):
    token, secret = api_token_create(user=agent)
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get(BASE + "/me").status_code == 200
    api_token_revoke(token=token)
    assert client.get(BASE + "/me").status_code == 401


@pytest.mark.django_db
def test_an_unknown_token_is_never_remembered(agent: User):
    _, secret = api_token_create(user=agent)
    wrong = secret[:-2] + ("aa" if not secret.endswith("aa") else "bb")
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            assert services.api_token_authenticate(secret=wrong) is None
        assert len(ctx.captured_queries) == 1
