"""What every new ticket costs the worker after it commits: the outbox's deferred reactions.

    HELPLINE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_follow \\
        .venv/bin/python bench/outbox_drain.py --tickets 400 [--repeat 2] [--followups 0.25]
    .venv/bin/python bench/outbox_drain.py --tickets 400        # SQLite in HELPLINE_DATA_DIR

Migrates the database it is given (use one of your own, never a shared one), then makes once a
small desk: two teams with skills, ``--agents`` agents online (default capacities: their seats
fill and the rest of the tickets wait in the queue), three routing rules, ``--customers``
customers. Each run then:

1. puts the previous run's tickets out of the way (closed, routing rows and loads reset), so
   every run starts from the same queue;
2. opens ``--tickets`` tickets through ``tickets.services.ticket_open`` (``--many N``:
   ``ticket_open_many``, N per call, as the API and email batches do) with the worker's wake-up
   switched off, so their events stay in the outbox (the request's own work, including the
   inline masking of secrets, is timed apart); a fifth of the messages carry a card number;
   ``--followups`` of the tickets then get a second customer message (``message_receive``);
3. drains the outbox as the worker does (``core.outbox.outbox_drain``, batches of 200 events)
   and reports CPU (``time.process_time``) and SQL statements per ticket, with the share of
   each deferred handler.

Figures are printed with the machine's load; never asserted.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.config.settings")
os.environ.setdefault("HELPLINE_DATA_DIR", str(Path(tempfile.gettempdir()) / "hl-outbox-bench"))

from _foundation import git_revision, machine, setup_django

setup_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

TAG = "outbox-bench"
BODIES = [
    "Hello, I was charged twice this month, please refund the second payment.",
    "Hallo, ich kann mich seit gestern nicht mehr anmelden. Das Passwort wird abgelehnt.",
    "Hola, mi pedido no ha llegado todavía y necesito el producto urgente para mañana.",
    "Bonjour, l'application plante à chaque ouverture depuis la dernière mise à jour.",
    "URGENT: our whole team is locked out, production is down, please call us now!",
    "Please update my card, the new one is 4111 1111 1111 1111 exp 12/29 cvv 123.",
    "Can you tell me how to export my invoices as CSV? Thanks a lot.",
    "This is the third time I write. Nobody answers. I want to speak to a human.",
    "Refund request for order 55-1234: item arrived broken.",
    "Quick question about the pricing of the business plan for 20 seats.",
]


class Statements:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool,
                 context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting() -> Iterator[Statements]:
    counter = Statements()
    with connection.execute_wrapper(counter):
        yield counter


def desk(agents: int, customers: int) -> tuple[list[Any], Any]:
    """The bench's desk, made once: teams, skills, agents online, rules, customers."""
    from helpline.accounts.choices import Role
    from helpline.accounts.models import User
    from helpline.accounts.services import team_create, user_create
    from helpline.customers.models import Customer
    from helpline.customers.services import customer_create
    from helpline.routing import services as routing
    from helpline.routing.choices import Presence, Strategy
    from helpline.routing.models import RoutingRule

    billing = team_create(name="Outbox bench billing")
    tech = team_create(name="Outbox bench tech")
    for kind, name in [("language", "en"), ("language", "de"), ("language", "es"),
                       ("language", "fr"), ("product", "billing"), ("channel", "email"),
                       ("channel", "api")]:
        routing.skill_create(kind=kind, name=name)
    routing.team_profile_set(team=billing, strategy=Strategy.LEAST_LOADED,
                             skill_keys=["language:en", "product:billing", "channel:email"])
    routing.team_profile_set(team=tech, strategy=Strategy.ROUND_ROBIN,
                             skill_keys=["language:de", "language:fr", "channel:api"])
    for i in range(agents):
        email = f"agent{i}@{TAG}.test"
        user = User.objects.filter(email=email).first() or user_create(
            email=email, name=f"Bench agent {i}", password=None, role=Role.AGENT,
            teams=[billing if i % 2 else tech],
        )
        routing.agent_profile_ensure(agent=user)
        routing.agent_skills_set(agent=user, skill_keys=["language:en", "language:de"])
        routing.agent_presence_set(agent=user, presence=Presence.ONLINE)
    for user in User.objects.filter(email__endswith=f"@{TAG}.test").order_by("pk")[agents:]:
        routing.agent_presence_set(agent=user, presence=Presence.OFFLINE)
    if not RoutingRule.objects.filter(name__startswith=TAG).exists():
        routing.routing_rule_create(fields=routing.RuleFields(
            name=f"{TAG} refunds", position=1, keywords=["refund"], set_team_id=billing.pk,
            add_tags=["billing"]))
        routing.routing_rule_create(fields=routing.RuleFields(
            name=f"{TAG} urgent api", position=2, channels=["api"], keywords=["urgent"],
            set_priority="high"))
        routing.routing_rule_create(fields=routing.RuleFields(
            name=f"{TAG} spanish", position=3, languages=["es"], add_tags=["spanish"]))
    have = list(Customer.objects.filter(name__startswith=f"{TAG} ").order_by("pk"))
    for i in range(len(have), customers):
        have.append(customer_create(name=f"{TAG} {i}",
                                    identities=[("email", f"customer{i}@{TAG}.test")]))
    return have, (billing, tech)


def clear_previous() -> None:
    """Previous runs' tickets out of the way: every bench ticket closed, its routing row gone,
    loads back to 0 and the outbox empty; the next run starts from the same queue."""
    from helpline.core.models import OutboxEvent
    from helpline.routing.models import AgentLoad, TicketRouting
    from helpline.tickets.models import Ticket

    bench = Ticket.objects.filter(customer__name__startswith=f"{TAG} ")
    TicketRouting.objects.filter(ticket__in=bench).delete()
    bench.exclude(status="closed").update(status="closed", assignee=None)
    AgentLoad.objects.filter(agent__email__endswith=f"@{TAG}.test").update(load=0)
    OutboxEvent.objects.all().delete()


def timed_handlers(totals: dict[str, list[float]]) -> Callable[[], None]:
    """Wrap every deferred handler to add up its CPU and statements; returns the undo."""
    from helpline.core import bus

    saved = ({k: list(v) for k, v in bus._deferred.items()},
             {k: list(v) for k, v in bus._deferred_batch.items()})

    def wrap(handler: Callable[[Any], None], label: str) -> Callable[[Any], None]:
        @functools.wraps(handler)
        def timed(arg: Any) -> None:
            counter = Statements()
            started = time.process_time()
            try:
                with connection.execute_wrapper(counter):
                    handler(arg)
            finally:
                totals[label][0] += time.process_time() - started
                totals[label][1] += counter.count
        return timed

    for table, suffix in ((bus._deferred, ""), (bus._deferred_batch, " (batch)")):
        for event_type, handlers in table.items():
            table[event_type] = [
                wrap(h, f"{event_type.__name__}: {h.__module__}.{h.__qualname__}{suffix}")
                for h in handlers
            ]

    from helpline.core import outbox

    finish = getattr(outbox, "_finish_batch", None)
    if finish is not None:  # end-of-batch work (the SLA's first clocks), when the outbox has it

        def timed_finish(finishers: dict[str, Any], errors: dict[int, str]) -> None:
            counter = Statements()
            started = time.process_time()
            try:
                with connection.execute_wrapper(counter):
                    finish(finishers, errors)
            finally:
                label = "end of batch: " + (", ".join(finishers) or "nothing")
                totals[label][0] += time.process_time() - started
                totals[label][1] += counter.count

        outbox._finish_batch = timed_finish

    def undo() -> None:
        if finish is not None:
            outbox._finish_batch = finish
        bus._deferred.clear()
        bus._deferred.update(saved[0])
        bus._deferred_batch.clear()
        bus._deferred_batch.update(saved[1])

    return undo


def run(args: argparse.Namespace, customers: list[Any]) -> None:
    from helpline.core import outbox
    from helpline.core.models import OutboxEvent
    from helpline.routing.models import TicketRouting
    from helpline.sla.models import TicketSla
    from helpline.tickets.models import Message, Ticket
    from helpline.tickets.services import message_receive, ticket_open
    from helpline.triage.models import MessageTriage

    clear_previous()
    kick = outbox.kick
    outbox.kick = lambda: None  # type: ignore[assignment]  # leave the events in the outbox
    tickets = []
    try:
        with counting() as statements:
            started = time.process_time()
            specs = [
                dict(
                    customer=customers[i % len(customers)],
                    channel="api" if i % 3 == 0 else "email",
                    subject=f"Bench ticket {i}",
                    body_text=BODIES[i % len(BODIES)],
                )
                for i in range(args.tickets)
            ]
            if args.many:
                from helpline.tickets.services import TicketOpenIn, ticket_open_many

                for at in range(0, len(specs), args.many):
                    chunk = [TicketOpenIn(**spec) for spec in specs[at:at + args.many]]
                    tickets.extend(t for t, _ in ticket_open_many(items=chunk))
            else:
                tickets.extend(ticket_open(**spec) for spec in specs)
            open_cpu = time.process_time() - started
        follow = tickets[: int(len(tickets) * args.followups)]
        with counting() as follow_statements:
            started = time.process_time()
            for i, ticket in enumerate(follow):
                message_receive(ticket=ticket, body_text=BODIES[(i + 3) % len(BODIES)],
                                author_customer=ticket.customer)
            follow_cpu = time.process_time() - started
    finally:
        outbox.kick = kick  # type: ignore[assignment]
    events = OutboxEvent.objects.count()
    n = len(tickets)
    print(f"opened {n} tickets: {open_cpu / n * 1000:.2f} ms CPU, "
          f"{statements.count / n:.1f} statements per ticket (the request's work, inline "
          f"masking included)")
    if follow:
        print(f"{len(follow)} follow-up messages: {follow_cpu / len(follow) * 1000:.2f} ms CPU, "
              f"{follow_statements.count / len(follow):.1f} statements each")
    print(f"outbox: {events} events")

    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    undo = timed_handlers(totals)
    try:
        with counting() as drain_statements:
            wall = time.perf_counter()
            started = time.process_time()
            if args.profile:
                import cProfile
                import pstats

                profile = cProfile.Profile(time.process_time)
                delivered = profile.runcall(outbox.outbox_drain, budget=600)
            else:
                delivered = outbox.outbox_drain(budget=600)
            cpu = time.process_time() - started
            wall = time.perf_counter() - wall
    finally:
        undo()
    ids = [t.pk for t in tickets]
    left = OutboxEvent.objects.count()
    print(f"drained {delivered} events in {wall:.2f} s wall, {cpu:.2f} s CPU; left {left}")
    print(f"  per ticket: {cpu / n * 1000:.2f} ms CPU, {drain_statements.count / n:.1f} "
          f"statements; per event {cpu / max(delivered, 1) * 1000:.2f} ms")
    for label, (seconds, count) in sorted(totals.items(), key=lambda kv: -kv[1][0]):
        print(f"  {label:<75} {seconds / n * 1000:6.2f} ms {count / n:6.1f} stmts per ticket")
    handled = sum(v[0] for v in totals.values())
    print(f"  outbox itself (claim, rebuild, delete): {(cpu - handled) / n * 1000:.2f} ms "
          f"per ticket")
    if args.profile:
        stats = pstats.Stats(profile).sort_stats(args.profile)
        stats.print_stats(*([args.profile_match] if args.profile_match else []), 40)
        if args.profile_callees:
            stats.print_callees(args.profile_callees)
    routed = TicketRouting.objects.filter(ticket_id__in=ids, routed_at__isnull=False).count()
    assigned = Ticket.objects.filter(pk__in=ids, assignee__isnull=False).count()
    clocks = TicketSla.objects.filter(ticket_id__in=ids).count()
    triaged = MessageTriage.objects.filter(ticket_id__in=ids).count()
    masked = Message.objects.filter(ticket_id__in=ids, body_text__contains="4111 1111").count()
    print(f"  results: routed {routed}/{n}, assigned {assigned}, SLA rows {clocks}, "
          f"messages triaged {triaged}, card numbers left readable {masked}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--followups", type=float, default=0.0,
                        help="share of the tickets that get a second customer message")
    parser.add_argument("--many", type=int, default=0,
                        help="open the tickets with ticket_open_many, this many per call "
                             "(default: ticket_open, one at a time)")
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--customers", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", choices=["tottime", "cumulative"],
                        help="cProfile the drain (slower; for finding where the time goes)")
    parser.add_argument("--profile-match", help="only the profile lines matching this regex")
    parser.add_argument("--profile-callees", help="also what the functions matching this call")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"commit {git_revision()}; {machine()}; {connection.vendor}")
    customers, _ = desk(args.agents, args.customers)
    for i in range(args.repeat):
        print(f"--- run {i + 1}/{args.repeat} (load average {os.getloadavg()[0]:.2f})")
        run(args, customers)


if __name__ == "__main__":
    main()
