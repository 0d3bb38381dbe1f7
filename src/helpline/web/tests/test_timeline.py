from __future__ import annotations

import pytest

from helpline.accounts.tests.factories import TeamFactory, UserFactory
from helpline.tickets.choices import Status
from helpline.tickets.models import Ticket
from helpline.tickets.selectors import ticket_timeline
from helpline.tickets.services import message_receive, note_add, reply_add, ticket_update
from helpline.tickets.tests.factories import make_ticket
from helpline.web.timeline import describe_timeline

pytestmark = pytest.mark.django_db


def sentences(ticket: Ticket) -> list[str]:
    events = list(ticket_timeline(ticket=ticket))
    return [f"{e.actor} {e.text}" for e in describe_timeline(ticket=ticket, events=events)]


def test_every_kind_of_event_reads_as_a_sentence():
    ana = UserFactory(name="Ana")
    bob = UserFactory(name="Bob")
    billing, hardware = TeamFactory(name="Billing"), TeamFactory(name="Hardware")
    ticket = make_ticket(subject="Lid")
    customer = str(ticket.customer)
    reply_add(ticket=ticket, author=ana, body_text="On it")
    note_add(ticket=ticket, author=ana, body_text="internal")
    ticket.refresh_from_db()
    ticket = ticket_update(ticket=ticket, actor=ana, assignee=ana, team=billing, tags=["a", "b"])
    ticket = ticket_update(ticket=ticket, actor=bob, assignee=bob, team=hardware, tags=["b", "c"])
    ticket = ticket_update(ticket=ticket, actor=bob, assignee=None, team=None, tags=[])
    ticket = ticket_update(ticket=ticket, actor=bob, status=Status.SOLVED, priority="low",
                           subject="Lid cracked")
    message_receive(ticket=ticket, body_text="Still broken")

    assert sentences(ticket) == [
        f"{customer} opened the ticket by Email",
        "Ana replied to the customer",
        "Ana changed status from New to Open",
        "Ana added an internal note",
        "Ana assigned the ticket to Ana",
        "Ana moved the ticket to team Billing",
        "Ana added tags “a” and “b”",
        "Bob reassigned the ticket from Ana to Bob",
        "Bob moved the ticket from team Billing to Hardware",
        "Bob added tag “c” and removed tag “a”",
        "Bob unassigned the ticket (was Bob)",
        "Bob removed the ticket from team Hardware",
        "Bob removed tags “b” and “c”",
        "Bob changed status from Open to Solved",
        "Bob changed priority from Normal to Low",
        "Bob renamed the ticket to “Lid cracked”",
        "Helpline changed status from Solved to Open",
        f"{customer} wrote a message",
    ]


def test_names_are_looked_up_in_bounded_queries(django_assert_max_num_queries):
    ticket = make_ticket()
    agents = [UserFactory() for _ in range(6)]
    for a in agents:
        ticket = ticket_update(ticket=ticket, actor=a, assignee=a)
    ticket = Ticket.objects.select_related("customer").get(pk=ticket.pk)  # as access_ticket does
    events = list(ticket_timeline(ticket=ticket))
    with django_assert_max_num_queries(1):
        entries = describe_timeline(ticket=ticket, events=events)
    assert len(entries) == 7


def test_names_the_page_already_has_are_not_looked_up(django_assert_num_queries):
    ana, bob = UserFactory(name="Ana"), UserFactory(name="Bob")
    billing = TeamFactory(name="Billing")
    ticket = make_ticket()
    ticket = ticket_update(ticket=ticket, actor=ana, assignee=ana, team=billing)
    ticket = ticket_update(ticket=ticket, actor=ana, assignee=bob)
    ticket = Ticket.objects.select_related("customer").get(pk=ticket.pk)
    events = list(ticket_timeline(ticket=ticket))
    with django_assert_num_queries(0):
        entries = describe_timeline(
            ticket=ticket, events=events, known_users={ana.pk: "Ana", bob.pk: "Bob"},
            known_teams={billing.pk: "Billing"},
        )
    assert "reassigned the ticket from Ana to Bob" in [e.text for e in entries]
    with django_assert_num_queries(1):  # Bob is not in the page's list: looked up
        entries = describe_timeline(
            ticket=ticket, events=events, known_users={ana.pk: "Ana"},
            known_teams={billing.pk: "Billing"},
        )
    assert "reassigned the ticket from Ana to Bob" in [e.text for e in entries]
