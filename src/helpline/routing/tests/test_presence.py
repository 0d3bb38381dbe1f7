from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from helpline.accounts.models import User
from helpline.core.tasks import run_tick, tick_jobs
from helpline.routing import services
from helpline.routing.choices import IDLE_AFTER, Presence, PresenceSource
from helpline.routing.models import AgentProfile
from helpline.routing.tests.factories import make_agent, make_team
from helpline.tickets.services import reply_add
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def profile(agent: User) -> AgentProfile:
    return AgentProfile.objects.get(pk=agent.pk)


def test_idle_agents_go_away_and_get_no_new_work():
    team = make_team()
    agent = make_agent(teams=[team])
    AgentProfile.objects.filter(pk=agent.pk).update(
        last_seen_at=timezone.now() - IDLE_AFTER - timedelta(seconds=1)
    )

    assert services.presence_idle_sweep() == 1
    assert (profile(agent).presence, profile(agent).presence_source) == ("away", "idle")
    ticket = make_ticket(team=team)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_activity_brings_an_idle_agent_back_and_hands_her_the_waiting_work():
    team = make_team()
    agent = make_agent(teams=[team])
    AgentProfile.objects.filter(pk=agent.pk).update(
        presence=Presence.AWAY, presence_source=PresenceSource.IDLE,
        last_seen_at=timezone.now() - timedelta(hours=1),
    )
    ticket = make_ticket(team=team)
    ticket.refresh_from_db()
    assert ticket.assignee is None

    assert services.agent_activity_touch(agent_id=agent.pk)

    assert profile(agent).presence == Presence.ONLINE
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_activity_does_not_override_a_chosen_away_and_writes_at_most_once_a_minute():
    agent = make_agent()
    services.agent_presence_set(agent=agent, presence=Presence.AWAY)
    assert not services.agent_activity_touch(agent_id=agent.pk)
    assert profile(agent).presence == Presence.AWAY
    seen = profile(agent).last_seen_at
    services.agent_activity_touch(agent_id=agent.pk)
    assert profile(agent).last_seen_at == seen


def test_a_reply_counts_as_activity():
    agent = make_agent(presence=Presence.OFFLINE)
    services.agent_presence_set(agent=agent, presence=Presence.ONLINE)
    AgentProfile.objects.filter(pk=agent.pk).update(
        presence=Presence.AWAY, presence_source=PresenceSource.IDLE,
        last_seen_at=timezone.now() - timedelta(hours=1),
    )
    ticket = make_ticket()
    reply_add(ticket=ticket, author=agent, body_text="On it.")
    assert profile(agent).presence == Presence.ONLINE


def test_offline_agents_keep_their_tickets():
    team = make_team()
    agent = make_agent(teams=[team])
    ticket = make_ticket(team=team)
    services.agent_presence_set(agent=agent, presence=Presence.OFFLINE)
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_the_tick_drains_queues_and_sweeps_idle_agents():
    assert "helpline.routing.handlers.routing_tick" in tick_jobs()
    team = make_team()
    agent = make_agent(teams=[team], presence=Presence.OFFLINE)
    ticket = make_ticket(team=team)
    # Online without the service (so nothing drained yet): only the tick can assign it.
    AgentProfile.objects.filter(pk=agent.pk).update(
        presence=Presence.ONLINE, last_seen_at=timezone.now()
    )

    run_tick()

    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_the_tick_repairs_a_routing_row_that_missed_its_event():
    from helpline.routing.models import AgentLoad, TicketRouting
    from helpline.tickets.models import Ticket

    team = make_team()
    agent = make_agent(teams=[team], presence=Presence.OFFLINE)
    ticket = make_ticket(team=team)
    # Assigned behind routing's back (as if the TicketChanged handler had crashed).
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)

    services.routing_tick()

    row = TicketRouting.objects.get(pk=ticket.pk)
    assert (row.waiting, row.load_agent_id) == (False, agent.pk)
    assert AgentLoad.objects.get(agent=agent, channel="email").load == 1


def test_old_drift_is_repaired_by_the_hourly_full_pass_only():
    from helpline.routing.models import TicketRouting
    from helpline.tickets.models import Ticket

    team = make_team()
    agent = make_agent(teams=[team], presence=Presence.OFFLINE)
    ticket = make_ticket(team=team)
    long_ago = timezone.now() - timedelta(hours=3)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent, updated_at=long_ago)
    quarter_past = timezone.now().replace(minute=15)

    services.routing_tick(now=quarter_past)
    assert TicketRouting.objects.get(pk=ticket.pk).load_agent_id is None

    services.routing_tick(now=quarter_past.replace(minute=0))
    assert TicketRouting.objects.get(pk=ticket.pk).load_agent_id == agent.pk


def test_a_signed_in_page_view_is_activity_an_api_token_call_is_not(client):
    from helpline.accounts.services import api_token_create

    team = make_team()
    agent = make_agent(teams=[team])
    stale = timezone.now() - IDLE_AFTER - timedelta(seconds=1)
    AgentProfile.objects.filter(pk=agent.pk).update(last_seen_at=stale)
    services.presence_idle_sweep()
    assert profile(agent).presence == Presence.AWAY

    _, token = api_token_create(user=agent)
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert profile(agent).presence == Presence.AWAY  # a script's call is not the person

    client.force_login(agent)
    assert client.get("/").status_code == 200
    assert (profile(agent).presence, profile(agent).presence_source) == (
        Presence.ONLINE,
        PresenceSource.ACTIVITY,
    )
