from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import pytest

from helpline.accounts.choices import Role
from helpline.accounts.models import User
from helpline.customers.choices import Channel, IdentityKind
from helpline.customers.models import Customer, Identity, Order
from helpline.demo import texts
from helpline.demo.loader import DEMO_AGENT_PASSWORD, demo_load, demo_load_if_empty
from helpline.tickets.choices import ACTIVE_STATUSES, Direction, EventKind, Status
from helpline.tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _signature() -> list[tuple[object, ...]]:
    return list(
        Ticket.objects.order_by("id").values_list(
            "subject", "status", "priority", "channel", "message_count", "customer__name",
            "assignee__email", "team__name",
        )
    )


def test_demo_data_is_coherent():
    summary = demo_load(customers=80, tickets=600, seed=11)

    assert "600 tickets" in summary and DEMO_AGENT_PASSWORD in summary
    assert Ticket.objects.count() == 600
    assert Customer.objects.count() == 80
    assert Order.objects.exists()
    assert set(Ticket.objects.values_list("channel", flat=True)) == set(Channel.values)
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
    assert {"es", "de", "fr", "en"} <= set(Customer.objects.values_list("language", flat=True))
    # Some customers can be reached several ways; some belong to organisations; some come back.
    kinds_per_customer = Counter(Identity.objects.values_list("customer_id", flat=True))
    assert max(kinds_per_customer.values()) >= 3
    assert Customer.objects.filter(organisation__isnull=False).exists()
    assert max(Counter(Ticket.objects.values_list("customer_id", flat=True)).values()) >= 5
    assert Message.objects.filter(direction=Direction.NOTE).exists()

    messages: dict[int, list[Message]] = defaultdict(list)
    for m in Message.objects.order_by("created_at", "id"):
        messages[m.ticket_id].append(m)
    events: dict[int, list[TicketEvent]] = defaultdict(list)
    for e in TicketEvent.objects.order_by("created_at", "id"):
        events[e.ticket_id].append(e)

    for t in Ticket.objects.select_related("customer"):
        convo = messages[t.pk]
        assert t.message_count == len(convo) and 1 <= len(convo) <= 6
        assert convo[0].direction == Direction.INBOUND and convo[0].created_at == t.created_at
        public = [m for m in convo if m.direction != Direction.NOTE]
        replies = [m for m in convo if m.direction == Direction.OUTBOUND]
        assert t.last_message_at == public[-1].created_at
        if replies:
            assert t.first_responded_at == replies[0].created_at >= t.created_at
        else:
            assert t.first_responded_at is None
        assert t.updated_at >= convo[-1].created_at
        if t.status in ACTIVE_STATUSES:
            assert t.solved_at is None and t.closed_at is None
        else:
            assert t.solved_at is not None and t.solved_at >= t.last_message_at
            assert t.updated_at >= t.solved_at
        if t.status == Status.CLOSED:
            assert t.closed_at is not None and t.solved_at is not None
            assert t.closed_at > t.solved_at
        if t.status == Status.PENDING:
            assert public[-1].direction == Direction.OUTBOUND
        for m in convo:
            if m.direction == Direction.INBOUND:
                assert m.author_customer_id == t.customer_id
            elif m.direction == Direction.OUTBOUND:
                assert m.author_user_id == t.assignee_id is not None

        timeline = events[t.pk]
        assert timeline[0].kind == EventKind.CREATED and timeline[0].created_at == t.created_at
        message_events = [e for e in timeline if e.kind == EventKind.MESSAGE]
        assert [e.data["message_id"] for e in message_events] == [m.pk for m in convo[1:]]
        statuses = [e for e in timeline if e.kind == EventKind.STATUS]
        assert (statuses[-1].data["to"] if statuses else Status.NEW) == t.status
        for before, after in itertools.pairwise(statuses):
            assert before.data["to"] == after.data["from"]


def test_staff_can_sign_in_and_one_agent_is_restricted():
    demo_load(customers=5, tickets=20, seed=1)
    staff = User.objects.filter(email__endswith="@demo.helpline.test")
    assert staff.count() == len(texts.AGENTS)
    assert staff.filter(role=Role.SUPERVISOR).count() == 1
    restricted = staff.get(restricted_to_teams=True)
    assert list(restricted.teams.values_list("name", flat=True)) == ["Billing"]
    assert restricted.check_password(DEMO_AGENT_PASSWORD)
    assert set(staff.values_list("teams__name", flat=True)) == {"Billing", "Technical", "Shipping"}


def _wipe() -> None:
    # Through the ORM, so the rows other apps derived (SLA clocks, routing, triage) go too.
    Ticket.objects.all().delete()
    Customer.objects.all().delete()


def test_same_seed_same_data_other_seed_other_data():
    demo_load(customers=30, tickets=150, seed=5)
    first = _signature()
    email_rows = Identity.objects.filter(kind=IdentityKind.EMAIL).values_list("value", flat=True)
    emails = sorted(email_rows)

    _wipe()
    demo_load(customers=30, tickets=150, seed=5)
    assert _signature() == first
    assert sorted(
        Identity.objects.filter(kind=IdentityKind.EMAIL).values_list("value", flat=True)
    ) == emails

    _wipe()
    demo_load(customers=30, tickets=150, seed=6)
    assert _signature() != first


def test_load_if_empty_loads_the_default_size_once():
    summary = demo_load_if_empty()
    assert summary is not None
    assert Ticket.objects.count() == 3000
    assert Customer.objects.count() == 300
    assert demo_load_if_empty() is None
    assert Ticket.objects.count() == 3000


def test_open_work_has_sla_clocks_routing_rows_and_triage():
    from helpline.routing.choices import LOAD_STATUSES
    from helpline.routing.models import TicketRouting
    from helpline.sla.models import TicketSla
    from helpline.tickets.choices import ACTIVE_STATUSES
    from helpline.triage.models import MessageTriage

    demo_load(customers=30, tickets=300, seed=3)
    active = Ticket.objects.filter(status__in=ACTIVE_STATUSES)
    assert active.exists()
    assert TicketSla.objects.filter(ticket__in=active).count() == active.count()
    routed = active.filter(status__in=LOAD_STATUSES)  # routing tracks work agents carry
    assert routed.exists()
    assert TicketRouting.objects.filter(ticket__in=routed).count() == routed.count()
    inbound = Message.objects.filter(ticket__in=active, direction="inbound")
    assert MessageTriage.objects.filter(message__in=inbound).count() == inbound.count()
