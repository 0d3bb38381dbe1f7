"""Routing at scale: the assignment step and the waiting queue, on PostgreSQL.

    HELPLINE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_routing \\
        .venv/bin/python bench/routing_bench.py --tickets 1000000 --open 100000 \\
        --agents 200 --queued 10000 --workers 2

What it does (figures are printed, never asserted):

1. Seeds ``--tickets`` tickets with ``helpline manage seed`` if the database has fewer, then
   shapes them: exactly ``--open`` tickets new/open, ``--queued`` of them unassigned and the
   rest held by the seed's staff; ``--agents`` bench agents (offline) in the seed's 3 teams,
   one team per strategy (least-loaded, round-robin, skills-match).
2. Backfills routing rows for the open tickets (``routing_backfill``).
3. The tick (idle sweep + drift repair + drain) with nobody online: time per run and per open
   ticket. This is the periodic cost at this size.
4. The waiting queue: the bench agents come online and ``--workers`` processes drain the queue
   at once; time in all and per ticket assigned; then the invariants are checked (each ticket
   assigned once, loads equal to held tickets, nobody over capacity).
5. The arrival path: ``--arrivals`` tickets opened through ``ticket_open`` while agents have
   seats; the routing step (rules, team, queue, claim, timeline) timed per ticket.
6. The tick again with agents online and the queue empty.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.config.settings")
os.environ.setdefault(
    "HELPLINE_DATA_DIR", str(Path(tempfile.gettempdir()) / "hl-routing-bench")
)


def setup() -> None:
    import django

    django.setup()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return (
        f"{platform.machine()}, {os.cpu_count()} cores (shared), Python "
        f"{platform.python_version()}, PostgreSQL {version}"
    )


def seed_and_shape(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from helpline.tickets.models import Ticket

    have = Ticket.objects.count()
    if have < args.tickets:
        print(f"seeding {args.tickets - have:,} tickets (helpline manage seed)…", flush=True)
        call_command("seed", tickets=args.tickets - have, messages_per_ticket=1, skip_checks=True)
    with connection.cursor() as cursor:
        # Exactly --open tickets in new/open (the statuses that wait or take capacity).
        cursor.execute("SELECT count(*) FROM tickets_ticket WHERE status IN ('new', 'open')")
        open_now = cursor.fetchone()[0]
        if open_now < args.open:
            cursor.execute(
                """UPDATE tickets_ticket SET status = 'open', solved_at = NULL, closed_at = NULL
                   WHERE id IN (SELECT id FROM tickets_ticket
                                WHERE status NOT IN ('new', 'open') ORDER BY id DESC LIMIT %s)""",
                [args.open - open_now],
            )
        elif open_now > args.open:
            cursor.execute(
                """UPDATE tickets_ticket SET status = 'solved', solved_at = updated_at
                   WHERE id IN (SELECT id FROM tickets_ticket
                                WHERE status IN ('new', 'open') ORDER BY id LIMIT %s)""",
                [open_now - args.open],
            )
        # The oldest --queued open tickets wait unassigned; every other open one is held by
        # the seed's staff (who stay offline), so the bench agents start empty.
        cursor.execute(
            """SELECT id FROM accounts_user WHERE email NOT LIKE 'bench-%%' AND is_active
               ORDER BY id"""
        )
        staff = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            """WITH open AS (
                 SELECT id, row_number() OVER (ORDER BY created_at, id) AS n
                 FROM tickets_ticket WHERE status IN ('new', 'open'))
               UPDATE tickets_ticket t
               SET assignee_id = CASE WHEN open.n <= %s THEN NULL
                                      ELSE (%s::bigint[])[1 + (open.n %% %s)] END,
                   team_id = COALESCE(t.team_id,
                       (SELECT id FROM accounts_team ORDER BY id LIMIT 1))
               FROM open WHERE t.id = open.id""",
            [args.queued, staff, len(staff)],
        )
        cursor.execute("ANALYZE tickets_ticket")


def make_agents(args: argparse.Namespace) -> list[int]:
    from helpline.accounts.models import Team, User
    from helpline.customers.choices import Channel
    from helpline.routing import services
    from helpline.routing.choices import Presence, Strategy
    from helpline.routing.models import AgentLoad, AgentProfile, TeamProfile

    teams = list(Team.objects.order_by("id")[:3])
    strategies = [Strategy.LEAST_LOADED, Strategy.ROUND_ROBIN, Strategy.SKILLS_MATCH]
    for team, strategy in zip(teams, strategies, strict=False):
        TeamProfile.objects.update_or_create(team=team, defaults={"strategy": strategy})
    existing = {u.email: u for u in User.objects.filter(email__startswith="bench-")}
    new = [
        User(email=f"bench-{i}@bench.test", name=f"Bench agent {i}")
        for i in range(args.agents)
        if f"bench-{i}@bench.test" not in existing
    ]
    for user in new:
        user.set_unusable_password()
    User.objects.bulk_create(new)
    agents = list(User.objects.filter(email__startswith="bench-").order_by("id")[: args.agents])
    for i, agent in enumerate(agents):
        agent.teams.set([teams[i % len(teams)]])
        services.agent_profile_ensure(agent=agent)
    ids = [a.pk for a in agents]
    AgentProfile.objects.filter(pk__in=ids).update(presence=Presence.OFFLINE)
    AgentLoad.objects.filter(agent_id__in=ids).update(capacity=args.capacity)
    AgentLoad.objects.filter(agent_id__in=ids, channel=Channel.CHAT).update(
        capacity=max(3, args.capacity // 10)
    )
    return ids


def drain_worker(_: int) -> int:
    from django import db

    db.connections.close_all()
    from helpline.routing.services import queue_drain

    count = queue_drain()
    db.connections.close_all()
    return count


def check_invariants(agent_ids: list[int], since: datetime) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM (SELECT ticket_id FROM tickets_ticketevent
               WHERE kind = 'assignee' AND created_at >= %s
               GROUP BY ticket_id HAVING count(*) > 1) d""",
            [since],
        )
        doubles = cursor.fetchone()[0]
        cursor.execute(
            """SELECT count(*) FROM routing_agentload l
               WHERE l.load <> (SELECT count(*) FROM tickets_ticket t
                                WHERE t.assignee_id = l.agent_id AND t.channel = l.channel
                                AND t.status IN ('new', 'open'))"""
        )
        drift = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM routing_agentload WHERE agent_id = ANY(%s) AND load > capacity",
            [agent_ids],
        )
        over = cursor.fetchone()[0]
    return (
        f"tickets assigned twice: {doubles}; counters off: {drift}; "
        f"bench agents over capacity: {over}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--capacity", type=int, default=60, help="per channel (chat: /10)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--arrivals", type=int, default=300)
    parser.add_argument("--ticks", type=int, default=5)
    args = parser.parse_args()
    setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("routing_bench: set HELPLINE_DATABASE_URL to a PostgreSQL database", file=sys.stderr)
        return 2
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)
    from helpline.customers.models import Customer
    from helpline.routing import services
    from helpline.routing.choices import Presence
    from helpline.routing.models import AgentProfile, TicketRouting
    from helpline.tickets.models import Ticket
    from helpline.tickets.services import ticket_open

    print(f"machine: {machine()}")
    seed_and_shape(args)
    agent_ids = make_agents(args)
    total = Ticket.objects.count()
    open_count = Ticket.objects.filter(status__in=["new", "open"]).count()
    print(
        f"data: {total:,} tickets, {open_count:,} new/open, {args.queued:,} of them waiting, "
        f"{len(agent_ids)} bench agents (capacity {args.capacity}/channel, chat "
        f"{max(3, args.capacity // 10)})"
    )

    TicketRouting.objects.all().delete()
    seconds, (created, recounted) = timed(services.routing_backfill)
    print(f"backfill: {created:,} routing rows, {recounted} agents recounted in {seconds:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE routing_ticketrouting")

    runs = [timed(services.routing_tick)[0] for _ in range(args.ticks)]
    print(
        f"tick, nobody online ({open_count:,} open): median {statistics.median(runs) * 1000:.0f}"
        f" ms per run, {statistics.median(runs) / open_count * 1e6:.2f} µs per open ticket"
    )

    from helpline.core import clock

    since = clock.now()
    waiting = TicketRouting.objects.filter(waiting=True).count()
    AgentProfile.objects.filter(pk__in=agent_ids).update(presence=Presence.ONLINE)
    connection.close()
    started = time.perf_counter()
    if args.workers > 1:
        with multiprocessing.get_context("fork").Pool(args.workers) as pool:
            counts = pool.map(drain_worker, range(args.workers))
    else:
        counts = [services.queue_drain()]
    seconds = time.perf_counter() - started
    assigned = sum(counts)
    print(
        f"waiting queue: {assigned:,} of {waiting:,} queued tickets assigned to "
        f"{len(agent_ids)} agents by {args.workers} worker(s) {counts} in {seconds:.1f} s = "
        f"{seconds / max(assigned, 1) * 1000:.2f} ms per ticket "
        f"({assigned / seconds:.0f} tickets/s)"
    )
    print(f"invariants: {check_invariants(agent_ids, since)}")

    # The arrival path: open tickets through the real service and time routing's share.
    route_times: list[float] = []
    real_route = services.tickets_route  # the outbox's batch handler (one ticket per batch here)

    def timed_route(*, ticket_ids: Any) -> Any:
        started = time.perf_counter()
        try:
            return real_route(ticket_ids=ticket_ids)
        finally:
            route_times.append((time.perf_counter() - started) / max(len(ticket_ids), 1))

    services.tickets_route = timed_route
    customers = list(Customer.objects.order_by("-id").values_list("pk", flat=True)[:50])
    open_times = []
    for i in range(args.arrivals):
        customer = Customer.objects.get(pk=customers[i % len(customers)])
        started = time.perf_counter()
        ticket_open(
            customer=customer, channel="email", subject=f"Bench arrival {i}",
            body_text="My order has not arrived yet.",
        )
        open_times.append(time.perf_counter() - started)
    services.tickets_route = real_route
    route_ms = sorted(t * 1000 for t in route_times)
    print(
        f"arrival ({args.arrivals} tickets via ticket_open at {total:,} tickets): routing step "
        f"median {statistics.median(route_ms):.1f} ms, p95 "
        f"{route_ms[int(len(route_ms) * 0.95) - 1]:.1f} ms per ticket; whole ticket_open "
        f"median {statistics.median(open_times) * 1000:.1f} ms"
    )

    runs = [timed(services.routing_tick)[0] for _ in range(args.ticks)]
    print(
        f"tick, {len(agent_ids)} online, queue drained: median "
        f"{statistics.median(runs) * 1000:.0f} ms per run, "
        f"{statistics.median(runs) / open_count * 1e6:.2f} µs per open ticket"
    )
    print(f"invariants: {check_invariants(agent_ids, since)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
