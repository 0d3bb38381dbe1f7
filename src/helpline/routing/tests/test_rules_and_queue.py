from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from helpline.customers.tests.factories import CustomerFactory
from helpline.routing import services
from helpline.routing.choices import PRIORITY_ALLOWANCE, Presence, Strategy
from helpline.routing.models import TicketRouting
from helpline.routing.services import RuleFields
from helpline.routing.tests.factories import make_agent, make_team
from helpline.sla.models import TicketSla
from helpline.tickets.choices import Priority
from helpline.tickets.models import Ticket
from helpline.tickets.services import ticket_update
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_matching_rule_sets_team_raises_priority_adds_tags_and_skills():
    billing = make_team(name="Billing")
    other = make_team(name="Other")
    services.skill_create(kind="product", name="billing")
    services.routing_rule_create(
        fields=RuleFields(
            name="Refunds", position=1, keywords=["refund"], set_team_id=billing.pk,
            set_priority=Priority.HIGH, add_tags=["refund"], require_skills=["product:billing"],
        )
    )
    services.routing_rule_create(
        fields=RuleFields(name="Everything else", position=2, set_team_id=other.pk)
    )

    refund = make_ticket(subject="Where is my REFUND?")
    plain = make_ticket(subject="Hello", priority=Priority.URGENT)

    refund.refresh_from_db()
    assert refund.team == billing
    assert refund.priority == Priority.HIGH
    assert list(refund.tags.values_list("name", flat=True)) == ["refund"]
    assert TicketRouting.objects.get(pk=refund.pk).required_skills == ["product:billing"]
    plain.refresh_from_db()
    assert plain.team == other
    assert plain.priority == Priority.URGENT


def test_rules_never_lower_priority_or_override_a_chosen_team():
    chosen = make_team()
    services.routing_rule_create(
        fields=RuleFields(name="All", set_team_id=make_team().pk, set_priority=Priority.LOW)
    )
    ticket = make_ticket(team=chosen, priority=Priority.HIGH)
    ticket.refresh_from_db()
    assert (ticket.team, ticket.priority) == (chosen, Priority.HIGH)


def test_rule_conditions_on_channel_language_and_organisation():
    fields = RuleFields(name="Spanish chat", channels=["chat"], languages=["es"])
    rule = services.routing_rule_create(fields=fields)
    facts = services.TicketFacts(
        channel="chat", language="es", text="", tags=frozenset(), priority="normal",
        organisation_id=None,
    )
    assert services.rule_matches(rule, facts)
    assert not services.rule_matches(rule, replace(facts, channel="email"))
    assert not services.rule_matches(rule, replace(facts, language="fr"))


def test_without_a_rule_the_team_whose_skills_fit_best_gets_the_ticket():
    services.skill_create(kind="language", name="es")
    services.skill_create(kind="channel", name="chat")
    make_team(name="Chat", skills=["channel:chat"])
    spanish_chat = make_team(name="Spanish chat", skills=["channel:chat", "language:es"])
    customer = CustomerFactory(language="es")

    ticket = make_ticket(customer=customer, channel="chat")

    ticket.refresh_from_db()
    assert ticket.team == spanish_chat
    # The language is a skill in this install, so the ticket needs a Spanish speaker.
    assert TicketRouting.objects.get(pk=ticket.pk).required_skills == ["language:es"]


def test_the_language_triage_detects_routes_a_customer_of_unknown_language():
    """Routing of a new ticket runs after triage: a Spanish message from a customer whose
    language nobody recorded goes to the Spanish team by the rule."""
    spanish = make_team(name="Spanish")
    services.routing_rule_create(
        fields=RuleFields(name="Spanish", languages=["es"], set_team_id=spanish.pk)
    )
    ticket = make_ticket(
        customer=CustomerFactory(language=""),
        subject="Pedido dañado",
        body_text="Hola, mi pedido llegó roto y necesito que me envíen uno nuevo, por favor. "
        "La caja estaba abierta y faltan piezas.",
    )
    ticket.refresh_from_db()
    assert ticket.team == spanish


def test_spanish_ticket_waits_for_the_spanish_speaker_then_goes_to_her():
    services.skill_create(kind="language", name="es")
    team = make_team(strategy=Strategy.SKILLS_MATCH)
    make_agent(teams=[team])
    speaker = make_agent(teams=[team], skills=["language:es"], capacity={"email": 1})
    busy = make_ticket(team=team, customer=CustomerFactory(language="es"))
    waiting = make_ticket(team=team, customer=CustomerFactory(language="es"))
    busy.refresh_from_db()
    waiting.refresh_from_db()
    assert busy.assignee == speaker
    assert waiting.assignee is None

    ticket_update(ticket=busy, actor=speaker, status="solved")
    waiting.refresh_from_db()
    assert waiting.assignee == speaker


def test_queue_order_is_urgency_with_ageing_so_old_low_tickets_are_not_starved():
    team = make_team()
    agent = make_agent(teams=[team], capacity={"email": 1}, presence=Presence.OFFLINE)
    now = timezone.now()
    low_old = make_ticket(team=team, priority=Priority.LOW)
    urgent_new = make_ticket(team=team, priority=Priority.URGENT)
    normal = make_ticket(team=team, priority=Priority.NORMAL)
    # The low ticket has waited longer than its allowance: it now ranks before the new urgent.
    waited = PRIORITY_ALLOWANCE[Priority.LOW] + timedelta(minutes=1)
    TicketRouting.objects.filter(pk=low_old.pk).update(
        queued_at=now - waited,
        rank_at=services.rank_at(queued_at=now - waited, priority=Priority.LOW),
    )

    order = list(services.waiting_queryset(team_id=team.pk).values_list("ticket_id", flat=True))
    assert order == [low_old.pk, urgent_new.pk, normal.pk]

    services.agent_presence_set(agent=agent, presence=Presence.ONLINE)
    low_old.refresh_from_db()
    assert low_old.assignee == agent


def test_a_fresh_urgent_ticket_goes_before_an_older_normal_one():
    team = make_team()
    normal = make_ticket(team=team, priority=Priority.NORMAL)
    urgent = make_ticket(team=team, priority=Priority.URGENT)
    order = list(services.waiting_queryset(team_id=team.pk).values_list("ticket_id", flat=True))
    assert order == [urgent.pk, normal.pk]


def test_raising_priority_of_a_waiting_ticket_moves_it_up():
    team = make_team()
    first = make_ticket(team=team)
    second = make_ticket(team=team)
    ticket_update(ticket=second, actor=None, priority=Priority.URGENT)
    order = list(services.waiting_queryset(team_id=team.pk).values_list("ticket_id", flat=True))
    assert order == [second.pk, first.pk]


def test_capacity_is_per_channel():
    team = make_team()
    agent = make_agent(teams=[team], capacity={"chat": 1, "email": 2})
    chats = [make_ticket(team=team, channel="chat") for _ in range(2)]
    emails = [make_ticket(team=team, channel="email") for _ in range(3)]
    assigned = set(Ticket.objects.filter(assignee=agent).values_list("pk", flat=True))
    assert assigned == {chats[0].pk, emails[0].pk, emails[1].pk}


def test_lowering_capacity_below_load_is_allowed_and_blocks_new_work():
    team = make_team()
    agent = make_agent(teams=[team], capacity={"email": 2})
    make_ticket(team=team)
    make_ticket(team=team)
    services.agent_capacity_set(agent=agent, channel="email", capacity=1)
    third = make_ticket(team=team)
    third.refresh_from_db()
    assert third.assignee is None


def test_round_robin_team_rotates():
    team = make_team(strategy=Strategy.ROUND_ROBIN)
    agents = sorted((make_agent(teams=[team]) for _ in range(3)), key=lambda a: a.pk)
    tickets = [make_ticket(team=team) for _ in range(4)]
    got = [type(t).objects.get(pk=t.pk).assignee_id for t in tickets]
    assert got == [agents[0].pk, agents[1].pk, agents[2].pk, agents[0].pk]


def test_least_loaded_team_balances():
    team = make_team(strategy=Strategy.LEAST_LOADED)
    a = make_agent(teams=[team])
    b = make_agent(teams=[team])
    tickets = [make_ticket(team=team) for _ in range(6)]
    got = [type(t).objects.get(pk=t.pk).assignee_id for t in tickets]
    assert got.count(a.pk) == got.count(b.pk) == 3


def test_team_less_tickets_go_to_any_online_agent():
    agent = make_agent()
    ticket = make_ticket()
    ticket.refresh_from_db()
    assert ticket.team is None
    assert ticket.assignee == agent


def test_route_is_idempotent():
    team = make_team()
    services.routing_rule_create(fields=RuleFields(name="tag", add_tags=["x"]))
    ticket = make_ticket(team=team)
    events = ticket.events.count()
    services.ticket_route(ticket_id=ticket.pk)
    services.ticket_route(ticket_id=ticket.pk)
    assert ticket.events.count() == events


def set_sla_due(ticket: Ticket, due: datetime | None) -> None:

    TicketSla.objects.update_or_create(
        ticket=ticket, defaults={"next_due_at": due, "computed_at": timezone.now()}
    )


def test_with_sla_clocks_the_queue_takes_the_earlier_of_sla_due_and_priority_deadline():
    assert services.sla_ordering_available()
    team = make_team()
    now = timezone.now()
    normal_breaching = make_ticket(team=team, priority=Priority.NORMAL)
    urgent = make_ticket(team=team, priority=Priority.URGENT)
    normal_relaxed = make_ticket(team=team, priority=Priority.NORMAL)
    no_clock = make_ticket(team=team, priority=Priority.HIGH)
    set_sla_due(normal_breaching, now - timedelta(minutes=5))  # due already: first
    set_sla_due(urgent, now + timedelta(hours=24))  # same 24 h target as below…
    set_sla_due(normal_relaxed, now + timedelta(hours=24))  # …so priority decides
    set_sla_due(no_clock, None)  # paused or no policy: priority deadline only

    order = list(services.waiting_queryset(team_id=team.pk).values_list("ticket_id", flat=True))

    assert order == [normal_breaching.pk, urgent.pk, no_clock.pk, normal_relaxed.pk]
