"""N+1 guards: a list endpoint makes the same number of queries for 2 rows as for 25."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from helpline.accounts.choices import Role
from helpline.accounts.models import ApiToken, Team, User
from helpline.accounts.tests.factories import TeamFactory, UserFactory
from helpline.api.tests.helpers import get, post
from helpline.core import clock
from helpline.customers.models import Customer
from helpline.customers.services import identity_add
from helpline.customers.tests.factories import CustomerFactory, OrderFactory
from helpline.tickets.models import Ticket
from helpline.tickets.services import note_add, reply_add, ticket_update
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

# Authentication (token lookup, at most one last-used write), the team scope of a restricted
# agent, the page itself, and one query per prefetched relation. Nothing per row.
MAX_LIST_QUERIES = 7


def _queries(client: Client, path: str, **params: Any) -> tuple[int, Any]:
    # A token records its use at most once a minute; mark it used now so that a slow set-up
    # cannot add that one write to one measurement and not the other.
    ApiToken.objects.update(last_used_at=clock.now())
    with CaptureQueriesContext(connection) as ctx:
        response = get(client, path, **params)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


def _rich_ticket(agent: User, team: Team, n: int) -> Ticket:
    ticket = make_ticket(team=team, tags=[f"tag{n}", "common"], subject=f"ticket {n}")
    ticket_update(ticket=ticket, actor=agent, assignee=agent, priority="high")
    return ticket


@pytest.mark.parametrize("restricted", [False, True])
def test_ticket_list_queries_do_not_grow_with_rows(
    client_for, django_assert_max_num_queries, restricted
):
    team = TeamFactory()
    user = UserFactory(role=Role.AGENT, restricted_to_teams=restricted)
    user.teams.set([team])
    api = client_for(user)
    get(api, "/me")  # the token's first use writes last_used_at once; keep it out of the count

    for n in range(2):
        _rich_ticket(user, team, n)
    small, data = _queries(api, "/tickets")
    assert len(data["items"]) == 2

    for n in range(2, 25):
        _rich_ticket(user, team, n)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        large, data = _queries(api, "/tickets", limit=25)
    assert len(data["items"]) == 25
    assert all(t["assignee"] and t["team"] and len(t["tags"]) == 2 for t in data["items"])
    assert large == small


def test_filtered_and_paged_ticket_list_stays_flat(
    client_for, agent, django_assert_max_num_queries
):
    team = TeamFactory()
    api = client_for(agent)
    get(api, "/me")
    for n in range(30):
        _rich_ticket(agent, team, n)
    first = get(api, "/tickets", limit=10).json()
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        _, data = _queries(
            api, "/tickets", limit=10, cursor=first["next_cursor"], tag="common", assignee="me"
        )
    assert len(data["items"]) == 10


def test_message_list_queries_do_not_grow_with_rows(
    client_for, agent, django_assert_max_num_queries
):
    api = client_for(agent)
    get(api, "/me")
    ticket = make_ticket()
    reply_add(ticket=ticket, author=agent, body_text="first reply")
    small, _ = _queries(api, f"/tickets/{ticket.pk}/messages")
    for n in range(20):
        note_add(ticket=ticket, author=agent, body_text=f"note {n}")
        reply_add(ticket=ticket, author=agent, body_text=f"reply {n}")
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        large, data = _queries(api, f"/tickets/{ticket.pk}/messages", limit=40)
    assert len(data["items"]) == 40
    assert large == small


def test_event_list_queries_do_not_grow_with_rows(client_for, agent, django_assert_max_num_queries):
    api = client_for(agent)
    get(api, "/me")
    ticket = make_ticket()
    small, _ = _queries(api, f"/tickets/{ticket.pk}/events")
    others = [UserFactory(), UserFactory()]
    for n in range(15):
        ticket_update(ticket=ticket, actor=agent, subject=f"subject {n}")
        ticket_update(ticket=ticket, actor=others[n % 2], priority="high" if n % 2 else "low")
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        large, data = _queries(api, f"/tickets/{ticket.pk}/events", limit=30)
    assert len(data["items"]) == 30
    assert large == small


def test_customer_list_queries_do_not_grow_with_rows(
    client_for, agent, django_assert_max_num_queries
):
    api = client_for(agent)
    get(api, "/me")

    def rich_customer(n: int) -> Customer:
        customer = CustomerFactory()
        identity_add(customer=customer, kind="phone", value=f"+441234500{n:03d}")
        OrderFactory(customer=customer)
        return customer

    for n in range(2):
        rich_customer(n)
    small, _ = _queries(api, "/customers")
    for n in range(2, 25):
        rich_customer(n)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        large, data = _queries(api, "/customers", limit=25)
    assert len(data["items"]) == 25
    assert all(len(c["identities"]) == 2 for c in data["items"])
    assert large == small


def test_ticket_create_and_detail_use_a_bounded_number_of_queries(
    client_for, agent, django_assert_max_num_queries
):
    api = client_for(agent)
    get(api, "/me")
    # Tags are left out: tickets' service spends a few queries per tag name, by design of
    # get_or_create, which is the tickets app's business and not a per-row cost of this API.
    body = {"customer": {"email": "q@example.com"}, "subject": "Count me", "body": "Hi"}
    with django_assert_max_num_queries(20):
        ticket_id = post(api, "/tickets", body).json()["id"]
    with django_assert_max_num_queries(4):
        assert get(api, f"/tickets/{ticket_id}").status_code == 200
