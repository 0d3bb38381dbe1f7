"""A restricted agent cannot tell another team's ticket from one that does not exist."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from helpline.accounts.choices import Role
from helpline.accounts.tests.factories import TeamFactory, UserFactory
from helpline.api.tests.helpers import BASE, get, patch, post, snapshot
from helpline.tickets.models import Ticket
from helpline.tickets.services import ticket_update
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams():
    return TeamFactory(name="Billing"), TeamFactory(name="Repairs")


@pytest.fixture
def restricted(teams):
    billing, _ = teams
    user = UserFactory(role=Role.AGENT, restricted_to_teams=True)
    user.teams.set([billing])
    return user


@pytest.fixture
def tickets(teams):
    billing, repairs = teams
    return make_ticket(team=billing, subject="Double charge"), make_ticket(
        team=repairs, subject="Broken lid"
    )


def _missing_id() -> int:
    return (Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


REQUESTS = [
    ("GET", "/tickets/{id}", None),
    ("PATCH", "/tickets/{id}", {"priority": "urgent"}),
    ("PATCH", "/tickets/{id}", {"status": "solved", "tags": ["x"]}),
    ("GET", "/tickets/{id}/messages", None),
    ("POST", "/tickets/{id}/messages", {"kind": "reply", "body": "Hello"}),
    ("POST", "/tickets/{id}/messages", {"kind": "note", "body": "Psst"}),
    ("GET", "/tickets/{id}/events", None),
]


def _call(client: Client, method: str, path: str, body: Any) -> Any:
    if method == "GET":
        return get(client, path)
    if method == "PATCH":
        return patch(client, path, body)
    return post(client, path, body)


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
def test_other_teams_ticket_gets_the_same_404_as_a_missing_one(
    client_for, restricted, tickets, method, path, body
):
    _, foreign = tickets
    api = client_for(restricted)
    before = snapshot()

    forbidden = _call(api, method, path.format(id=foreign.pk), body)
    missing = _call(api, method, path.format(id=_missing_id()), body)

    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content
    assert forbidden.json() == {"code": "not_found", "message": "Ticket not found."}
    assert forbidden["Content-Type"] == missing["Content-Type"]
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
def test_own_teams_ticket_is_reachable(client_for, restricted, tickets, method, path, body):
    own, _ = tickets
    response = _call(client_for(restricted), method, path.format(id=own.pk), body)
    assert response.status_code in (200, 201), response.content


def test_list_shows_own_teams_and_own_assigned_tickets_only(client_for, restricted, tickets):
    own, foreign = tickets
    assigned = make_ticket(subject="Assigned to her directly")
    ticket_update(ticket=assigned, actor=None, assignee=restricted)

    items = get(client_for(restricted), "/tickets").json()["items"]
    assert {t["id"] for t in items} == {own.pk, assigned.pk}
    # Filtering by the other team's id reveals nothing either.
    other_team = foreign.team_id
    assert get(client_for(restricted), "/tickets", team=other_team).json()["items"] == []


def test_unrestricted_agent_and_supervisor_see_every_team(client_for, agent, supervisor, tickets):
    for user in (agent, supervisor):
        ids = {t["id"] for t in get(client_for(user), "/tickets").json()["items"]}
        assert ids == {t.pk for t in tickets}


def test_restricted_supervisor_is_not_restricted(client_for, teams, tickets):
    boss = UserFactory(role=Role.SUPERVISOR, restricted_to_teams=True)
    _, foreign = tickets
    assert get(client_for(boss), f"/tickets/{foreign.pk}").status_code == 200


def test_out_of_range_and_non_numeric_ids_are_plain_404s(api):
    for path in ("/tickets/99999999999999999999", "/tickets/abc", "/tickets/-1"):
        response = api.get(BASE + path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
