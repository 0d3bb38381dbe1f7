"""Routing a batch of new tickets at once (``services.tickets_route``, the outbox's batch
handler) decides what routing one ticket at a time (``ticket_route``) decides, and a second
delivery changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from helpline.core import bus, outbox
from helpline.core.models import OutboxEvent
from helpline.customers.tests.factories import CustomerFactory
from helpline.routing import services
from helpline.routing.choices import Presence
from helpline.routing.models import AgentLoad, TicketRouting
from helpline.routing.services import RuleFields
from helpline.routing.tests.factories import make_agent, make_team
from helpline.sla.models import TicketSla
from helpline.tickets.choices import Priority
from helpline.tickets.events import MessageReceived, TicketOpened
from helpline.tickets.models import Message, Ticket, TicketEvent
from helpline.tickets.services import ticket_update
from helpline.tickets.tests.factories import make_ticket
from helpline.triage.models import MessageTriage
from helpline.triage.services import messages_triage

pytestmark = pytest.mark.django_db(transaction=True)

# (subject, body, channel, priority, tags, customer language, own team)
CASES: list[tuple[str, str, str, str, list[str], str, bool]] = [
    ("Refund please", "I want a refund for order 12.", "email", "normal", [], "", False),
    (
        "Frage",
        "Hallo, ich kann mich nicht anmelden, das Passwort geht nicht.",
        "web",
        "normal",
        [],
        "",
        False,
    ),
    ("Hello", "How do I export invoices?", "api", "urgent", [], "", False),
    ("Refund", "Refund the second payment please.", "email", "urgent", ["refund"], "", False),
    ("Order", "A refund, and where is my order?", "chat", "low", [], "", True),
    ("Pedido", "Mi pedido no ha llegado.", "web", "normal", [], "es", False),
    ("Nothing", "Just saying thanks.", "phone", "normal", ["billing"], "", False),
]


@pytest.fixture
def desk() -> dict[str, Any]:
    for kind, name in [
        ("language", "de"),
        ("language", "es"),
        ("product", "billing"),
        ("channel", "api"),
        ("channel", "email"),
    ]:
        services.skill_create(kind=kind, name=name)
    billing = make_team(name="Billing", skills=["product:billing", "channel:email"])
    tech = make_team(name="Tech", skills=["channel:api", "language:de"])
    own = make_team(name="Own")
    services.routing_rule_create(
        fields=RuleFields(
            name="Refunds",
            position=1,
            keywords=["refund"],
            set_team_id=billing.pk,
            set_priority=Priority.HIGH,
            add_tags=["refund"],
            require_skills=["product:billing"],
        )
    )
    services.routing_rule_create(
        fields=RuleFields(name="German", position=2, languages=["de"], add_tags=["german"])
    )
    services.routing_rule_create(
        fields=RuleFields(name="Spanish", position=3, languages=["es"], set_team_id=tech.pk)
    )
    return {"billing": billing, "tech": tech, "own": own}


def open_cases(desk: dict[str, Any]) -> list[Ticket]:
    """The cases opened with nobody listening, then triaged (routing reads the language)."""
    tickets = []
    with bus.suspended():
        for subject, body, channel, priority, tags, language, own in CASES:
            tickets.append(
                make_ticket(
                    customer=CustomerFactory(language=language),
                    subject=subject,
                    body_text=body,
                    channel=channel,
                    priority=priority,
                    tags=tags,
                    team=desk["own"] if own else None,
                )
            )
        messages_triage(
            message_ids=list(
                Message.objects.filter(ticket__in=tickets).values_list("pk", flat=True)
            )
        )
    return tickets


def outcome(ticket: Ticket) -> dict[str, Any]:
    ticket.refresh_from_db()
    row = TicketRouting.objects.get(pk=ticket.pk)
    return {
        "team": ticket.team_id,
        "priority": ticket.priority,
        "tags": sorted(ticket.tags.values_list("name", flat=True)),
        "assignee": ticket.assignee_id,
        "routing": (
            row.team_id,
            row.channel,
            row.required_skills,
            row.waiting,
            row.load_agent_id,
            row.rank_at - row.queued_at if row.rank_at and row.queued_at else None,
            row.routed_at is not None,
        ),
        "timeline": [
            (e.kind, e.data, e.actor_id)
            for e in TicketEvent.objects.filter(ticket=ticket).order_by("id")
        ],
    }


def test_a_batch_decides_what_one_ticket_at_a_time_decides(desk):
    one_by_one = open_cases(desk)
    batch = open_cases(desk)
    for ticket in one_by_one:
        services.ticket_route(ticket_id=ticket.pk)
    assert services.tickets_route(ticket_ids=[t.pk for t in batch]) == [t.pk for t in batch]

    expected = [outcome(t) for t in one_by_one]
    assert [outcome(t) for t in batch] == expected
    # The cases do exercise every branch: rule team + priority + tags + skills, a language
    # rule, the best team by skills, a ticket with its own team, a ticket left as it was.
    assert [e["team"] for e in expected] == [
        desk["billing"].pk,
        desk["tech"].pk,
        desk["tech"].pk,
        desk["billing"].pk,
        desk["own"].pk,
        desk["tech"].pk,
        desk["billing"].pk,
    ]
    assert expected[0]["tags"] == ["refund"] and expected[0]["priority"] == Priority.HIGH
    assert expected[0]["routing"][2] == ["product:billing"]
    assert expected[1]["tags"] == ["german"] and expected[1]["routing"][2] == ["language:de"]
    assert expected[3]["priority"] == Priority.URGENT  # a rule never lowers the priority
    assert expected[4]["priority"] == Priority.HIGH and expected[4]["tags"] == ["refund"]
    assert all(e["routing"][3] for e in expected)  # nobody online: every ticket waits


def test_routing_a_batch_again_changes_nothing(desk):
    tickets = open_cases(desk)
    ids = [t.pk for t in tickets]
    assert services.tickets_route(ticket_ids=ids) == ids
    before = [outcome(t) for t in tickets]
    assert services.tickets_route(ticket_ids=ids + ids) == []
    services.ticket_route(ticket_id=ids[0])
    assert [outcome(t) for t in tickets] == before


def test_the_batch_fills_free_seats_most_urgent_first_and_counts_them(desk):
    billing = desk["billing"]
    agent = make_agent(teams=[billing], capacity={"email": 2})
    with bus.suspended():
        tickets = [
            make_ticket(
                subject=f"Invoice {n}",
                body_text="A question about my invoice.",
                priority=priority,
                team=billing,
            )
            for n, priority in enumerate(["normal", "low", "urgent", "normal"])
        ]
    services.tickets_route(ticket_ids=[t.pk for t in tickets])
    held = [
        t.pk
        for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets], assignee=agent).order_by(
            "pk"
        )
    ]
    assert held == [tickets[0].pk, tickets[2].pk]  # urgent first, then the oldest normal
    assert AgentLoad.objects.get(agent=agent, channel="email").load == 2
    rows = {r.pk: r for r in TicketRouting.objects.filter(pk__in=[t.pk for t in tickets])}
    assert {pk for pk, r in rows.items() if r.load_agent_id == agent.pk} == set(held)
    assert {pk for pk, r in rows.items() if r.waiting} == {tickets[1].pk, tickets[3].pk}


def test_a_ticket_taken_before_its_routing_ran_is_counted_not_queued(desk):
    agent = make_agent(teams=[desk["billing"]], presence=Presence.AWAY)
    with bus.suspended():
        taken = make_ticket(subject="Hi", body_text="Hello", team=desk["billing"])
        other = make_ticket(subject="Hi", body_text="Hello", team=desk["billing"])
        ticket_update(ticket=taken, actor=agent, assignee=agent)
    services.tickets_route(ticket_ids=[taken.pk, other.pk])
    row = TicketRouting.objects.get(pk=taken.pk)
    assert (row.load_agent_id, row.load_channel, row.waiting) == (agent.pk, "email", False)
    assert AgentLoad.objects.get(agent=agent, channel="email").load == 1
    assert TicketRouting.objects.get(pk=other.pk).waiting


def test_new_tickets_through_the_outbox_in_one_batch_and_redelivered(desk, monkeypatch):
    agent = make_agent(teams=[desk["billing"]], capacity={"email": 1})
    with transaction.atomic():  # one commit: their events reach the handlers as one batch
        tickets = [
            make_ticket(
                customer=CustomerFactory(language=language),
                subject=subject,
                body_text=body,
                channel=channel,
                priority=priority,
                tags=tags,
            )
            for subject, body, channel, priority, tags, language, _own in CASES
        ]
    assert OutboxEvent.objects.count() == 0
    before = [outcome(t) for t in tickets]
    assert all(b["routing"][-1] for b in before)
    held = Ticket.objects.filter(assignee=agent).count()
    loads = {a.channel: a.load for a in AgentLoad.objects.filter(agent=agent)}
    assert held >= 1 and sum(loads.values()) == held and loads["email"] == 1
    assert TicketSla.objects.filter(ticket__in=tickets).count() == len(tickets)
    assert MessageTriage.objects.filter(ticket__in=tickets).count() == len(tickets)
    clocks = list(TicketSla.objects.filter(ticket__in=tickets).order_by("ticket_id").values())

    # At-least-once delivery: the same events again change nothing anywhere.
    monkeypatch.setattr(outbox, "kick", lambda: None)
    with transaction.atomic():
        for t in tickets:
            message = Message.objects.filter(ticket=t).get()
            bus.publish(
                TicketOpened(ticket_id=t.pk, customer_id=t.customer_id, channel=t.channel),
                MessageReceived(
                    ticket_id=t.pk, message_id=message.pk, channel=t.channel, opens_ticket=True
                ),
            )
    assert outbox.outbox_drain() == 2 * len(tickets)
    assert [outcome(t) for t in tickets] == before
    assert MessageTriage.objects.filter(ticket__in=tickets).count() == len(tickets)
    assert {a.channel: a.load for a in AgentLoad.objects.filter(agent=agent)} == loads
    again = list(TicketSla.objects.filter(ticket__in=tickets).order_by("ticket_id").values())
    strip = ("computed_at",)
    assert [{k: v for k, v in c.items() if k not in strip} for c in again] == [
        {k: v for k, v in c.items() if k not in strip} for c in clocks
    ]


def test_a_ticket_that_fails_is_routed_on_the_retry_and_the_others_at_once(desk, monkeypatch):
    tickets = open_cases(desk)
    ids = [t.pk for t in tickets]
    real = ticket_update

    def failing(*, ticket, **kwargs):
        if ticket.pk == ids[0]:
            raise RuntimeError("the database went away")
        return real(ticket=ticket, **kwargs)

    monkeypatch.setattr(services, "ticket_update", failing)
    with pytest.raises(services.RoutingFailed):
        services.tickets_route(ticket_ids=ids)
    rows = {r.pk: r for r in TicketRouting.objects.filter(pk__in=ids)}
    assert rows[ids[0]].routed_at is None
    assert all(rows[pk].routed_at and rows[pk].waiting for pk in ids[1:])
    monkeypatch.setattr(services, "ticket_update", real)
    assert services.tickets_route(ticket_ids=ids) == [ids[0]]
    assert outcome(tickets[0])["team"] == desk["billing"].pk
