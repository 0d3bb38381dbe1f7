"""New tickets' first clocks come at the end of their outbox batch, after routing set their team,
priority and tags: the policy matches what routing set, and no clock is computed twice."""

from __future__ import annotations

import pytest
from django.db import transaction

from helpline.routing import services as routing
from helpline.routing.services import RuleFields
from helpline.routing.tests.factories import make_team
from helpline.sla import handlers
from helpline.sla.models import TicketSla
from helpline.sla.services import ticket_sla_recompute
from helpline.sla.tests.factories import make_policy
from helpline.tickets.choices import Priority
from helpline.tickets.services import ticket_update
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def billing():
    team = make_team(name="Billing")
    routing.routing_rule_create(
        fields=RuleFields(
            name="Refunds", keywords=["refund"], set_team_id=team.pk, set_priority=Priority.HIGH
        )
    )
    return make_policy(name="Billing desk", position=1, first=15, team=team), team


@pytest.fixture
def recomputes(monkeypatch):
    calls: list[int] = []

    def counting(*, ticket_id: int, **kwargs) -> object:
        calls.append(ticket_id)
        return ticket_sla_recompute(ticket_id=ticket_id, **kwargs)

    monkeypatch.setattr(handlers, "ticket_sla_recompute", counting)
    return calls


def test_first_clocks_follow_routing_and_are_computed_once(billing, recomputes):
    policy, team = billing
    with transaction.atomic():  # one commit, one outbox batch
        refunds = [make_ticket(subject="Refund", body_text="A refund please.") for _ in range(3)]
        other = make_ticket(subject="Hello", body_text="Just a question.")
    rows = {r.ticket_id: r for r in TicketSla.objects.all()}
    for ticket in refunds:
        ticket.refresh_from_db()
        assert (ticket.team_id, ticket.priority) == (team.pk, Priority.HIGH)
        assert rows[ticket.pk].policy_id == policy.pk
        assert rows[ticket.pk].first_response_target == 15
    assert rows[other.pk].policy_id != policy.pk
    assert recomputes == []  # routing's changes were in before the first clocks


def test_a_later_change_still_recomputes(billing, recomputes, agent):
    ticket = make_ticket(subject="Hello", body_text="Just a question.")
    assert recomputes == []
    ticket_update(ticket=ticket, actor=agent, priority=Priority.URGENT)
    assert recomputes == [ticket.pk]


def test_outside_the_worker_the_first_clocks_are_computed_at_once():
    from helpline.tickets.events import TicketOpened

    with_row = make_ticket()
    TicketSla.objects.filter(ticket=with_row).delete()
    handlers.on_tickets_opened(
        [TicketOpened(ticket_id=with_row.pk, customer_id=1, channel="email")]
    )
    assert TicketSla.objects.filter(ticket=with_row).exists()
