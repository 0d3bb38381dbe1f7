from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min, Q

from helpline.customers.models import Customer, Identity
from helpline.customers.selectors import customer_get_by_email
from helpline.demo.bulk import seed
from helpline.tickets.choices import ACTIVE_STATUSES, Direction, EventKind
from helpline.tickets.models import Message, Ticket, TicketEvent
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_seed_command_writes_the_requested_counts():
    before = make_ticket()  # seeding on top of existing data must not collide with it
    out = io.StringIO()

    call_command("seed", tickets=700, customers=60, messages_per_ticket=4, batch=250, stdout=out)

    assert Ticket.objects.count() == 701
    assert Customer.objects.count() == 61
    seeded = Ticket.objects.exclude(pk=before.pk)
    messages = Message.objects.exclude(ticket=before)
    assert messages.count() == sum(seeded.values_list("message_count", flat=True))
    # About four per ticket on average (1..7 each).
    assert 3.4 <= messages.count() / 700 <= 4.6
    assert "rows/s" in out.getvalue() and "700/700" in out.getvalue()
    # Sequences moved past the seeded ids: the services still work afterwards.
    highest = seeded.aggregate(m=Max("pk"))["m"]
    after = make_ticket()
    assert after.pk > highest


def test_seeded_rows_are_coherent():
    seed(tickets=400, customers=40, messages_per_ticket=3, seed=2, batch=150, out=io.StringIO())

    counts = dict(
        Message.objects.values("ticket_id").annotate(n=Count("id")).values_list("ticket_id", "n")
    )
    spans = {
        row["ticket_id"]: row
        for row in Message.objects.values("ticket_id").annotate(
            first=Min("created_at"),
            last_public=Max("created_at", filter=~Q(direction=Direction.NOTE)),
            first_reply=Min("created_at", filter=Q(direction=Direction.OUTBOUND)),
        )
    }
    created_events = Counter(
        TicketEvent.objects.filter(kind=EventKind.CREATED).values_list("ticket_id", flat=True)
    )
    for t in Ticket.objects.all():
        span = spans[t.pk]
        assert t.message_count == counts[t.pk]
        assert span["first"] == t.created_at
        assert t.last_message_at == span["last_public"]
        assert t.first_responded_at == span["first_reply"]
        assert t.first_responded_at is None or t.first_responded_at >= t.created_at
        assert t.updated_at >= t.last_message_at
        if t.status in ACTIVE_STATUSES:
            assert t.solved_at is None
        else:
            assert t.solved_at is not None and t.last_message_at is not None
            assert t.solved_at >= t.last_message_at
        assert created_events[t.pk] == 1
    message_events = TicketEvent.objects.filter(kind=EventKind.MESSAGE).count()
    assert message_events == Message.objects.count() - 400
    # Every seeded customer can be found by the address it was given.
    some = Identity.objects.order_by("id").first()
    assert some is not None
    assert customer_get_by_email(email=some.value) == some.customer


def test_same_seed_same_shape():
    seed(tickets=120, customers=10, seed=9, batch=50, out=io.StringIO())
    first = list(Ticket.objects.order_by("id").values_list("subject", "status", "message_count"))
    # Raw deletes: the cascade collector would visit other apps' tables.
    for model in (TicketEvent, Message, Ticket.tags.through, Ticket):
        model.objects.all()._raw_delete(using="default")
    seed(tickets=120, customers=10, seed=9, batch=50, out=io.StringIO())
    second = list(Ticket.objects.order_by("id").values_list("subject", "status", "message_count"))
    assert first == second
