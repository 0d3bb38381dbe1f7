"""The ticket's team copied onto its SLA row (``TicketSla.team``) by every writer of the row,
and the restricted agent's priority queue read through it: the same tickets in the same order as
one ORDER BY over what she may see."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from helpline.accounts.tests.factories import TeamFactory, UserFactory
from helpline.core import bus, clock
from helpline.sla.models import TicketSla
from helpline.sla.selectors import tickets_by_urgency, tickets_most_urgent
from helpline.sla.services import (
    expected_reply_promise,
    sla_recompute_active,
    tickets_sla_open,
    tickets_sla_recompute,
)
from helpline.tickets.models import Ticket
from helpline.tickets.selectors import InboxView, TicketFilters, ticket_list
from helpline.tickets.services import ticket_update
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def sla_team(ticket: Ticket) -> int | None:
    value: int | None = TicketSla.objects.values_list("team_id", flat=True).get(ticket=ticket)
    return value


def test_team_copied_when_a_ticket_opens():
    team = TeamFactory(name="Billing")
    with_team, without = make_ticket(team=team), make_ticket()
    assert sla_team(with_team) == team.pk
    assert sla_team(without) is None


def test_team_copied_by_the_first_clocks_batch():
    teams = [TeamFactory(name="Billing"), TeamFactory(name="Shipping"), None]
    with bus.suspended():
        tickets = [make_ticket(subject=f"T{i}", team=teams[i % 3]) for i in range(7)]
    assert not TicketSla.objects.exists()
    # One of them already has a row (a promise came first): the one-ticket path fills it.
    expected_reply_promise(ticket=tickets[1], promised_at=clock.now() + timedelta(hours=1))
    assert sla_team(tickets[1]) == tickets[1].team_id
    tickets_sla_open(ticket_ids=[t.pk for t in tickets])
    for ticket in tickets:
        assert sla_team(ticket) == ticket.team_id


def test_team_follows_a_team_change(agent):
    billing, shipping = TeamFactory(name="Billing"), TeamFactory(name="Shipping")
    ticket = make_ticket(team=billing)
    ticket_update(ticket=ticket, actor=agent, team=shipping)
    assert sla_team(ticket) == shipping.pk
    ticket_update(ticket=ticket, actor=agent, team=None)
    assert sla_team(ticket) is None
    ticket_update(ticket=ticket, actor=agent, team=billing)
    assert sla_team(ticket) == billing.pk


def test_batch_and_full_recompute_repair_the_team(agent):
    billing, shipping = TeamFactory(name="Billing"), TeamFactory(name="Shipping")
    tickets = [make_ticket(subject=f"T{i}", team=billing) for i in range(4)]
    with bus.suspended():  # nobody listening: the rows keep the old team
        for ticket in tickets:
            ticket_update(ticket=ticket, actor=agent, team=shipping)
    assert {sla_team(t) for t in tickets} == {billing.pk}
    tickets_sla_recompute(ticket_ids=[t.pk for t in tickets[:2]])
    assert [sla_team(t) for t in tickets] == [shipping.pk, shipping.pk, billing.pk, billing.pk]
    sla_recompute_active()
    assert {sla_team(t) for t in tickets} == {shipping.pk}


def test_deleting_a_team_clears_it_on_the_rows():
    team = TeamFactory(name="Billing")
    ticket = make_ticket(team=team)
    team.delete()
    assert sla_team(ticket) is None


def test_migration_fills_the_team_of_existing_rows():
    billing = TeamFactory(name="Billing")
    tickets = [make_ticket(subject="a", team=billing), make_ticket(subject="b")]
    TicketSla.objects.update(team=None)
    migration = importlib.import_module("helpline.sla.migrations.0005_ticketsla_team")

    class Editor:  # what the function uses of a schema editor, inside the test's transaction
        def __init__(self) -> None:
            self.connection = connection

        def execute(self, sql: str) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

    migration.fill_team(apps, Editor())
    assert [sla_team(t) for t in tickets] == [billing.pk, None]


def make_queue(team_a: Any, other: Any, viewer: Any) -> None:
    """Tickets of her team, another team and none, clocks due in ties, paused, missing, and
    some tickets of every team assigned to her."""
    now = clock.now()
    dues = [5, 5, 5, None, 1, 9, 5, None, 1, 30, 2, None, 5, -3, 5, 7, -3, 1]
    priorities = ["low", "urgent", "normal", "high", "normal", "urgent"]
    for i, due in enumerate(dues):
        team = (team_a, other, None)[i % 3]
        ticket = make_ticket(
            subject=f"T{i}",
            priority=priorities[i % len(priorities)],
            team=team,
        )
        if i % 4 == 1:
            ticket_update(ticket=ticket, actor=None, assignee=viewer)
        if due is None and i % 2:
            TicketSla.objects.filter(ticket=ticket).delete()
        else:
            TicketSla.objects.filter(ticket=ticket).update(
                next_due_at=now + timedelta(minutes=due) if due is not None else None
            )


@pytest.mark.parametrize("teams", [1, 2, 0])
def test_restricted_queue_equals_the_full_sort(teams):
    team_a, team_b = TeamFactory(name="Billing"), TeamFactory(name="Returns")
    restricted = UserFactory(restricted_to_teams=True)
    restricted.teams.set([team_a, team_b][:teams])
    other = TeamFactory(name="Shipping")
    make_queue(team_a, other, restricted)
    make_queue(team_b, other, restricted)
    supervisor = UserFactory(role="supervisor")
    for viewer in (restricted, supervisor):

        def visible(viewer: Any = viewer) -> Any:
            return ticket_list(actor=viewer, filters=TicketFilters(view=InboxView.OPEN))

        expected = list(tickets_by_urgency(visible()).values_list("id", flat=True))
        assert expected  # her own tickets at least
        for limit in range(1, len(expected) + 2):
            got = tickets_most_urgent(queryset=visible(), limit=limit, viewer=viewer)
            assert [t.pk for t in got] == expected[:limit], (viewer, limit)


def test_restricted_queue_queries(django_assert_num_queries):
    team_a = TeamFactory(name="Billing")
    restricted = UserFactory(restricted_to_teams=True)
    restricted.teams.set([team_a])
    make_queue(team_a, TeamFactory(name="Shipping"), restricted)
    visible = ticket_list(actor=restricted, filters=TicketFilters(view=InboxView.OPEN))
    running = visible.filter(sla__next_due_at__isnull=False).count()
    # her teams, her team's first clocks, their tickets, her own tickets' clocks, the rows and
    # their tags
    with django_assert_num_queries(6):
        got = tickets_most_urgent(queryset=visible, limit=running, viewer=restricted)
    assert len(got) == running
