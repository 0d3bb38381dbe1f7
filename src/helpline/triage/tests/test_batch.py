"""Triage of a batch of messages at once (``services.messages_triage``, the outbox's batch
handler) gives what triaging them one at a time (``message_triage``) gives, and a second
delivery changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from helpline.core import bus
from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.choices import Priority
from helpline.tickets.models import Message, Ticket
from helpline.tickets.services import message_receive
from helpline.tickets.tests.factories import make_ticket
from helpline.triage import model_store, services
from helpline.triage.models import MessageTriage, TicketTriage

pytestmark = pytest.mark.django_db(transaction=True)

CONVERSATIONS = [
    (
        "Refund",
        [
            "I returned the kettle three weeks ago and still have no refund.",
            "Still nothing. This is unacceptable, I want to talk to a human!",
        ],
    ),
    ("Hacked", ["Someone hacked my account and changed the password!", "?"]),
    ("Frage", ["Hallo, wie kann ich meine Rechnungen exportieren?"]),
    (
        "Thanks",
        [
            "Thank you, that solved it.",
            "One more thing: where is the invoice?",
            "Never mind, found it. Great service!",
        ],
    ),
]


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    model_store.forget()
    yield
    model_store.forget()


def converse() -> list[Ticket]:
    """The conversations written with nobody listening (nothing triaged yet)."""
    tickets = []
    with bus.suspended():
        for subject, bodies in CONVERSATIONS:
            ticket = make_ticket(
                customer=CustomerFactory(attributes={"tier": "gold"}),
                subject=subject,
                body_text=bodies[0],
            )
            for body in bodies[1:]:
                message_receive(ticket=ticket, body_text=body, author_customer=ticket.customer)
            tickets.append(ticket)
    return tickets


def message_ids(tickets: list[Ticket]) -> list[int]:
    return list(
        Message.objects.filter(ticket__in=tickets).order_by("id").values_list("pk", flat=True)
    )


def results(tickets: list[Ticket]) -> list[Any]:
    skip = {"id", "message", "message_id", "ticket", "ticket_id", "created_at", "updated_at"}
    out = []
    for ticket in tickets:
        rows = MessageTriage.objects.filter(ticket=ticket).order_by("message_id")
        ticket_row = TicketTriage.objects.get(ticket=ticket)
        out.append(
            (
                [
                    {k: v for k, v in r.__dict__.items() if k not in skip and not k.startswith("_")}
                    for r in rows
                ],
                {
                    k: v
                    for k, v in ticket_row.__dict__.items()
                    if k not in skip and not k.startswith("_")
                },
            )
        )
    return out


def test_a_batch_gives_what_one_message_at_a_time_gives():
    one_by_one = converse()
    batch = converse()
    for pk in message_ids(one_by_one):
        services.message_triage(message_id=pk)
    created = services.messages_triage(message_ids=message_ids(batch))
    assert len(created) == sum(len(bodies) for _, bodies in CONVERSATIONS)
    expected = results(one_by_one)
    assert results(batch) == expected
    # The conversations reach what the batch must get right: the subject only on the first
    # message, a trend over several messages, an earlier urgent message kept.
    hacked = expected[1][1]
    assert hacked["urgency"] == expected[1][0][0]["urgency"] != expected[1][0][1]["urgency"]
    assert expected[3][1]["message_count"] == 3 and len(expected[3][1]["sentiment_history"]) == 3
    assert expected[2][1]["language"] == "de"


def test_consecutive_batches_give_the_same_as_one_batch():
    whole = converse()
    parts = converse()
    services.messages_triage(message_ids=message_ids(whole))
    ids = message_ids(parts)  # cut where the outbox cuts: in the order the messages came
    services.messages_triage(message_ids=ids[:3])
    services.messages_triage(message_ids=ids[3:])
    assert results(parts) == results(whole)


def test_triaging_a_batch_again_changes_nothing_and_keeps_corrections(agent):
    tickets = converse()
    ids = message_ids(tickets)
    services.messages_triage(message_ids=ids)
    services.triage_correct(actor=agent, message_id=ids[0], field="intent", value="other")
    before = results(tickets)
    assert services.messages_triage(message_ids=ids + ids) == []
    assert results(tickets) == before
    assert MessageTriage.objects.get(message_id=ids[0]).intent == "other"


def test_outbound_and_missing_messages_are_skipped(agent):
    from helpline.tickets.services import reply_add

    with bus.suspended():
        ticket = make_ticket()
        reply = reply_add(ticket=ticket, author=agent, body_text="Hello")
    assert services.messages_triage(message_ids=[reply.pk, 10**9]) == []
    assert not MessageTriage.objects.exists()


def test_set_mode_raises_priority_from_a_batch(settings):
    settings.TRIAGE_PRIORITY = "set"
    with bus.suspended():
        ticket = make_ticket(subject="Hacked", body_text="Someone hacked my account, urgent!")
    services.messages_triage(message_ids=message_ids([ticket]))
    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT
    assert TicketTriage.objects.get(ticket=ticket).priority_applied


def test_new_messages_in_one_commit_are_triaged_together_through_the_outbox():
    with transaction.atomic():
        tickets = [make_ticket(subject=s, body_text=b[0]) for s, b in CONVERSATIONS]
    assert MessageTriage.objects.filter(ticket__in=tickets).count() == len(tickets)
    assert TicketTriage.objects.filter(ticket__in=tickets).count() == len(tickets)
