from __future__ import annotations

import pytest

from helpline.routing import services
from helpline.routing.choices import Presence, Strategy
from helpline.routing.models import AgentLoad, TicketRouting
from helpline.routing.tests.factories import make_agent, make_team
from helpline.tickets.choices import EventKind, Status
from helpline.tickets.services import ticket_update
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def load_of(agent, channel: str = "email") -> int:
    return AgentLoad.objects.get(agent=agent, channel=channel).load


def test_new_ticket_goes_to_the_online_agent_and_is_on_the_timeline():
    team = make_team()
    agent = make_agent(teams=[team])
    make_agent(teams=[team], presence=Presence.OFFLINE)

    ticket = make_ticket(team=team)

    ticket.refresh_from_db()
    assert ticket.assignee == agent
    entries = ticket.events.filter(kind=EventKind.ASSIGNEE).values_list("data__to", flat=True)
    assert list(entries) == [agent.pk]
    assert load_of(agent) == 1
    assert not TicketRouting.objects.get(pk=ticket.pk).waiting


def test_nobody_online_means_the_ticket_waits_then_goes_to_the_first_agent_online():
    team = make_team()
    agent = make_agent(teams=[team], presence=Presence.OFFLINE)
    old = make_ticket(team=team)
    new = make_ticket(team=team)
    assert TicketRouting.objects.filter(waiting=True).count() == 2

    services.agent_capacity_set(agent=agent, channel="email", capacity=1)
    services.agent_presence_set(agent=agent, presence=Presence.ONLINE)

    old.refresh_from_db()
    new.refresh_from_db()
    assert old.assignee == agent
    assert new.assignee is None


def test_solving_frees_the_seat_and_pulls_the_next_waiting_ticket():
    team = make_team()
    agent = make_agent(teams=[team], capacity={"email": 1})
    first = make_ticket(team=team)
    second = make_ticket(team=team)
    first.refresh_from_db()
    assert first.assignee == agent
    assert TicketRouting.objects.get(pk=second.pk).waiting

    ticket_update(ticket=first, actor=agent, status=Status.SOLVED)

    second.refresh_from_db()
    assert second.assignee == agent
    assert load_of(agent) == 1


def test_pending_does_not_count_and_reopen_counts_again():
    team = make_team()
    agent = make_agent(teams=[team], capacity={"email": 1})
    ticket = make_ticket(team=team)
    ticket.refresh_from_db()
    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)
    assert load_of(agent) == 0
    ticket_update(ticket=ticket, actor=agent, status=Status.OPEN)
    assert load_of(agent) == 1


def test_manual_reassignment_moves_the_load():
    team = make_team()
    a = make_agent(teams=[team])
    b = make_agent(teams=[team], presence=Presence.OFFLINE)
    ticket = make_ticket(team=team)
    ticket.refresh_from_db()
    assert ticket.assignee == a

    ticket_update(ticket=ticket, actor=a, assignee=b)
    assert (load_of(a), load_of(b)) == (0, 1)
    ticket_update(ticket=ticket, actor=a, assignee=None)
    # Unassigned again: back in the queue, and a (online, free) gets it straight back.
    ticket.refresh_from_db()
    assert ticket.assignee == a
    assert (load_of(a), load_of(b)) == (1, 0)


def test_manual_strategy_never_assigns_and_take_is_first_come():
    team = make_team(strategy=Strategy.MANUAL)
    a = make_agent(teams=[team])
    b = make_agent(teams=[team])
    ticket = make_ticket(team=team)
    ticket.refresh_from_db()
    assert ticket.assignee is None

    services.ticket_take(ticket=ticket, agent=a)
    with pytest.raises(Exception, match=r"already assigned|first"):
        services.ticket_take(ticket=ticket, agent=b)
    ticket.refresh_from_db()
    assert ticket.assignee == a
    assert load_of(a) == 1
