from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from helpline.accounts.models import User
from helpline.routing.choices import Presence
from helpline.routing.models import AgentLoad, AgentProfile, RoutingRule
from helpline.routing.tests.factories import make_agent, make_team
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_presence_switch_sets_presence_and_hands_out_work(agent):
    team = make_team()
    agent.teams.set([team])
    ticket = make_ticket(team=team)
    client = signed_in(agent)

    page = client.get(reverse("web:routing_presence"))
    assert b'name="presence"' in page.content
    response = client.post(reverse("web:routing_presence"), {"presence": "online"},
                           headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert b'value="online" selected' in response.content
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert client.post(reverse("web:routing_presence"), {"presence": "bogus"}).status_code == 422


def test_activity_ping_brings_an_idle_agent_back(agent):
    make_agent()  # someone else, to show only the caller changes
    AgentProfile.objects.create(user=agent, presence=Presence.AWAY, presence_source="idle")
    response = signed_in(agent).post(reverse("web:routing_activity"))
    assert response.status_code == 204
    assert AgentProfile.objects.get(pk=agent.pk).presence == Presence.ONLINE


def test_live_queue_page_is_for_supervisors(agent, supervisor):
    make_ticket(team=make_team(name="Billing"))
    assert signed_in(agent).get(reverse("web:routing_queue")).status_code == 403
    page = signed_in(supervisor).get(reverse("web:routing_queue"))
    assert page.status_code == 200
    assert b"/ws/routing/queue/" in page.content
    assert b"Billing" in page.content


def test_settings_page_saves_skills_team_agent_and_rules(supervisor):
    team = make_team(name="Spanish")
    agent = make_agent(teams=[team], presence=Presence.OFFLINE)
    client = signed_in(supervisor)

    assert client.get(reverse("web:routing_settings")).status_code == 200
    client.post(reverse("web:routing_skill_add"), {"kind": "language", "name": "es"})
    client.post(reverse("web:routing_team_update", args=[team.pk]),
                {"strategy": "skills_match", "skills": ["language:es"]})
    client.post(reverse("web:routing_agent_update", args=[agent.pk]),
                {"skills": ["language:es"], "capacity_chat": "2", "capacity_email": ""})
    response = client.post(reverse("web:routing_rule_add"), {
        "name": "Spanish", "position": "1", "languages": "es", "set_team": str(team.pk),
        "require_skills": ["language:es"],
    })

    assert response.status_code == 302
    assert AgentLoad.objects.get(agent=agent, channel="chat").capacity == 2
    assert AgentLoad.objects.get(agent=agent, channel="email").capacity == 20
    assert list(AgentProfile.objects.get(pk=agent.pk).skills.values_list("key", flat=True)) == [
        "language:es"
    ]
    rule = RoutingRule.objects.get()
    assert (rule.languages, rule.set_team_id) == (["es"], team.pk)
    page = client.get(reverse("web:routing_settings"))
    assert b"skills_match\" selected" in page.content

    bad = client.post(reverse("web:routing_rule_add"), {"name": "", "position": "0"})
    assert bad.status_code == 422
    client.post(reverse("web:routing_rule_delete", args=[rule.pk]))
    assert not RoutingRule.objects.exists()


def test_agents_cannot_open_routing_settings(agent):
    assert signed_in(agent).get(reverse("web:routing_settings")).status_code == 403
    assert signed_in(agent).post(reverse("web:routing_skill_add"),
                                 {"kind": "language", "name": "x"}).status_code == 403


def test_take_button(agent):
    team = make_team(strategy="manual")
    agent.teams.set([team])
    ticket = make_ticket(team=team)
    response = signed_in(agent).post(reverse("web:routing_ticket_take", args=[ticket.pk]))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_take_partial_shows_only_for_waiting_tickets(agent):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    ticket = make_ticket()
    request = RequestFactory().get("/")
    request.user = agent
    html = render_to_string("web/routing/_take.html", {"ticket": ticket}, request=request)
    assert reverse("web:routing_ticket_take", args=[ticket.pk]) in html
    ticket.assignee = agent
    assert "Take" not in render_to_string("web/routing/_take.html", {"ticket": ticket})
