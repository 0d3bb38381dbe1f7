"""reply_add_many: automatic replies on many tickets, each table written once, the same rows
and events as reply_add(is_automatic=True) one at a time."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpline.core import bus
from helpline.core.errors import InvalidTransition, ValidationError
from helpline.tickets.choices import DeliveryStatus, Direction, EventKind, Status
from helpline.tickets.events import ReplyAdded
from helpline.tickets.models import Message, Ticket, TicketEvent
from helpline.tickets.services import (
    AutomaticReplyIn,
    reply_add,
    reply_add_many,
    ticket_update,
)
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _replies(ticket: Ticket) -> list[tuple[object, ...]]:
    return list(
        ticket.messages.filter(direction=Direction.OUTBOUND)
        .order_by("id")
        .values_list(
            "body_text", "is_automatic", "delivery_status", "channel", "author_user_id", "metadata"
        )
    )


def test_many_matches_one_at_a_time_and_writes_each_table_once():
    alone = [make_ticket(), make_ticket(channel="web")]
    together = [make_ticket(), make_ticket(channel="web")]
    for ticket in alone:
        reply_add(ticket=ticket, author=None, body_text=" Got it. ", is_automatic=True)
        Message.objects.filter(ticket=ticket, direction=Direction.OUTBOUND).update(
            metadata={"email": {"acknowledgement": True}}
        )
    seen: list[ReplyAdded] = []
    bus.subscribe(ReplyAdded, seen.append)
    try:
        with CaptureQueriesContext(connection) as ctx:
            messages = reply_add_many(
                items=[
                    AutomaticReplyIn(
                        ticket=t,
                        body_text=" Got it. ",
                        metadata={"email": {"acknowledgement": True}},
                    )
                    for t in together
                ]
            )
    finally:
        bus.unsubscribe(ReplyAdded, seen.append)

    writes = [
        " ".join(q["sql"].replace('"', "").split()[:3])
        for q in ctx.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE"))
    ]
    # one insert of messages, one update of the tickets, one insert of timeline rows (what
    # follows the commit is other apps' inline reactions, e.g. a delivery status)
    for table_write in (
        "INSERT INTO tickets_message",
        "INSERT INTO tickets_ticketevent",
        "UPDATE tickets_ticket SET",
    ):
        assert writes.count(table_write) == 1, writes
    assert [m.ticket_id for m in messages] == [t.pk for t in together]
    for one, many in zip(alone, together, strict=True):
        one.refresh_from_db()
        fresh = Ticket.objects.get(pk=many.pk)
        assert _replies(one) == _replies(fresh)
        assert fresh.message_count == one.message_count == 2
        assert fresh.status == one.status == Status.NEW  # an automatic reply changes no status
        assert fresh.first_responded_at is None and one.first_responded_at is None
        assert list(fresh.events.order_by("id").values_list("kind", flat=True)) == [
            EventKind.CREATED,
            EventKind.MESSAGE,
        ]
        # the objects given are up to date without a read
        assert many.message_count == 2 and many.last_message_at == fresh.last_message_at
    assert [(e.ticket_id, e.message_id, e.automatic, e.author_id) for e in seen] == [
        (m.ticket_id, m.pk, True, None) for m in messages
    ]
    assert all(m.delivery_status == DeliveryStatus.QUEUED for m in messages)


def test_the_same_ticket_twice_counts_both_replies():
    ticket = make_ticket()
    reply_add_many(
        items=[
            AutomaticReplyIn(ticket=ticket, body_text="one"),
            AutomaticReplyIn(ticket=ticket, body_text="two"),
        ]
    )
    ticket.refresh_from_db()
    assert ticket.message_count == 3
    assert [r[0] for r in _replies(ticket)] == ["one", "two"]


def test_every_item_is_checked_before_anything_is_written(agent):
    ticket, closed = make_ticket(), make_ticket()
    ticket_update(ticket=closed, actor=agent, status=Status.CLOSED)
    with pytest.raises(InvalidTransition):
        reply_add_many(
            items=[
                AutomaticReplyIn(ticket=ticket, body_text="fine"),
                AutomaticReplyIn(ticket=closed, body_text="too late"),
            ]
        )
    with pytest.raises(ValidationError):
        reply_add_many(
            items=[
                AutomaticReplyIn(ticket=ticket, body_text="fine"),
                AutomaticReplyIn(ticket=ticket, body_text="  "),
            ]
        )
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()
    assert not TicketEvent.objects.filter(kind=EventKind.MESSAGE).exists()
    assert reply_add_many(items=[]) == []


def test_delivery_outcomes_of_many_messages_are_one_statement():
    from helpline.tickets.services import message_delivery_set, message_delivery_set_many

    tickets = [make_ticket(), make_ticket(), make_ticket()]
    messages = reply_add_many(
        items=[AutomaticReplyIn(ticket=t, body_text="Got it.") for t in tickets]
    )
    alone = reply_add_many(items=[AutomaticReplyIn(ticket=make_ticket(), body_text="Got it.")])[0]
    message_delivery_set(message=alone, status="sent", detail="250 2.0.0 queued as A1")
    with CaptureQueriesContext(connection) as ctx:
        message_delivery_set_many(
            outcomes=[
                (messages[0], "sent", "250 2.0.0 queued as B1"),
                (messages[1], "failed", "550 5.1.1 no such user " + "x" * 3000),
                (messages[2], "sent", "250 2.0.0 queued as B3"),
            ]
        )
    assert len(ctx.captured_queries) == 1
    stored = dict(
        Message.objects.filter(pk__in=[m.pk for m in [*messages, alone]]).values_list(
            "pk", "delivery_status"
        )
    )
    assert [stored[m.pk] for m in messages] == ["sent", "failed", "sent"]
    assert stored[alone.pk] == "sent"  # the same as one at a time
    details = Message.objects.get(pk=messages[1].pk).delivery_detail
    assert details.startswith("550 5.1.1") and len(details) == 2000
    with pytest.raises(ValidationError):
        message_delivery_set_many(outcomes=[(messages[0], "failed", ""), (messages[2], "lost", "")])
    assert Message.objects.get(pk=messages[0].pk).delivery_status == "sent"  # nothing written
