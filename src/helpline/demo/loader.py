"""Demo data for a fresh install: the support desk of "Northwind Home", a small home-goods shop.

Nine staff in three teams (one agent restricted to her team, one supervisor), a few hundred
customers (some with several identities, some in organisations, most with orders), and a few
thousand tickets over the last six months on every channel, with conversations, internal notes,
tags and a coherent timeline. Staff, customers and orders go through the services where that is
cheap; tickets, messages and timeline rows are bulk-created (a service call per message would
take minutes), keeping the invariants the services keep: ``message_count`` is the number of
messages, ``first_responded_at`` is the first public reply, ``last_message_at`` the newest public
message, ``updated_at`` the newest change, and solved/closed times come after the conversation.

Everything random comes from one ``random.Random(seed)``: the same seed on an empty database
gives the same data (timestamps are relative to the moment of loading).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction

from helpline.accounts.choices import Role
from helpline.accounts.models import Team, User
from helpline.accounts.services import team_create, user_create
from helpline.core import clock
from helpline.customers.choices import Channel, IdentityKind, OrderStatus
from helpline.customers.models import Customer, CustomerNote, Identity, Order, Organisation
from helpline.customers.services import identity_normalize
from helpline.demo import texts
from helpline.routing.services import routing_backfill
from helpline.sla.services import sla_recompute_active
from helpline.tickets.choices import (
    ACTIVE_STATUSES,
    DeliveryStatus,
    Direction,
    EventKind,
    Priority,
    Status,
)
from helpline.tickets.models import Message, Tag, Ticket, TicketEvent
from helpline.triage.services import message_triage

DEMO_AGENT_PASSWORD = "demo-agent-pass"  # noqa: S105 - printed and documented on purpose
SPAN = timedelta(days=182)
CLOSE_AFTER = timedelta(days=4)

CHANNEL_WEIGHTS = {
    Channel.EMAIL: 38,
    Channel.CHAT: 18,
    Channel.WEB: 16,
    Channel.PHONE: 10,
    Channel.SOCIAL: 10,
    Channel.API: 8,
}
PRIORITIES = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)


@dataclass
class _Person:
    customer: Customer
    first: str
    language: str
    kinds: set[str]
    orders: list[Order] = field(default_factory=list)
    social: str = ""


@dataclass
class _Staff:
    teams: dict[str, Team]
    members: dict[str, list[User]]
    everyone: list[User]


def _staff() -> _Staff:
    """The demo team; existing accounts with the same emails are reused."""
    teams = {
        name: team_create(name=name, description=description)
        for name, description in (
            ("Billing", "Payments, refunds, invoices and cancellations."),
            ("Technical", "Accounts, the website and the app, product how-tos."),
            ("Shipping", "Deliveries, damaged parcels and replacements."),
        )
    }
    members: dict[str, list[User]] = {name: [] for name in teams}
    everyone: list[User] = []
    created: list[int] = []
    for name, email, team, role, restricted in texts.AGENTS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = user_create(
                email=email,
                name=name,
                password=None,
                role=Role(role),
                teams=[teams[team]],
                restricted_to_teams=restricted,
            )
            created.append(user.pk)
        members[team].append(user)
        everyone.append(user)
    if created:
        # One hash for all: hashing is deliberately slow and the password is the same.
        User.objects.filter(pk__in=created).update(password=make_password(DEMO_AGENT_PASSWORD))
    return _Staff(teams=teams, members=members, everyone=everyone)


def _language(rng: random.Random) -> str:
    r = rng.random()
    return "es" if r < 0.08 else "de" if r < 0.14 else "fr" if r < 0.19 else "en"


def _ascii(text: str) -> str:
    table = str.maketrans("áéíóúñüäöçèêàÁÉÍÓÚÑÜÄÖÇÈ'ß", "aeiounuaoceeaAEIOUNUAOCE_s")
    return text.translate(table).lower().replace(" ", "")


def _customers(rng: random.Random, count: int, now: datetime) -> list[_Person]:
    orgs = [
        Organisation.objects.filter(domain=domain).first()
        or Organisation.objects.create(name=name, domain=domain)
        for name, domain in texts.ORGANISATIONS
    ]
    offset = Customer.objects.count()  # a second load gets fresh addresses
    people: list[_Person] = []
    identities: list[Identity] = []
    for index in range(count):
        n = offset + index + 1
        language = _language(rng)
        firsts, lasts = texts.NAMES_BY_LANGUAGE.get(
            language, (texts.FIRST_NAMES, texts.LAST_NAMES)
        )
        first, last = rng.choice(firsts), rng.choice(lasts)
        org: Organisation | None = (
            orgs[rng.randrange(len(orgs))] if rng.random() < 0.15 else None
        )
        domain = org.domain if org else rng.choice(
            ("mail.example", "post.example", "inbox.example", "webmail.example")
        )
        pairs: list[tuple[str, str]] = []
        if rng.random() < 0.95:
            pairs.append((IdentityKind.EMAIL, f"{_ascii(first)}.{_ascii(last)}{n}@{domain}"))
        if rng.random() < 0.35 or not pairs:
            pairs.append((IdentityKind.PHONE, f"+44 7700 {900000 + n:06d}"))
        social = ""
        if rng.random() < 0.18:
            social = f"@{_ascii(first)}_{_ascii(last)[:6]}{n}"
            pairs.append((IdentityKind.SOCIAL, social))
        if rng.random() < 0.12:
            pairs.append((IdentityKind.CHAT, f"visitor-{n:05d}"))
        attributes: dict[str, object] = {"city": rng.choice(texts.CITIES)}
        if rng.random() < 0.08:
            attributes["vip"] = True
        if org is not None:
            attributes["role"] = rng.choice(("office manager", "owner", "purchasing"))
        customer = Customer(
            name=f"{first} {last}",
            organisation=org,
            attributes=attributes,
            language=language,
            preferred_channel=rng.choice((Channel.EMAIL, Channel.EMAIL, Channel.CHAT, "")),
        )
        people.append(
            _Person(customer=customer, first=first, language=language,
                    kinds={k for k, _ in pairs}, social=social)
        )
        for position, (kind, value) in enumerate(pairs):
            identities.append(
                Identity(
                    customer=customer,
                    kind=kind,
                    value=identity_normalize(kind=kind, value=value),
                    is_primary=position == 0,
                )
            )
    Customer.objects.bulk_create([p.customer for p in people])
    for identity in identities:
        identity.customer_id = identity.customer.pk
    Identity.objects.bulk_create(identities)
    # bulk_create stamps "now" on auto_now fields; customers are older than their tickets.
    for person in people:
        joined = now - SPAN - timedelta(days=rng.randrange(1, 900))
        person.customer.created_at = joined
        person.customer.updated_at = joined
    Customer.objects.bulk_update([p.customer for p in people], ["created_at", "updated_at"])

    orders: list[Order] = []
    for person in people:
        if rng.random() < 0.15:
            continue
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
            product, price = rng.choice(texts.PRODUCTS)
            ordered = now - timedelta(days=rng.uniform(1, 200))
            age = (now - ordered).days
            status = (
                OrderStatus.PAID if age < 2 else OrderStatus.SHIPPED if age < 5
                else rng.choice((OrderStatus.DELIVERED,) * 8 + (OrderStatus.REFUNDED,
                                                                 OrderStatus.CANCELLED))
            )
            order = Order(
                customer=person.customer,
                reference="",
                product=product,
                amount=Decimal(price) * rng.choice((1, 1, 1, 2)),
                currency="EUR",
                ordered_at=ordered,
                status=status,
            )
            person.orders.append(order)
            orders.append(order)
    orders.sort(key=lambda o: o.ordered_at)
    base = 10_400 + Order.objects.count()
    for number, order in enumerate(orders):
        order.reference = f"NW-{base + number}"
    Order.objects.bulk_create(orders)
    for person in people:
        person.orders.sort(key=lambda o: o.ordered_at)
    return people


@dataclass
class _Built:
    ticket: Ticket
    messages: list[Message]
    events: list[TicketEvent]
    tags: tuple[str, ...]


def _status_for(rng: random.Random, age: timedelta) -> str:
    days = age.total_seconds() / 86400
    active = rng.random() < (0.6 if days < 2 else 0.3 if days < 10 else 0.01)
    if not active:
        return Status.SOLVED  # becomes closed below when old enough
    # Work older than ten days that is still active is mostly waiting on someone else (the
    # customer, a supplier), as in a real queue; only a few open tickets have been forgotten.
    weights = (25, 40, 25, 10) if days < 10 else (2, 6, 52, 40)
    statuses = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
    return rng.choices(statuses, weights=weights)[0]


def _public_count(rng: random.Random, status: str) -> int:
    if status == Status.NEW:
        return 1
    if status == Status.OPEN:
        return rng.choice((3, 3, 5))
    if status in (Status.PENDING, Status.ON_HOLD):
        return rng.choice((2, 2, 4))
    return rng.choices((1, 2, 3, 4, 5), weights=(3, 45, 25, 18, 6))[0]


def _reply_delay(rng: random.Random, channel: str) -> timedelta:
    if channel == Channel.CHAT:
        return timedelta(seconds=rng.randrange(20, 600))
    if channel == Channel.PHONE:
        return timedelta(seconds=rng.randrange(60, 900))
    if channel == Channel.SOCIAL:
        return timedelta(minutes=rng.randrange(10, 360))
    return timedelta(minutes=rng.randrange(15, 60 * 28))


def _customer_delay(rng: random.Random, channel: str) -> timedelta:
    if channel in (Channel.CHAT, Channel.PHONE):
        return timedelta(seconds=rng.randrange(30, 400))
    return timedelta(minutes=rng.randrange(20, 60 * 40))


def _build_ticket(
    rng: random.Random,
    *,
    person: _Person,
    created: datetime,
    now: datetime,
    staff: _Staff,
    supervisor: User,
) -> _Built:
    family = rng.choices(texts.FAMILIES, weights=[f.weight for f in texts.FAMILIES])[0]
    if family.needs_order and not person.orders:
        family = rng.choice([f for f in texts.FAMILIES if not f.needs_order])
    language = person.language if person.language in family.subjects else "en"
    possible = [c for c in CHANNEL_WEIGHTS if _reachable(c, person.kinds)]
    channel = rng.choices(possible, weights=[CHANNEL_WEIGHTS[c] for c in possible])[0]
    earlier = [o for o in person.orders if o.ordered_at < created]
    order = earlier[-1] if earlier else (person.orders[0] if person.orders else None)
    team = staff.teams[family.team]
    assignee = rng.choice(staff.members[family.team]) if rng.random() < 0.85 else rng.choice(
        [u for u in staff.everyone if not u.restricted_to_teams]
    )
    fill = {
        "first": person.first,
        "order": order.reference if order else "",
        "product": order.product if order else rng.choice(texts.PRODUCTS)[0],
        "days": str(rng.randrange(4, 16)),
        "agent": assignee.name.split()[0],
    }
    variant = rng.randrange(len(family.openers[language]))
    status = _status_for(rng, now - created)
    public = _public_count(rng, status)
    if status == Status.NEW and rng.random() < 0.6:
        assigned: User | None = None
    else:
        assigned = assignee

    # The conversation as (direction, delay before it), then squeezed to fit before now.
    plan: list[tuple[str, timedelta]] = [(Direction.INBOUND, timedelta(0))]
    for i in range(1, public):
        outbound = i % 2 == 1
        delay = _reply_delay(rng, channel) if outbound else _customer_delay(rng, channel)
        plan.append((Direction.OUTBOUND if outbound else Direction.INBOUND, delay))
    if public < 6 and assigned is not None and (
        rng.random() < 0.22 or status == Status.ON_HOLD
    ):
        position = len(plan) if status == Status.ON_HOLD else rng.randrange(1, len(plan) + 1)
        plan.insert(position, (Direction.NOTE, timedelta(minutes=rng.randrange(2, 240))))
    resolve_delay = timedelta(minutes=rng.randrange(1, 180))
    total = sum((d for _, d in plan), timedelta(0)) + (
        resolve_delay if status == Status.SOLVED else timedelta(0)
    )
    room = (now - created) * 0.95
    scale = min(1.0, room / total) if total else 1.0

    ticket = Ticket(
        subject=texts.variant(family.subjects[language], family, language, variant, rng)
        .format(**fill)[:255],
        status=status,
        priority=rng.choices(PRIORITIES, weights=family.priorities)[0],
        channel=channel,
        customer=person.customer,
        assignee=assigned,
        team=team,
        created_at=created,
        updated_at=created,
    )
    messages: list[Message] = []
    events: list[TicketEvent] = [
        TicketEvent(ticket=ticket, actor=assigned if channel == Channel.PHONE else None,
                    kind=EventKind.CREATED,
                    data={"channel": channel, "subject": ticket.subject}, created_at=created),
        TicketEvent(ticket=ticket, actor=None, kind=EventKind.TEAM,
                    data={"from": None, "to": team.pk, "to_name": team.name},
                    created_at=created + timedelta(seconds=2)),
    ]
    at = created
    current = Status.NEW
    sign_off = texts.SIGN_OFF[language].format(agent=fill["agent"])
    for index, (direction, delay) in enumerate(plan):
        at = at + delay * scale
        metadata: dict[str, object] = {}
        author_user: User | None = None
        author_customer: Customer | None = None
        if direction == Direction.INBOUND:
            author_customer = person.customer
            if index == 0:
                body = family.openers[language][variant].format(**fill)
                if channel == Channel.PHONE:
                    author_user = assigned
                    metadata = {"call_seconds": rng.randrange(60, 900)}
                elif channel == Channel.SOCIAL:
                    metadata = {"handle": person.social}
            else:
                pool = family.followups.get(language) or texts.GENERIC_FOLLOWUPS[language]
                if status == Status.OPEN and index == len(plan) - 1:
                    pool = texts.GENERIC_FOLLOWUPS[language]
                body = rng.choice(pool)
        elif direction == Direction.OUTBOUND:
            author_user = assigned
            reply = texts.variant(family.replies[language], family, language, variant, rng)
            body = reply.format(**fill) + "\n\n" + sign_off
        else:
            author_user = assigned
            body = rng.choice(family.notes or texts.GENERIC_NOTES)
        message = Message(
            ticket=ticket,
            direction=direction,
            channel=channel,
            author_user=author_user,
            author_customer=author_customer,
            body_text=body,
            delivery_status=DeliveryStatus.SENT if direction == Direction.OUTBOUND else "",
            metadata=metadata,
            created_at=at,
        )
        messages.append(message)
        if index == 0:
            if assigned is not None:
                events.append(TicketEvent(
                    ticket=ticket, actor=supervisor if rng.random() < 0.3 else None,
                    kind=EventKind.ASSIGNEE,
                    data={"from": None, "to": assigned.pk, "to_name": assigned.name},
                    created_at=at + timedelta(seconds=5),
                ))
            continue
        events.append(TicketEvent(
            ticket=ticket, actor=author_user, kind=EventKind.MESSAGE,
            data={"message_id": None, "direction": str(direction)}, created_at=at,
        ))
        new_status = current
        if direction == Direction.OUTBOUND:
            rest = plan[index + 1 :]
            last_reply = all(d == Direction.NOTE for d, _ in rest)
            waiting = last_reply and status in (Status.PENDING, Status.SOLVED)
            new_status = Status.PENDING if waiting else Status.OPEN
        elif direction == Direction.INBOUND and current == Status.PENDING:
            new_status = Status.OPEN
        if new_status != current:
            events.append(TicketEvent(
                ticket=ticket, actor=author_user, kind=EventKind.STATUS,
                data={"from": current, "to": new_status}, created_at=at,
            ))
            current = new_status

    public_messages = [m for m in messages if m.direction != Direction.NOTE]
    replies = [m for m in messages if m.direction == Direction.OUTBOUND]
    ticket.message_count = len(messages)
    ticket.last_message_at = public_messages[-1].created_at
    ticket.first_responded_at = replies[0].created_at if replies else None
    ticket.updated_at = messages[-1].created_at
    if status == Status.SOLVED:
        solved = min(at + resolve_delay * scale, now)
        ticket.solved_at = solved
        events.append(TicketEvent(ticket=ticket, actor=assigned, kind=EventKind.STATUS,
                                  data={"from": current, "to": Status.SOLVED}, created_at=solved))
        ticket.updated_at = solved
        if now - solved > CLOSE_AFTER:
            ticket.status = Status.CLOSED
            ticket.closed_at = solved + CLOSE_AFTER
            ticket.updated_at = ticket.closed_at
            events.append(TicketEvent(
                ticket=ticket, actor=None, kind=EventKind.STATUS,
                data={"from": Status.SOLVED, "to": Status.CLOSED}, created_at=ticket.closed_at,
            ))
    elif status != current:
        # on hold, or an open ticket whose last word was a customer's: the agent set it.
        events.append(TicketEvent(ticket=ticket, actor=assigned, kind=EventKind.STATUS,
                                  data={"from": current, "to": status},
                                  created_at=ticket.updated_at))
    tags = family.tags
    if person.customer.attributes.get("vip"):
        tags = (*tags, "vip")
    if rng.random() < 0.1 and ticket.priority == Priority.URGENT:
        tags = (*tags, "escalated")
    return _Built(ticket=ticket, messages=messages, events=events, tags=tuple(dict.fromkeys(tags)))


def _reachable(channel: str, kinds: set[str]) -> bool:
    if channel == Channel.PHONE:
        return IdentityKind.PHONE in kinds
    if channel == Channel.SOCIAL:
        return IdentityKind.SOCIAL in kinds
    return IdentityKind.EMAIL in kinds or (
        channel == Channel.CHAT and IdentityKind.CHAT in kinds
    )


def demo_load(*, customers: int = 300, tickets: int = 3000, seed: int = 7) -> str:
    """Load the demo shop's staff, customers, orders and tickets; return a one-line summary."""
    if customers < 1 or tickets < 0:
        raise ValueError("demo_load needs at least one customer and a non-negative ticket count")
    rng = random.Random(seed)
    now = clock.now()
    with transaction.atomic():
        staff = _staff()
        supervisor = next(u for u in staff.everyone if u.role == Role.SUPERVISOR)
        people = _customers(rng, customers, now)
        # Repeat customers: a few write often, most once or twice.
        cumulative = list(
            itertools.accumulate(1 / (rank + 1) ** 0.7 for rank in range(len(people)))
        )
        rng.shuffle(people)
        start = now - SPAN
        # Steady growth: more tickets in recent months than six months ago.
        created_times = sorted(
            start + SPAN * (rng.random() ** 0.85) for _ in range(tickets)
        )
        built: list[_Built] = []
        for created in created_times:
            person = rng.choices(people, cum_weights=cumulative)[0]
            built.append(
                _build_ticket(rng, person=person, created=max(created, start), now=now,
                              staff=staff, supervisor=supervisor)
            )
        _write(built)
        for person in rng.sample(people, k=min(len(people), max(1, customers // 12))):
            CustomerNote.objects.create(
                customer=person.customer,
                author=rng.choice(staff.everyone),
                body=rng.choice((
                    "Prefers phone calls in the afternoon.",
                    "Runs a small café; orders in bulk before the holidays.",
                    "Had two damaged deliveries - handle with extra care.",
                    "Happy to be a beta tester for the new app.",
                )),
            )
    _derive_for_open_work()
    messages = sum(len(b.messages) for b in built)
    active = sum(1 for b in built if b.ticket.status not in (Status.SOLVED, Status.CLOSED))
    return (
        f"{customers} customers, {tickets} tickets ({active} open), {messages} messages; "
        f"agents sign in as e.g. {texts.AGENTS[1][1]} (supervisor {texts.AGENTS[0][1]}) "
        f"with password {DEMO_AGENT_PASSWORD}"
    )


def _derive_for_open_work() -> None:
    """The demo rows were bulk-written, past the event bus: compute what the bus would have.

    SLA clocks and routing rows for every active ticket, and triage for their customers'
    messages, so the inbox shows due times, the live queue has work and tickets show triage.
    Solved history needs none of it.
    """
    sla_recompute_active()
    routing_backfill()
    inbound = Message.objects.filter(
        ticket__status__in=ACTIVE_STATUSES, direction=Direction.INBOUND
    ).values_list("pk", flat=True)
    for message_id in inbound.iterator():
        message_triage(message_id=message_id)


def _write(built: list[_Built]) -> None:
    Ticket.objects.bulk_create([b.ticket for b in built], batch_size=500)
    messages: list[Message] = []
    for b in built:
        for m in b.messages:
            m.ticket_id = b.ticket.pk
            messages.append(m)
    Message.objects.bulk_create(messages, batch_size=500)
    events: list[TicketEvent] = []
    for b in built:
        # The timeline names each later message by id, as the services do.
        later = iter(b.messages[1:])
        for event in b.events:
            event.ticket_id = b.ticket.pk
            if event.kind == EventKind.MESSAGE:
                event.data = {**event.data, "message_id": next(later).pk}
            events.append(event)
    TicketEvent.objects.bulk_create(events, batch_size=500)
    names = sorted({name for b in built for name in b.tags})
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in names}
    through = Ticket.tags.through
    Ticket.tags.through.objects.bulk_create(
        [through(ticket_id=b.ticket.pk, tag_id=tags[name].pk) for b in built for name in b.tags],
        batch_size=1000,
    )


def demo_load_if_empty() -> str | None:
    """Load the demo data unless there are tickets already; return the summary if loaded."""
    if Ticket.objects.exists():
        return None
    return demo_load()
