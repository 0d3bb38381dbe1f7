from __future__ import annotations

import pytest
from django.test import Client

from helpline.accounts.models import User
from helpline.accounts.services import api_token_create
from helpline.routing.choices import Presence
from helpline.routing.tests.factories import make_agent, make_team
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user: User) -> Client:
    _, secret = api_token_create(user=user, name="tests")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_agent_sets_her_own_presence_but_not_a_colleagues(agent):
    other = make_agent(presence=Presence.OFFLINE)
    api = client_for(agent)

    mine = api.put(f"/api/v1/routing/agents/{agent.pk}/presence", {"presence": "online"},
                   content_type="application/json")
    theirs = api.put(f"/api/v1/routing/agents/{other.pk}/presence", {"presence": "online"},
                     content_type="application/json")

    assert mine.status_code == 200
    assert mine.json()["presence"] == "online"
    assert theirs.status_code == 404


def test_supervisor_configures_skills_capacity_team_and_rules(supervisor):
    api = client_for(supervisor)
    team = make_team()
    agent = make_agent(teams=[team], presence=Presence.OFFLINE)

    assert api.post("/api/v1/routing/skills", {"kind": "language", "name": "ES"},
                    content_type="application/json").status_code == 201
    skills = api.put(f"/api/v1/routing/agents/{agent.pk}/skills", {"skills": ["language:es"]},
                     content_type="application/json")
    assert skills.json()["skills"] == ["language:es"]
    capacity = api.put(f"/api/v1/routing/agents/{agent.pk}/capacity",
                       {"capacity": {"chat": 2}}, content_type="application/json")
    assert {"channel": "chat", "capacity": 2, "load": 0} in capacity.json()["capacity"]
    strategy = api.put(f"/api/v1/routing/teams/{team.pk}", {"strategy": "round_robin"},
                       content_type="application/json")
    assert strategy.json()["strategy"] == "round_robin"
    rule = api.post("/api/v1/routing/rules",
                    {"name": "Spanish", "languages": ["es"], "set_team_id": team.pk},
                    content_type="application/json")
    assert rule.status_code == 201
    assert api.get("/api/v1/routing/rules").json()[0]["set_team_id"] == team.pk
    bad = api.post("/api/v1/routing/rules", {"name": "x", "channels": ["fax"]},
                   content_type="application/json")
    assert bad.status_code == 422


def test_agents_cannot_change_routing_or_watch_the_queue(agent):
    api = client_for(agent)
    assert api.post("/api/v1/routing/skills", {"kind": "language", "name": "es"},
                    content_type="application/json").status_code == 403
    assert api.get("/api/v1/routing/queue").status_code == 403


def test_queue_status_counts_waiting_work_and_agents(supervisor):
    team = make_team()
    make_agent(teams=[team], capacity={"email": 1})
    for _ in range(3):
        make_ticket(team=team)

    body = client_for(supervisor).get("/api/v1/routing/queue").json()

    assert body["waiting_total"] == 2
    assert body["queues"] == [
        {"team_id": team.pk, "team_name": team.name, "channel": "email", "waiting": 2,
         "oldest_queued_at": body["queues"][0]["oldest_queued_at"],
         "oldest_wait_seconds": body["queues"][0]["oldest_wait_seconds"]}
    ]
    assert body["online"] == 1
    assert body["agents"][0]["total_load"] == 1


def test_take_from_the_queue_is_first_come(agent):
    team = make_team(strategy="manual")
    ticket = make_ticket(team=team)
    other = make_agent(teams=[team])
    assert client_for(agent).post(f"/api/v1/routing/tickets/{ticket.pk}/take").status_code == 200
    assert client_for(other).post(f"/api/v1/routing/tickets/{ticket.pk}/take").status_code == 409
