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


def test_open_many_writes_each_table_once_and_matches_open(agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from helpline.core import bus
    from helpline.customers.tests.factories import CustomerFactory
    from helpline.tickets.events import MessageReceived
    from helpline.tickets.services import TicketOpenIn, ticket_open_many

    ann, bob = CustomerFactory(), CustomerFactory()
    items = [
        TicketOpenIn(customer=ann, channel="email", subject="  Late   parcel ", body_text="Where?"),
        TicketOpenIn(
            customer=bob,
            channel="web",
            subject="",
            body_text="",
            body_html="<p>hi<script>x()</script></p>",
            actor=agent,
            priority="high",
            external_id="web-1",
            tags=["Refund", "vip"],
        ),
        TicketOpenIn(
            customer=ann, channel="phone", subject="Call", body_text="called", tags=["vip"]
        ),
    ]
    seen: list[MessageReceived] = []
    bus.subscribe(MessageReceived, seen.append)
    try:
        with CaptureQueriesContext(connection) as ctx:
            opened = ticket_open_many(items=items)
    finally:
        bus.unsubscribe(MessageReceived, seen.append)
    inserts = [
        q["sql"].split('"')[1] for q in ctx.captured_queries if q["sql"].startswith("INSERT")
    ]
    # one multi-row insert per table of this app, whatever the number of tickets, and one
    # outbox insert for all six events (what follows is the other apps' reactions: tests
    # deliver the outbox at commit)
    assert sorted(n for n in inserts if n.startswith("tickets_")) == [
        "tickets_message",
        "tickets_tag",
        "tickets_ticket",
        "tickets_ticket_tags",
        "tickets_ticketevent",
    ]
    assert inserts.count("core_outboxevent") == 1

    tickets = [t for t, _ in opened]
    assert [t.subject for t in tickets] == ["Late parcel", "(no subject)", "Call"]
    assert [t.customer_id for t in tickets] == [ann.pk, bob.pk, ann.pk]
    assert tickets[1].priority == "high"
    first = opened[1][1]
    first.refresh_from_db()
    assert first.body_html == "<p>hi</p>"
    assert first.author_user_id == agent.pk
    assert first.external_id == "web-1"
    assert sorted(tickets[1].tags.values_list("name", flat=True)) == ["refund", "vip"]
    assert list(tickets[2].tags.values_list("name", flat=True)) == ["vip"]
    for ticket in tickets:
        assert list(ticket.events.values_list("kind", flat=True)) == [EventKind.CREATED]
        assert ticket.messages.count() == 1
    assert [(e.ticket_id, e.opens_ticket) for e in seen] == [(t.pk, True) for t in tickets]


def test_open_many_checks_every_item_before_writing(agent):
    from helpline.customers.tests.factories import CustomerFactory
    from helpline.tickets.models import Ticket
    from helpline.tickets.services import TicketOpenIn, ticket_open_check, ticket_open_many

    ann = CustomerFactory()
    good = TicketOpenIn(customer=ann, channel="email", subject="ok", body_text="fine")
    bad_channel = TicketOpenIn(customer=ann, channel="pigeon", subject="x", body_text="y")
    empty = TicketOpenIn(
        customer=ann, channel="email", subject="x", body_text=" ", body_html="<script>x</script>"
    )
    long_tag = TicketOpenIn(
        customer=ann, channel="email", subject="x", body_text="y", tags=["t" * 60]
    )
    for bad, field in ((bad_channel, "channel"), (empty, "body"), (long_tag, "tags")):
        with pytest.raises(ValidationError) as exc:
            ticket_open_check(item=bad)
        assert exc.value.field == field
        with pytest.raises(ValidationError):
            ticket_open_many(items=[good, bad])
    assert Ticket.objects.count() == 0


def test_open_many_refuses_a_stored_external_id_as_a_whole(agent):
    from django.db import IntegrityError

    from helpline.customers.tests.factories import CustomerFactory
    from helpline.tickets.models import Ticket
    from helpline.tickets.services import TicketOpenIn, ticket_open_many

    ann = CustomerFactory()
    ticket_open_many(
        items=[
            TicketOpenIn(
                customer=ann, channel="email", subject="a", body_text="a", external_id="m-1"
            )
        ]
    )
    with pytest.raises(IntegrityError):
        ticket_open_many(
            items=[
                TicketOpenIn(customer=ann, channel="email", subject="b", body_text="b"),
                TicketOpenIn(
                    customer=ann, channel="email", subject="c", body_text="c", external_id="m-1"
                ),
            ]
        )
    assert Ticket.objects.count() == 1
