"""The clocks of a batch of tickets that customers wrote to, recomputed together
(``tickets_sla_recompute``, the worker's batch handler), equal one ticket at a time
(``ticket_sla_recompute``): stored values, resets, transitions raised once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from helpline.core import bus
from helpline.sla.models import Notification, TicketSla
from helpline.sla.services import (
    expected_reply_promise,
    expected_reply_promises,
    ticket_sla_recompute,
    tickets_sla_open,
    tickets_sla_recompute,
)
from helpline.sla.tests.factories import make_policy
from helpline.tickets.choices import EventKind, Status
from helpline.tickets.models import Ticket, TicketEvent
from helpline.tickets.services import message_receive, reply_add, ticket_update
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def scenario(frozen, agent) -> list[Ticket]:
    """Tickets in different states, then customers write to each with nobody listening."""
    answered = make_ticket(subject="answered")
    reply_add(ticket=answered, author=agent, body_text="Here you go")
    promised = make_ticket(subject="promised")
    expected_reply_promise(ticket=promised, promised_at=frozen.current + timedelta(minutes=50))
    held = make_ticket(subject="held")
    ticket_update(ticket=held, actor=agent, status=Status.ON_HOLD)
    overdue = make_ticket(subject="overdue")
    replied_then_promised = make_ticket(subject="reply owed again")
    reply_add(ticket=replied_then_promised, author=agent, body_text="First answer")
    expected_reply_promise(
        ticket=replied_then_promised, promised_at=frozen.current + timedelta(minutes=5)
    )
    no_row = make_ticket(subject="no row")
    TicketSla.objects.filter(ticket=no_row).delete()
    return [answered, promised, held, overdue, replied_then_promised, no_row]


def later_messages(tickets: list[Ticket]) -> None:
    with bus.suspended():
        for ticket in tickets:
            message_receive(ticket=ticket, body_text="Any news?", author_customer=ticket.customer)
        message_receive(ticket=tickets[0], body_text="Hello?", author_customer=tickets[0].customer)


def state(tickets: list[Ticket]) -> list[Any]:
    out = []
    for ticket in tickets:
        row: dict[str, Any] = dict(TicketSla.objects.filter(ticket=ticket).values().first() or {})
        row = {k: v for k, v in row.items() if k not in ("id", "ticket_id", "computed_at")}
        events = list(
            TicketEvent.objects.filter(
                ticket=ticket, kind__in=(EventKind.SLA_WARNING, EventKind.SLA_BREACH)
            ).values_list("kind", "data")
        )
        notes = sorted(Notification.objects.filter(ticket=ticket).values_list("kind", "target"))
        out.append((row, events, notes))
    return out


def test_a_batch_recomputes_what_one_ticket_at_a_time_does(frozen, agent):
    make_policy(first=60, nxt=30, resolution=600)
    one_by_one = scenario(frozen, agent)
    batch = scenario(frozen, agent)
    frozen.advance(minutes=50)  # past the first-response warnings (45 min) and a promise
    later_messages(one_by_one)
    later_messages(batch)
    for ticket in [*one_by_one, one_by_one[0]]:
        ticket_sla_recompute(ticket_id=ticket.pk)
    tickets_sla_recompute(ticket_ids=[t.pk for t in [*batch, batch[0]]])
    expected = state(one_by_one)
    assert state(batch) == expected
    # What the scenario exercises: a new next-response cycle, a promise settled, a warning
    # raised at once, a row made for a ticket that had none.
    assert expected[0][0]["next_response_started_at"] is not None
    assert expected[4][0]["promised_at"] is None
    assert any(kind == EventKind.SLA_WARNING for kind, _ in expected[3][1])
    assert expected[5][0]


def test_recomputing_a_batch_again_changes_nothing(frozen, agent):
    make_policy(first=60, nxt=30, resolution=600)
    tickets = scenario(frozen, agent)
    frozen.advance(minutes=70)
    later_messages(tickets)
    tickets_sla_recompute(ticket_ids=[t.pk for t in tickets])
    before = state(tickets)
    assert any(events for _, events, _ in before)  # a breach was raised...
    tickets_sla_recompute(ticket_ids=[t.pk for t in tickets])
    assert state(tickets) == before  # ...once


def test_messages_in_one_commit_recompute_their_tickets_through_the_outbox(frozen, agent):
    make_policy(first=60, nxt=30)
    tickets = [make_ticket(subject=str(n)) for n in range(3)]
    for ticket in tickets:
        reply_add(ticket=ticket, author=agent, body_text="Answer")
    frozen.advance(minutes=5)
    with transaction.atomic():
        for ticket in tickets:
            message_receive(
                ticket=ticket, body_text="Thanks, but...", author_customer=ticket.customer
            )
    for row in TicketSla.objects.filter(ticket__in=tickets):
        assert row.next_response_started_at == frozen.current
        assert row.next_response_due_at == frozen.current + timedelta(minutes=30)


def promised_new_tickets(frozen, n: int) -> list[Ticket]:
    """New tickets whose acknowledgement promised a reply before the worker computed their
    clocks (the promise makes the row); the last one had its clocks computed first."""
    with bus.suspended():
        tickets = [make_ticket(subject=f"promised {k}") for k in range(n)]
    TicketSla.objects.filter(ticket__in=tickets[:-1]).delete()
    ticket_sla_recompute(ticket_id=tickets[-1].pk)
    return tickets


def test_promises_of_a_batch_equal_one_promise_at_a_time(
    frozen, agent, django_assert_max_num_queries
):
    make_policy(first=60, nxt=30, resolution=600)
    one_by_one = promised_new_tickets(frozen, 4)
    batch = promised_new_tickets(frozen, 4)
    at = [frozen.current + timedelta(minutes=m) for m in (20, 40, 90, 10)]
    for ticket, promised_at in zip(one_by_one, at, strict=True):
        expected_reply_promise(ticket=ticket, promised_at=promised_at)
    # one read, one insert in a savepoint for the three new rows, one update for the last
    with django_assert_max_num_queries(5):
        expected_reply_promises(promises=list(zip(batch, at, strict=True)))
    expected = state(one_by_one)
    assert state(batch) == expected
    assert [row["promised_at"] for row, _, _ in expected] == at
    # the row that had clocks keeps the earlier of its next check and the promise
    assert expected[3][0]["next_check_at"] == at[3]
    assert expected[0][0]["first_response_due_at"] is None  # promise only, clocks to come


def test_new_tickets_with_a_promise_get_their_clocks_in_bulk_as_one_at_a_time(frozen, agent):
    make_policy(first=60, nxt=30, resolution=600)
    one_by_one = promised_new_tickets(frozen, 3)
    batch = promised_new_tickets(frozen, 3)
    at = [frozen.current + timedelta(minutes=m) for m in (20, 90, 30)]
    expected_reply_promises(promises=list(zip(one_by_one, at, strict=True)))
    expected_reply_promises(promises=list(zip(batch, at, strict=True)))
    frozen.advance(minutes=1)
    for ticket in one_by_one:
        ticket_sla_recompute(ticket_id=ticket.pk)
    tickets_sla_open(ticket_ids=[t.pk for t in batch])
    expected = state(one_by_one)
    assert state(batch) == expected
    first = expected[0][0]
    assert first["promised_at"] == at[0]  # kept
    assert first["first_response_due_at"] == first["reply_owed_since"] + timedelta(minutes=60)
    assert first["next_check_at"] == at[0]  # the promise comes before the warning at 45 min
    assert expected[1][0]["next_check_at"] < at[1]  # the warning comes before this promise
