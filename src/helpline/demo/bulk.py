"""Fast, coherent bulk generation of customers, tickets, messages and timeline rows.

Used by ``helpline manage seed`` to fill a database for benchmarks. Rows are built in Python
with one seeded ``random.Random`` (same seed, same data) and written in batches: with
``COPY ... FROM STDIN`` on PostgreSQL (psycopg 3) and ``executemany`` on SQLite. Services are
bypassed on purpose (one ticket through ``ticket_open`` costs ~5 queries), so this module keeps
the same invariants by construction:

- messages of a ticket are in time order, the first is inbound, the second (if any) is the
  first public reply, so ``first_responded_at`` is its time;
- ``message_count`` is the number of message rows, ``last_message_at`` the newest public one;
- ``solved_at``/``closed_at`` come after the last message; ``updated_at`` is the newest of all;
- the timeline has a ``created`` row, one ``message`` row per later message, an ``assignee``
  row when assigned and ``status`` rows for solved and closed.

Primary keys are allocated above the current maximum and the sequences are reset at the end,
so the seed can run on a database that is in use only if nothing else is inserting meanwhile.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from helpline.accounts.choices import Role
from helpline.accounts.models import Team, User
from helpline.accounts.services import team_create, user_create
from helpline.core import clock
from helpline.customers.choices import Channel, IdentityKind, OrderStatus
from helpline.customers.models import Customer, Identity, Order
from helpline.demo import texts
from helpline.tickets.choices import DeliveryStatus, Direction, EventKind, Priority, Status
from helpline.tickets.models import Message, Tag, Ticket, TicketEvent

Row = tuple[Any, ...]


class Output(Protocol):
    """Where progress goes: a text stream or a management command's ``self.stdout``."""

    def write(self, msg: str, /) -> object: ...

    def flush(self) -> object: ...

CHANNEL_WEIGHTS: tuple[tuple[str, int], ...] = (
    (Channel.EMAIL, 40),
    (Channel.CHAT, 18),
    (Channel.WEB, 15),
    (Channel.PHONE, 10),
    (Channel.SOCIAL, 10),
    (Channel.API, 7),
)
PRIORITIES = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
TEAMS = ("Billing", "Technical", "Shipping")
SPAN = timedelta(days=180)


@dataclass(frozen=True)
class SeedResult:
    customers: int
    tickets: int
    messages: int
    events: int
    seconds: float

    @property
    def rows(self) -> int:
        return self.customers + self.tickets + self.messages + self.events


class _Writer:
    """Writes rows of one model, in the column order given, the fastest way the backend allows.

    Columns the generator does not provide get the model field's default, computed once.
    """

    def __init__(self, model: type[models.Model], names: Sequence[str]) -> None:
        fields = {f.name: f for f in model._meta.concrete_fields}
        self.table = str(model._meta.db_table)
        self.columns = [str(fields[name].column) for name in names]
        self.extra_values: tuple[Any, ...] = ()
        extra_columns: list[str] = []
        for f in model._meta.concrete_fields:
            if f.name in names or f.primary_key:
                continue
            default = f.get_default()
            if default is None and not f.null:
                raise RuntimeError(f"seed does not know how to fill {self.table}.{f.column}")
            extra_columns.append(str(f.column))
            self.extra_values += (f.get_db_prep_save(default, connection),)
        self.columns += extra_columns
        datetime_names = {
            f.name for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)
        }
        self.datetime_positions = [i for i, n in enumerate(names) if n in datetime_names]
        self.json_positions = [
            i for i, n in enumerate(names) if isinstance(fields[n], models.JSONField)
        ]

    def write(self, rows: list[Row]) -> None:
        if not rows:
            return
        qn = connection.ops.quote_name
        cols = ", ".join(qn(c) for c in self.columns)
        extra = self.extra_values
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                raw = cursor.cursor
                with raw.copy(f"COPY {qn(self.table)} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + extra)
            else:
                adapt = connection.ops.adapt_datetimefield_value
                dts = self.datetime_positions
                marks = ", ".join(["%s"] * len(self.columns))
                prepared = []
                for row in rows:
                    values = list(row)
                    for i in dts:
                        if values[i] is not None:
                            values[i] = adapt(values[i])
                    prepared.append((*values, *extra))
                cursor.executemany(
                    f"INSERT INTO {qn(self.table)} ({cols}) VALUES ({marks})",  # noqa: S608
                    prepared,
                )


def _next_id(model: type[models.Model]) -> int:
    current = model._default_manager.aggregate(m=Max("pk"))["m"]
    return int(current or 0) + 1


def _reset_sequences(model_list: Iterable[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _weighted(pairs: Sequence[tuple[Any, int]]) -> tuple[list[Any], list[int]]:
    values = [v for v, _ in pairs]
    cumulative: list[int] = []
    total = 0
    for _, w in pairs:
        total += w
        cumulative.append(total)
    return values, cumulative


def ensure_staff(*, agents: int = 12) -> tuple[list[User], dict[int, int]]:
    """Active agents to assign tickets to (creating ``seed-agent-N`` ones if too few), with the
    team id of each. Created agents have unusable passwords: they exist to own tickets."""
    teams = [team_create(name=name) for name in TEAMS]
    existing = list(
        User.objects.filter(is_active=True, role__in=[Role.AGENT, Role.SUPERVISOR]).order_by("pk")
    )
    for index in range(len(existing), agents):
        user = user_create(
            email=f"seed-agent-{index + 1}@seed.helpline.test",
            name=f"Seed Agent {index + 1}",
            password=None,
            teams=[teams[index % len(teams)]],
        )
        existing.append(user)
    team_of: dict[int, int] = {}
    memberships = User.teams.through.objects.filter(user__in=existing).order_by("team_id")
    for row in memberships.values_list("user_id", "team_id"):
        team_of.setdefault(row[0], row[1])
    for i, user in enumerate(existing):
        team_of.setdefault(user.pk, teams[i % len(teams)].pk)
    return existing, team_of


BULK_TABLES: tuple[type[models.Model], ...] = (Ticket, Message, TicketEvent)


def _is_superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def _drop_secondary_indexes() -> list[str]:
    """Drop the non-unique indexes of the big tables and return the statements that rebuild
    them: one sorted build at the end is several times faster than maintaining them row by row.
    """
    tables = [m._meta.db_table for m in BULK_TABLES]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE t.relname = ANY(%s) AND NOT i.indisunique AND NOT i.indisprimary",
            [tables],
        )
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in found]


def _rebuild_indexes(statements: list[str], out: Output) -> None:
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for sql in statements:
            cursor.execute(sql)
        cursor.execute("RESET maintenance_work_mem")
    out.write(f"  rebuilt {len(statements)} indexes in {time.monotonic() - started:,.1f}s\n")


def _language_for(customer_index: int) -> str:
    bucket = customer_index % 50
    if bucket < 3:
        return "es"
    if bucket < 5:
        return "de"
    if bucket < 7:
        return "fr"
    return "en"


def _progress(out: Output, label: str, done: int, total: int, rows: int, started: float) -> None:
    elapsed = max(time.monotonic() - started, 1e-6)
    out.write(
        f"  {label}: {done:,}/{total:,}  rows so far {rows:,}  "
        f"{rows / elapsed:,.0f} rows/s  {elapsed:,.1f}s\n"
    )
    out.flush()


def seed(
    *,
    tickets: int,
    customers: int | None = None,
    messages_per_ticket: int = 4,
    seed: int = 1,
    batch: int = 20_000,
    out: Output | None = None,
) -> SeedResult:
    """Add ``tickets`` tickets (about ``messages_per_ticket`` messages each, on average) for
    ``customers`` new customers (default: one per five tickets). Returns what was written."""
    out = out or sys.stdout
    if tickets < 0 or messages_per_ticket < 1:
        raise ValueError("tickets must be >= 0 and messages_per_ticket >= 1")
    customers = customers if customers is not None else max(1, tickets // 5)
    if customers < 1:
        raise ValueError("at least one customer is needed")
    rng = random.Random(seed)
    started = time.monotonic()
    now = clock.now().replace(microsecond=0)
    start = now - SPAN

    staff, team_of = ensure_staff()
    staff_ids = [u.pk for u in staff]
    tag_ids = {
        name: Tag.objects.get_or_create(name=name)[0].pk
        for family in texts.FAMILIES
        for name in family.tags
    }
    families, family_cum = _weighted([(f, f.weight) for f in texts.FAMILIES])
    channels, channel_cum = _weighted(CHANNEL_WEIGHTS)
    team_by_name = {t.name: t.pk for t in Team.objects.filter(name__in=TEAMS)}
    priority_cum = {f.key: _cumulate(f.priorities) for f in texts.FAMILIES}

    span_seconds = int(SPAN.total_seconds())
    rows_written = 0
    customer_base = _next_id(Customer)
    identity_base = _next_id(Identity)
    order_base = _next_id(Order)
    customer_writer = _Writer(
        Customer, ["id", "name", "language", "preferred_channel", "created_at", "updated_at"]
    )
    identity_writer = _Writer(Identity, ["id", "customer", "kind", "value", "is_primary",
                                         "created_at"])
    order_writer = _Writer(Order, ["id", "customer", "reference", "product", "amount",
                                   "currency", "ordered_at", "status"])
    out.write(f"Seeding {customers:,} customers and {tickets:,} tickets "
              f"(~{messages_per_ticket} messages each) on {connection.vendor}\n")
    order_id = order_base
    customer_created: list[datetime] = []
    for offset in range(0, customers, batch):
        c_rows: list[Row] = []
        i_rows: list[Row] = []
        o_rows: list[Row] = []
        for index in range(offset, min(offset + batch, customers)):
            cid = customer_base + index
            lang = _language_for(index)
            firsts, lasts = texts.NAMES_BY_LANGUAGE.get(lang, (texts.FIRST_NAMES, texts.LAST_NAMES))
            name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
            created = start - timedelta(days=rng.randrange(1, 700))
            customer_created.append(created)
            c_rows.append((cid, name, lang, "", created, created))
            i_rows.append((identity_base + index, cid, IdentityKind.EMAIL,
                           f"c{cid}@seed.example.test", True, created))
            if index % 2 == 0:
                product, price = rng.choice(texts.PRODUCTS)
                o_rows.append((order_id, cid, f"NW-{order_id:07d}", product, Decimal(price),
                               "EUR", start + timedelta(seconds=rng.randrange(span_seconds)),
                               OrderStatus.DELIVERED))
                order_id += 1
        with transaction.atomic():
            customer_writer.write(c_rows)
            identity_writer.write(i_rows)
            order_writer.write(o_rows)
        rows_written += len(c_rows) + len(i_rows) + len(o_rows)
        _progress(out, "customers", min(offset + batch, customers), customers, rows_written,
                  started)

    ticket_writer = _Writer(Ticket, [
        "id", "subject", "status", "priority", "channel", "customer", "assignee", "team",
        "created_at", "updated_at", "last_message_at", "first_responded_at", "solved_at",
        "closed_at", "message_count",
    ])
    message_writer = _Writer(Message, [
        "id", "ticket", "direction", "channel", "author_user", "author_customer", "body_text",
        "delivery_status", "created_at",
    ])
    event_writer = _Writer(TicketEvent, ["ticket", "actor", "kind", "data", "created_at"])
    tag_writer = _Writer(Ticket.tags.through, ["ticket", "tag"])

    postgres = connection.vendor == "postgresql"
    # Foreign keys are right by construction; checking each of millions of rows one by one
    # (PostgreSQL's RI triggers) would double the run time. Needs a superuser.
    skip_triggers = postgres and _is_superuser()
    rebuild: list[str] = []
    if postgres and tickets >= 100_000:
        rebuild = _drop_secondary_indexes()
    ticket_base = _next_id(Ticket)
    message_id = _next_id(Message)
    n_messages = n_events = 0
    max_messages = 2 * messages_per_ticket - 1
    try:
        for offset in range(0, tickets, batch):
            t_rows: list[Row] = []
            m_rows: list[Row] = []
            e_rows: list[Row] = []
            tag_rows: list[Row] = []
            for j in range(offset, min(offset + batch, tickets)):
                tid = ticket_base + j
                family = families[_pick(rng, family_cum)]
                channel = channels[_pick(rng, channel_cum)]
                # Heavy repeat customers: low indexes come back often.
                c_index = int(customers * rng.random() ** 2)
                cid = customer_base + c_index
                lang = _language_for(c_index)
                if lang not in family.subjects:
                    lang = "en"
                created = start + timedelta(
                    seconds=span_seconds * j / max(tickets, 1) + rng.randrange(3600)
                )
                if created > now:
                    created = now - timedelta(seconds=rng.randrange(1, 3600))
                created = max(created, customer_created[c_index])
                k = 1 + rng.randrange(max_messages)
                times = [created]
                for _ in range(1, k):
                    step = timedelta(minutes=rng.randrange(5, 60 * 30))
                    if times[-1] + step > now:
                        break
                    times.append(times[-1] + step)
                k = len(times)
                agent = staff_ids[rng.randrange(len(staff_ids))]
                last = times[-1]
                recent = (now - last) < timedelta(days=7)
                active = rng.random() < (0.6 if recent else 0.01)
                assigned = k >= 2 or rng.random() < 0.5
                assignee = agent if assigned else None
                team = team_of[agent] if assigned else team_by_name.get(family.team)
                note_at = 2 if k >= 4 and rng.random() < 0.3 else -1
                solved_at: datetime | None = None
                closed_at: datetime | None = None
                if active:
                    if k == 1:
                        status = Status.NEW
                    else:
                        r = rng.random()
                        status = Status.PENDING if r < 0.35 else (
                            Status.ON_HOLD if r < 0.42 else Status.OPEN
                        )
                else:
                    solved_at = last + timedelta(minutes=rng.randrange(1, 240))
                    if solved_at > now:
                        solved_at = now
                    if now - solved_at > timedelta(days=4):
                        closed_at = solved_at + timedelta(days=4)
                        status = Status.CLOSED
                    else:
                        status = Status.SOLVED
                updated = closed_at or solved_at or last
                first_responded = times[1] if k >= 2 else None
                priority = PRIORITIES[_pick(rng, priority_cum[family.key])]
                order = f"NW-{rng.randrange(1, 9_999_999):07d}"
                product = rng.choice(texts.PRODUCTS)[0]
                fill = {"first": "there", "order": order, "product": product,
                        "agent": "", "days": str(rng.randrange(3, 15))}
                variant = rng.randrange(len(family.openers[lang]))
                subject = texts.variant(family.subjects[lang], family, lang, variant, rng)
                subject = subject.format(**fill)[:255]
                t_rows.append((tid, subject, status, priority, channel, cid, assignee, team,
                               created, updated, last, first_responded, solved_at, closed_at, k))
                e_rows.append((tid, None, EventKind.CREATED,
                               json.dumps({"channel": channel, "subject": subject}), created))
                for i, at in enumerate(times):
                    if i == 0:
                        direction = Direction.INBOUND
                        body = family.openers[lang][variant].format(**fill)
                    elif i == note_at:
                        direction = Direction.NOTE
                        body = rng.choice(family.notes or texts.GENERIC_NOTES)
                    elif i % 2 == 1:
                        direction = Direction.OUTBOUND
                        body = texts.variant(
                            family.replies[lang], family, lang, variant, rng
                        ).format(**fill)
                    else:
                        direction = Direction.INBOUND
                        pool = family.followups.get(lang) or family.followups.get("en") or (
                            "Any news on this?",
                        )
                        body = rng.choice(pool)
                    inbound = direction == Direction.INBOUND
                    m_rows.append((
                        message_id, tid, direction, channel,
                        None if inbound else assignee, cid if inbound else None, body,
                        DeliveryStatus.SENT if direction == Direction.OUTBOUND else "", at,
                    ))
                    if i > 0:
                        data = f'{{"message_id": {message_id}, "direction": "{direction}"}}'
                        e_rows.append((tid, None if inbound else assignee, EventKind.MESSAGE,
                                       data, at))
                    message_id += 1
                if assignee is not None:
                    e_rows.append((tid, None, EventKind.ASSIGNEE,
                                   f'{{"from": null, "to": {assignee}}}',
                                   times[1] - timedelta(seconds=30) if k >= 2 else created))
                if solved_at is not None:
                    e_rows.append((tid, assignee, EventKind.STATUS,
                                   f'{{"from": "open", "to": "{Status.SOLVED}"}}', solved_at))
                if closed_at is not None:
                    e_rows.append((tid, None, EventKind.STATUS,
                                   f'{{"from": "{Status.SOLVED}", "to": "{Status.CLOSED}"}}',
                                   closed_at))
                if rng.random() < 0.4:
                    tag_rows.append((tid, tag_ids[family.tags[0]]))
                n_messages += k
            with transaction.atomic():
                if postgres:
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit = off")
                        if skip_triggers:
                            cursor.execute("SET LOCAL session_replication_role = replica")
                ticket_writer.write(t_rows)
                message_writer.write(m_rows)
                event_writer.write(e_rows)
                tag_writer.write(tag_rows)
            n_events += len(e_rows)
            rows_written += len(t_rows) + len(m_rows) + len(e_rows) + len(tag_rows)
            _progress(out, "tickets", min(offset + batch, tickets), tickets, rows_written, started)
    finally:
        if rebuild:
            _rebuild_indexes(rebuild, out)
    _reset_sequences([Customer, Identity, Order, Ticket, Message, TicketEvent,
                      Ticket.tags.through])
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # VACUUM sets the visibility map (index-only scans) and ANALYZE the statistics, as
        # autovacuum would in a while on a live system; it cannot run inside a transaction.
        with connection.cursor() as cursor:
            for model in (Customer, Identity, Order, Ticket, Message, TicketEvent,
                          Ticket.tags.through):
                cursor.execute(
                    f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}"
                )
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Customer, Identity, Order, Ticket, Message, TicketEvent):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    elapsed = time.monotonic() - started
    result = SeedResult(customers=customers, tickets=tickets, messages=n_messages,
                        events=n_events, seconds=elapsed)
    out.write(
        f"Done: {customers:,} customers, {tickets:,} tickets, {n_messages:,} messages, "
        f"{n_events:,} timeline rows in {elapsed:,.1f}s ({result.rows / max(elapsed, 1e-6):,.0f} "
        f"rows/s)\n"
    )
    return result


def _cumulate(weights: Sequence[int]) -> list[int]:
    total = 0
    result = []
    for w in weights:
        total += w
        result.append(total)
    return result


def _pick(rng: random.Random, cumulative: Sequence[int]) -> int:
    r = rng.random() * cumulative[-1]
    for index, bound in enumerate(cumulative):
        if r < bound:
            return index
    return len(cumulative) - 1


__all__ = ["SeedResult", "ensure_staff", "seed"]
