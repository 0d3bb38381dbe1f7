from __future__ import annotations

import pytest

from helpline.core.errors import Conflict, InvalidTransition, ValidationError
from helpline.tickets.choices import Direction, EventKind, Status
from helpline.tickets.models import Message, TicketEvent
from helpline.tickets.services import (
    message_receive,
    note_add,
    reply_add,
    ticket_update,
)
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_open_ticket_stores_first_message_sanitised_and_timeline():
    ticket = make_ticket(
        body_text="hi", body_html='<p onmouseover="x()">hi<script>bad()</script></p>'
    )

    message = ticket.messages.get()
    assert message.direction == Direction.INBOUND
    assert message.body_html == "<p>hi</p>"
    assert ticket.status == Status.NEW
    assert list(ticket.events.values_list("kind", flat=True)) == [EventKind.CREATED]


def test_first_public_reply_sets_first_response_and_opens(agent):
    ticket = make_ticket()

    note_add(ticket=ticket, author=agent, body_text="checking stock")
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None

    reply_add(ticket=ticket, author=agent, body_text="We are on it.")
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.status == Status.OPEN
    assert ticket.message_count == 3


def test_automatic_reply_does_not_count_as_first_response():
    ticket = make_ticket()
    reply_add(ticket=ticket, author=None, body_text="We got your message.", is_automatic=True)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None
    assert ticket.status == Status.NEW


def test_transitions_are_enforced(agent):
    ticket = make_ticket()
    ticket = ticket_update(ticket=ticket, actor=agent, status=Status.CLOSED)
    with pytest.raises(InvalidTransition):
        ticket_update(ticket=ticket, actor=agent, status=Status.OPEN)
    with pytest.raises(ValidationError):
        ticket_update(ticket=make_ticket(), actor=agent, status="bogus")


def test_stale_status_change_is_refused(agent):
    ticket = make_ticket()
    stale = type(ticket).objects.get(pk=ticket.pk)
    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)
    with pytest.raises(Conflict):
        ticket_update(ticket=stale, actor=agent, status=Status.SOLVED)


def test_each_change_is_one_timeline_entry_and_no_op_writes_nothing(agent):
    ticket = make_ticket()
    ticket_update(ticket=ticket, actor=agent, priority="high", assignee=agent, tags=["VIP", "vip "])
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == [EventKind.CREATED, EventKind.PRIORITY, EventKind.ASSIGNEE, EventKind.TAGS]
    before = TicketEvent.objects.count()
    ticket_update(ticket=ticket, actor=agent, priority="high", tags=["vip"])
    assert TicketEvent.objects.count() == before
    assert list(ticket.tags.values_list("name", flat=True)) == ["vip"]


def test_inbound_message_is_idempotent_and_reopens_solved(agent):
    ticket = make_ticket()
    ticket = ticket_update(ticket=ticket, actor=agent, status=Status.SOLVED)

    first, created = message_receive(ticket=ticket, body_text="still broken", external_id="<a@b>")
    again, created_again = message_receive(
        ticket=ticket, body_text="still broken", external_id="<a@b>"
    )

    assert created and not created_again
    assert first.pk == again.pk
    assert Message.objects.filter(external_id="<a@b>").count() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.solved_at is None


def test_closed_ticket_refuses_new_messages(agent):
    ticket = ticket_update(ticket=make_ticket(), actor=agent, status=Status.CLOSED)
    with pytest.raises(InvalidTransition):
        message_receive(ticket=ticket, body_text="hello?")
    with pytest.raises(InvalidTransition):
        reply_add(ticket=ticket, author=agent, body_text="hi")


def test_empty_bodies_are_refused(agent):
    with pytest.raises(ValidationError):
        make_ticket(body_text="")
    with pytest.raises(ValidationError):
        reply_add(ticket=make_ticket(), author=agent, body_text="   ")


def test_events_tell_an_opening_message_from_a_later_one(agent):
    from helpline.core import bus
    from helpline.tickets.events import MessageReceived

    seen: list[MessageReceived] = []
    bus.subscribe(MessageReceived, seen.append)
    try:
        ticket = make_ticket()
        message_receive(ticket=ticket, body_text="any news?")
    finally:
        bus.unsubscribe(MessageReceived, seen.append)
    assert [e.opens_ticket for e in seen] == [True, False]


def test_tags_cost_the_same_queries_for_one_or_many(agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def update_with(names: list[str]) -> int:
        ticket = make_ticket()
        with CaptureQueriesContext(connection) as ctx:
            ticket_update(ticket=ticket, actor=agent, tags=names)
        return len(ctx.captured_queries)

    one = update_with(["billing"])
    many = update_with([f"tag-{i}" for i in range(12)])
    assert one == many
    ticket = make_ticket(tags=["Refund", "refund ", "VIP"])
    assert list(ticket.tags.values_list("name", flat=True)) == ["refund", "vip"]
