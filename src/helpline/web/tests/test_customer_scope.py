"""The customers pages follow the ticket scope of an agent restricted to her teams."""

from __future__ import annotations

import pytest

from helpline.accounts.tests.factories import PASSWORD, TeamFactory, UserFactory
from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_restricted_agent_cannot_open_or_list_another_teams_customer(client):
    billing, shipping = TeamFactory(name="Billing"), TeamFactory(name="Shipping")
    agent = UserFactory(restricted_to_teams=True)
    agent.teams.set([billing])
    mine = CustomerFactory(name="Mina Visible", email="mine@example.com")
    hidden = CustomerFactory(name="Hugo Hidden", email="hidden@example.com")
    make_ticket(customer=mine, team=billing)
    make_ticket(customer=hidden, team=shipping)
    assert client.login(username=agent.email, password=PASSWORD)

    assert client.get(f"/customers/{mine.pk}/").status_code == 200
    assert client.get(f"/customers/{hidden.pk}/").status_code == 404
    listing = client.get("/customers/").content.decode()
    assert "Mina Visible" in listing
    assert "Hugo Hidden" not in listing
