from __future__ import annotations

import pytest
from django.core.management import call_command

from helpline.routing.choices import Presence
from helpline.routing.models import AgentLoad, TicketRouting
from helpline.routing.tests.factories import make_agent, make_team
from helpline.tickets.models import Ticket
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_backfill_creates_rows_for_bulk_imported_tickets_and_recounts_loads():
    team = make_team()
    agent = make_agent(teams=[team], presence=Presence.OFFLINE)
    tickets = [make_ticket(team=team) for _ in range(4)]
    # As a bulk import would leave them: assigned behind routing's back, no routing rows.
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[:3]]).update(assignee=agent)
    Ticket.objects.filter(pk=tickets[2].pk).update(status="pending")
    TicketRouting.objects.all().delete()
    AgentLoad.objects.filter(agent=agent).update(load=7)

    call_command("routing_backfill")

    assert TicketRouting.objects.count() == 3  # the pending one needs no row
    assert AgentLoad.objects.get(agent=agent, channel="email").load == 2
    waiting = TicketRouting.objects.get(waiting=True)
    assert waiting.ticket_id == tickets[3].pk
    assert waiting.rank_at is not None
    call_command("routing_backfill")
    assert TicketRouting.objects.count() == 3
