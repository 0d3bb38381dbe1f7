"""Request limits (docs/api.md "Rate limits"): per token, per signed-in user, per address for
unknown tokens and for the inbound email webhook. Counted in the real cache (files here)."""

from __future__ import annotations

import pytest
from django.test import Client

from helpline.accounts.models import User
from helpline.accounts.tests.factories import PASSWORD
from helpline.api.tests.conftest import ClientFor
from helpline.api.tests.helpers import BASE
from helpline.core import ratelimit

pytestmark = pytest.mark.django_db


@pytest.fixture
def mid_minute(monkeypatch):
    """The clock at 20 s into a minute, so one test never straddles two windows."""
    monkeypatch.setattr(ratelimit, "_now", lambda: 1_800_000_020.0)
    return ratelimit


def test_a_token_over_its_limit_gets_429_with_retry_after(
    settings, mid_minute, client_for: ClientFor, agent: User
):
    settings.HELPLINE_API_RATE_PER_MINUTE = 3
    api = client_for(agent)
    assert [api.get(BASE + "/me").status_code for _ in range(3)] == [200, 200, 200]

    refused = api.get(BASE + "/me")

    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert "at most 3 a minute per token" in refused.json()["message"]
    assert refused["Retry-After"] == "40"
    # Another token of the same agent has its own count.
    assert client_for(agent).get(BASE + "/me").status_code == 200


def test_the_count_starts_again_with_the_next_minute(
    settings, monkeypatch, client_for: ClientFor, agent: User
):
    settings.HELPLINE_API_RATE_PER_MINUTE = 1
    api = client_for(agent)
    monkeypatch.setattr(ratelimit, "_now", lambda: 1_800_000_010.0)
    assert api.get(BASE + "/me").status_code == 200
    assert api.get(BASE + "/me").status_code == 429
    monkeypatch.setattr(ratelimit, "_now", lambda: 1_800_000_070.0)
    assert api.get(BASE + "/me").status_code == 200


def test_a_refused_write_changes_nothing(settings, mid_minute, client_for: ClientFor, agent):
    from helpline.tickets.models import Ticket

    settings.HELPLINE_API_RATE_PER_MINUTE = 1
    api = client_for(agent)
    assert api.get(BASE + "/me").status_code == 200
    before = Ticket.objects.count()
    response = api.post(
        BASE + "/tickets",
        {"customer": {"email": "x@example.com"}, "channel": "web", "subject": "s", "body": "b"},
        content_type="application/json",
    )
    assert response.status_code == 429
    assert Ticket.objects.count() == before


def test_a_signed_in_user_is_limited_per_user(settings, mid_minute, agent: User):
    settings.HELPLINE_API_RATE_PER_MINUTE = 2
    browser = Client()
    assert browser.login(email=agent.email, password=PASSWORD)
    assert [browser.get(BASE + "/me").status_code for _ in range(3)] == [200, 200, 429]
    assert "per user" in browser.get(BASE + "/me").json()["message"]


def test_unknown_tokens_from_one_address_are_cut_off(
    settings, mid_minute, client_for: ClientFor, agent: User
):
    settings.HELPLINE_API_AUTH_FAILURES_PER_MINUTE = 3
    guesses = [
        Client(headers={"Authorization": f"Bearer hl_guess-{n}"}).get(BASE + "/me").status_code
        for n in range(4)
    ]
    assert guesses == [401, 401, 401, 429]
    # From that address even a good token waits for the next minute...
    refused = client_for(agent).get(BASE + "/me")
    assert refused.status_code == 429 and refused["Retry-After"] == "40"
    # ... but not from another one.
    elsewhere = client_for(agent).get(BASE + "/me", REMOTE_ADDR="198.51.100.7")
    assert elsewhere.status_code == 200


def test_a_limit_of_zero_is_off(settings, mid_minute, client_for: ClientFor, agent: User):
    settings.HELPLINE_API_RATE_PER_MINUTE = 0
    api = client_for(agent)
    assert {api.get(BASE + "/me").status_code for _ in range(5)} == {200}


def test_the_webhook_is_limited_per_address_before_its_signature(settings, mid_minute):
    settings.HELPLINE_WEBHOOK_RATE_PER_MINUTE = 2
    anon = Client()
    codes = [
        anon.post(BASE + "/inbound/email", b"x", content_type="message/rfc822").status_code
        for _ in range(3)
    ]
    # Off (no secret set: 503) for the first two; the third is refused before that check.
    assert codes == [503, 503, 429]
    refused = anon.post(BASE + "/inbound/email", b"x", content_type="message/rfc822")
    assert "at most 2 a minute per address" in refused.json()["message"]
    assert refused["Retry-After"] == "40"


def test_no_secret_reaches_the_cache(settings, mid_minute, client_for: ClientFor, agent: User):
    from django.core.cache import cache

    settings.HELPLINE_API_RATE_PER_MINUTE = 5
    api = client_for(agent)
    secret = api.defaults["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    assert api.get(BASE + "/me").status_code == 200
    verdict = ratelimit.hit("api", "token:" + secret, limit=5)
    assert verdict.remaining == 3  # the request above and this hit, under the hashed key
    key = ratelimit._key("api", "token:" + secret, 1_800_000_000)
    assert cache.get(key) == 2 and secret not in key
