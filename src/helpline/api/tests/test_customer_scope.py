"""An agent restricted to her teams sees only the customers of tickets she may see."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from helpline.accounts.services import api_token_create
from helpline.accounts.tests.factories import TeamFactory, UserFactory
from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _get(client: Client, token: str, url: str) -> Any:
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_restricted_agent_gets_the_same_404_for_a_hidden_customer_as_a_missing_one(client):
    billing, shipping = TeamFactory(name="Billing"), TeamFactory(name="Shipping")
    agent = UserFactory(restricted_to_teams=True)
    agent.teams.set([billing])
    _, token = api_token_create(user=agent)
    mine = CustomerFactory(email="mine@example.com")
    hidden = CustomerFactory(email="hidden@example.com")
    make_ticket(customer=mine, team=billing)
    make_ticket(customer=hidden, team=shipping)

    assert _get(client, token, f"/api/v1/customers/{mine.pk}").status_code == 200
    forbidden = _get(client, token, f"/api/v1/customers/{hidden.pk}")
    missing = _get(client, token, "/api/v1/customers/999999")
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()

    patched = client.patch(
        f"/api/v1/customers/{hidden.pk}",
        data={"name": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert patched.status_code == 404
    hidden.refresh_from_db()
    assert hidden.name != "x"

    listed = {row["id"] for row in _get(client, token, "/api/v1/customers").json()["items"]}
    assert listed == {mine.pk}
    by_email = _get(client, token, "/api/v1/customers?email=hidden@example.com").json()
    assert by_email["items"] == []


def test_unrestricted_agent_sees_every_customer(client):
    agent = UserFactory()
    _, token = api_token_create(user=agent)
    someone = CustomerFactory(email="someone@example.com")
    assert _get(client, token, f"/api/v1/customers/{someone.pk}").status_code == 200
