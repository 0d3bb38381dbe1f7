"""The agent UI's pages measured whole, server side: middleware, session, view, queries,
templates, and every panel the page loads afterwards with htmx (``hx-trigger="load"``).

Signed in as the busiest agent, a supervisor and an agent restricted to one team, it GETs the
inbox views (the default priority queue, "mine", "all open", "unassigned", page 2 through the
keyset cursor), the ticket page of random tickets and of a 40-message conversation, and the
customer page; it prints p50/p95/p99 wall time, this process's CPU per page, the queries each
page runs, and the same for the panels fetched after the page. Not a test: nothing is asserted.

    HELPLINE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench \
    HELPLINE_DATA_DIR=/tmp/hl-bench .venv/bin/python bench/web_pages.py --repeat 200

Default: in-process through Django's test client (no sockets; queries and CPU are exact).
``--server``: the same pages through a real uvicorn process on 127.0.0.1 (HTTP, ASGI); CPU is
then the server process's, read from /proc, and queries are not counted.

Writes: the two bench staff rows (bench-supervisor@, bench-restricted@bench.helpline.test) if
missing, and one session row per user, deleted at the end. The 40-message conversation (with
triage results) and the SLA clocks of every open ticket are added inside transactions that are
rolled back (in-process only): nothing of them is committed, but the SLA run leaves ~40,000 dead
rows in sla_ticketsla, which it VACUUMs (and ANALYZEs) after the rollback. ``--only
TEXT`` runs the pages whose label has TEXT ("long" and "clocks" select those two; "clocks" runs
the queue with few clocks and with clocks on every open ticket); ``--profile
cumulative|tottime`` prints cProfile.
"""

from __future__ import annotations

import argparse
import html
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from _foundation import bench_staff, database, git_revision, machine, percentile, setup_django

LOAD_PANEL = re.compile(r"<[^>]*hx-trigger=\"load\"[^>]*>")
HX_GET = re.compile(r"hx-get=\"([^\"]+)\"")
NEXT_LINK = re.compile(r"href=\"\?([^\"]+)\" rel=\"next\"")


@dataclass
class Sample:
    wall: float
    cpu: float
    queries: int
    size: int


@dataclass
class Stats:
    page: list[Sample] = field(default_factory=list)
    panels: list[list[Sample]] = field(default_factory=list)  # per page view, its panels


class Fetcher:
    """GET a path as a signed-in user; returns (status, body, Sample)."""

    def get(self, path: str, *, htmx: bool = False) -> tuple[int, str, Sample]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class InProcess(Fetcher):
    def __init__(self, session_key: str) -> None:
        from django.conf import settings
        from django.db import connection
        from django.test import Client

        self.client = Client()
        self.client.cookies[settings.SESSION_COOKIE_NAME] = session_key
        self.connection = connection
        self.calls = 0

    def _count(self, execute: Callable[..., Any], sql: str, params: Any, many: bool,
               context: Any) -> Any:
        self.calls += 1
        return execute(sql, params, many, context)

    def get(self, path: str, *, htmx: bool = False) -> tuple[int, str, Sample]:
        headers = {"HX-Request": "true"} if htmx else {}
        self.calls = 0
        with self.connection.execute_wrapper(self._count):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = self.client.get(path, headers=headers)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
        body = response.content.decode()
        return response.status_code, body, Sample(wall, cpu, self.calls, len(body))


class OverHttp(Fetcher):
    """Keep-alive HTTP/1.1 to a uvicorn process; CPU is that process's, from /proc."""

    def __init__(self, port: int, session_key: str, server_pid: int) -> None:
        from django.conf import settings

        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
        self.stat = Path(f"/proc/{server_pid}/stat")
        self.tick = os.sysconf("SC_CLK_TCK")

    def _cpu(self) -> float:
        fields = self.stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime

    def get(self, path: str, *, htmx: bool = False) -> tuple[int, str, Sample]:
        headers = {"Cookie": self.cookie, "Host": "127.0.0.1"}
        if htmx:
            headers["HX-Request"] = "true"
        cpu_started = self._cpu()
        started = time.perf_counter()
        try:
            self.conn.request("GET", path, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            # The server dropped an idle keep-alive connection: once more on a new one.
            self.conn.close()
            cpu_started = self._cpu()
            started = time.perf_counter()
            self.conn.request("GET", path, headers=headers)
            response = self.conn.getresponse()
        body = response.read().decode()
        wall = time.perf_counter() - started
        return response.status, body, Sample(wall, self._cpu() - cpu_started, -1, len(body))

    def close(self) -> None:
        self.conn.close()


def panels_of(body: str) -> list[str]:
    """The URLs a browser fetches right after this page (htmx ``hx-trigger="load"``)."""
    urls = []
    for tag in LOAD_PANEL.findall(body):
        found = HX_GET.search(tag)
        if found:
            urls.append(html.unescape(found.group(1)))
    return urls


PROFILE: list[Any] = []  # a cProfile.Profile while --profile is on


def measure(fetcher: Fetcher, paths: Callable[[], str], *, repeat: int, warmup: int) -> Stats:
    stats = Stats()
    for i in range(warmup + repeat):
        if i == warmup and PROFILE:
            PROFILE[0].enable()
        path = paths()
        status, body, sample = fetcher.get(path)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        panels = []
        for url in panels_of(body):
            p_status, _, p_sample = fetcher.get(url, htmx=True)
            if p_status != 200:
                raise SystemExit(f"GET {url} (panel of {path}) answered {p_status}")
            panels.append(p_sample)
        if i >= warmup:
            stats.page.append(sample)
            stats.panels.append(panels)
    if PROFILE:
        import pstats

        PROFILE[0].disable()
        pstats.Stats(PROFILE[0]).sort_stats(PROFILE[1]).print_stats(PROFILE[2])
        PROFILE[0].clear()
    return stats


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:6.1f}"


def report(label: str, stats: Stats) -> None:
    page = stats.page
    wall = [s.wall for s in page]
    cpu = [s.cpu for s in page]
    queries = sorted({s.queries for s in page})
    q_text = "/".join(str(q) for q in queries) if queries != [-1] else "-"
    size = sum(s.size for s in page) / len(page) / 1024
    if queries == [-1]:  # the server's CPU, read from /proc in clock ticks: only the mean holds
        cpu_text = f"CPU mean {sum(cpu) / len(cpu) * 1000:5.1f} ms"
    else:
        cpu_text = (f"CPU min {min(cpu) * 1000:5.1f}  p50 {ms(cpu, 50)}  "
                    f"p95 {ms(cpu, 95)} ms")
    print(f"{label}\n    page    n={len(page)}  wall p50 {ms(wall, 50)}  p95 {ms(wall, 95)}  "
          f"p99 {ms(wall, 99)} ms   {cpu_text}   queries {q_text}   {size:.0f} KB")
    counts = [len(p) for p in stats.panels]
    if any(counts):
        p_wall = [sum(s.wall for s in p) for p in stats.panels]
        p_cpu = [sum(s.cpu for s in p) for p in stats.panels]
        p_queries = sorted({sum(s.queries for s in p) for p in stats.panels})
        each = [s.wall for p in stats.panels for s in p]
        total = [w + pw for w, pw in zip(wall, p_wall, strict=True)]
        print(f"    panels {min(counts)}-{max(counts)} per page, each wall p50 {ms(each, 50)} "
              f"p95 {ms(each, 95)} ms; all of one page: wall p50 {ms(p_wall, 50)} "
              f"p95 {ms(p_wall, 95)} ms, CPU p50 {ms(p_cpu, 50)} "
              f"(mean {sum(p_cpu) / len(p_cpu) * 1000:.1f}) ms, "
              f"queries {'/'.join(str(q) for q in p_queries)}")
        print(f"    page + its panels, one after another: p50 {ms(total, 50)}  "
              f"p95 {ms(total, 95)}  p99 {ms(total, 99)} ms")
    else:
        print("    panels none")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("uvicorn")), "helpline.config.asgi:application",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
         "--timeout-keep-alive", "120"],
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.3)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("uvicorn did not start within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed GETs per page")
    parser.add_argument("--warmup", type=int, default=10, help="untimed GETs per page first")
    parser.add_argument("--server", action="store_true", help="through uvicorn on 127.0.0.1")
    parser.add_argument("--long-messages", type=int, default=40)
    parser.add_argument("--few-clocks", type=int, default=2000,
                        help="running clocks in the 'few clocks' queue case")
    parser.add_argument("--only", default="", help="run only pages whose label has this text")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=("cumulative", "tottime"),
                        help="cProfile the timed GETs of each page (in-process; slows them) "
                        "and print the top functions in this order")
    parser.add_argument("--profile-lines", type=int, default=40)
    args = parser.parse_args()
    setup_django()
    if args.profile:
        import cProfile

        PROFILE.extend([cProfile.Profile(), args.profile, args.profile_lines])

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.db.models import Count, Max, Min

    from helpline.accounts.models import User
    from helpline.core import clock
    from helpline.customers.models import Customer
    from helpline.tickets.choices import ACTIVE_STATUSES, Direction, EventKind
    from helpline.tickets.models import Message, Ticket, TicketEvent

    rng = random.Random(args.seed)
    print(f"Helpline whole-page benchmark @ {git_revision()}  "
          f"({'uvicorn over HTTP' if args.server else 'in-process, Django test client'})")
    print(f"machine:  {machine()}")
    print(f"database: {database()}")
    from django.template import engines

    loaders = [type(loader).__module__ for loader in engines["django"].engine.template_loaders]
    print(f"settings: DEBUG={settings.DEBUG}, HELPLINE_ENV={settings.HELPLINE_ENV}, template "
          f"loaders={loaders}, "
          f"CONN_MAX_AGE={settings.DATABASES['default'].get('CONN_MAX_AGE')}, "
          f"pool={settings.DATABASES['default'].get('OPTIONS', {}).get('pool')}")

    from django.db import connection as db

    if db.vendor == "postgresql":
        # Pages read tables other benchmarks fill after the seed (triage, SLA, routing): with
        # autovacuum off nothing analyzes them, and their plans are built on empty statistics.
        with db.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            autovacuum = cursor.fetchone()[0]
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE n_mod_since_analyze > 1000 "
                "AND n_mod_since_analyze > n_live_tup / 10 ORDER BY relname"
            )
            stale = [row[0] for row in cursor.fetchall()]
        print(f"stats:    autovacuum={autovacuum}; tables changed by >10% since their last "
              f"ANALYZE: {', '.join(stale) or 'none'}")

    people = bench_staff()
    supervisor, restricted, billing = people["supervisor"], people["restricted"], people["billing"]
    agent = people["agent"]
    print(f"users:    agent {agent.email} ({people['agent_open']:,} open assigned), supervisor "
          f"{supervisor.email}, restricted {restricted.email} (team {billing.name})")

    sessions: list[str] = []

    def session_for(user: User) -> str:
        # Built by hand rather than through login(): login() writes last_login to the user row.
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        assert store.session_key is not None
        sessions.append(store.session_key)
        return store.session_key

    server = None
    if args.server:
        port = free_port()
        server = start_server(port)

        def fetcher(user: User) -> Fetcher:
            assert server is not None
            return OverHttp(port, session_for(user), server.pid)
    else:

        def fetcher(user: User) -> Fetcher:
            return InProcess(session_for(user))

    as_agent, as_supervisor = fetcher(agent), fetcher(supervisor)
    as_restricted = fetcher(restricted)

    def second_page(f: Fetcher, first: str) -> str:
        _, body, _ = f.get(first)
        found = NEXT_LINK.search(body)
        if not found:
            raise SystemExit(f"{first} has no next page")
        return "/?" + html.unescape(found.group(1))

    bounds = Ticket.objects.aggregate(lo=Min("id"), hi=Max("id"))

    def random_ticket() -> str:
        return f"/tickets/{rng.randint(bounds['lo'], bounds['hi'])}/"

    team_ids = list(
        Ticket.objects.filter(team=billing, id__gte=rng.randint(bounds["lo"], bounds["hi"] // 2))
        .values_list("id", flat=True)[:5000]
    )

    def random_team_ticket() -> str:
        return f"/tickets/{rng.choice(team_ids)}/"

    c_bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
    customer_ids = list(
        Customer.objects.filter(
            merged_into__isnull=True,
            id__in=[rng.randint(c_bounds["lo"], c_bounds["hi"]) for _ in range(3000)],
        ).values_list("id", flat=True)
    )

    def random_customer() -> str:
        return f"/customers/{rng.choice(customer_ids)}/"

    top_customer = (
        Ticket.objects.values("customer").annotate(n=Count("id")).order_by("-n").first()
    )
    assert top_customer is not None
    messages_seen = Message.objects.filter(
        ticket_id__in=[rng.randint(bounds["lo"], bounds["hi"]) for _ in range(2000)]
    ).values("ticket").annotate(n=Count("id")).aggregate(m=Max("n"))

    def fixed(path: str) -> Callable[[], str]:
        return lambda: path

    pages: list[tuple[str, Fetcher, Callable[[], str]]] = [
        ("inbox default (priority queue), supervisor   GET /", as_supervisor, fixed("/")),
        ("inbox default (priority queue), agent", as_agent, fixed("/")),
        ("inbox default (priority queue), restricted agent", as_restricted, fixed("/")),
        ("inbox 'mine', agent", as_agent, fixed("/?view=mine")),
        ("inbox 'mine' page 2 (keyset cursor), agent", as_agent,
         fixed(second_page(as_agent, "/?view=mine"))),
        ("inbox 'all open', supervisor", as_supervisor, fixed("/?view=open")),
        ("inbox 'all open' page 2 (keyset cursor), supervisor", as_supervisor,
         fixed(second_page(as_supervisor, "/?view=open"))),
        ("inbox 'all open', restricted agent", as_restricted, fixed("/?view=open")),
        ("inbox 'unassigned', supervisor", as_supervisor, fixed("/?view=unassigned")),
        ("inbox 'unassigned', restricted agent", as_restricted, fixed("/?view=unassigned")),
        ("ticket page, random ticket of 1..N, agent", as_agent, random_ticket),
        ("ticket page, random Billing ticket, restricted agent", as_restricted,
         random_team_ticket),
        ("customer page, random customer, supervisor", as_supervisor, random_customer),
        (f"customer page, customer with the most tickets ({top_customer['n']:,}), supervisor",
         as_supervisor, fixed(f"/customers/{top_customer['customer']}/")),
    ]
    print(f"data:     random tickets have 1-{messages_seen['m']} messages; repeat {args.repeat} "
          f"after {args.warmup} warm-up GETs per page\n")
    print("wall = the server-side response time; CPU = Python CPU of the serving process; "
          "panels = the\nhx-trigger=\"load\" fragments the browser fetches right after the page "
          "(their own requests).\n")

    try:
        for label, f, path in pages:
            if args.only and args.only not in label:
                continue
            report(label, measure(f, path, repeat=args.repeat, warmup=args.warmup))
            print(f"    load average {os.getloadavg()[0]:.2f}", flush=True)

        if not args.server and (not args.only or "long" in args.only):
            # A long conversation, added and measured inside one transaction that is rolled back.
            ticket = Ticket.objects.filter(status="closed").order_by("id").first()
            assert ticket is not None
            bodies = list(
                Message.objects.filter(ticket_id__gte=ticket.pk)
                .values_list("body_text", flat=True)[:60]
            )
            with transaction.atomic():
                start = clock.now() - timedelta(days=20)
                cycle = [Direction.INBOUND, Direction.OUTBOUND, Direction.INBOUND,
                         Direction.OUTBOUND, Direction.NOTE]
                added = Message.objects.bulk_create(
                    Message(
                        ticket=ticket, direction=cycle[i % len(cycle)], channel=ticket.channel,
                        author_user=None if cycle[i % len(cycle)] == Direction.INBOUND else agent,
                        author_customer_id=ticket.customer_id
                        if cycle[i % len(cycle)] == Direction.INBOUND else None,
                        body_text=bodies[i % len(bodies)],
                        created_at=start + timedelta(hours=i),
                    )
                    for i in range(args.long_messages)
                )
                TicketEvent.objects.bulk_create(
                    TicketEvent(ticket=ticket, actor=m.author_user, kind=EventKind.MESSAGE,
                                data={"direction": m.direction}, created_at=m.created_at)
                    for m in added
                )
                # Triage results on every customer message and on the ticket, as the triage
                # app writes them, so the badges and the panel render with their contents.
                from helpline.triage.models import MessageTriage, TicketTriage

                now = clock.now()
                reasons = {"intent": {"confidence": 0.81, "because": ["refund", "order"]},
                           "sentiment": {"because": ["still waiting"]},
                           "urgency": {"because": ["third message"]}}
                MessageTriage.objects.bulk_create(
                    MessageTriage(
                        message=m, ticket=ticket, language="en", intent="refund_request",
                        intent_confidence=0.81, sentiment="negative", sentiment_score=-0.4,
                        frustration=0.5, urgency="high", reasons=reasons, created_at=now,
                        updated_at=now,
                    )
                    for m in added if m.direction == Direction.INBOUND
                )
                TicketTriage.objects.update_or_create(
                    ticket=ticket,
                    defaults={"intent": "refund_request", "language": "en",
                              "sentiment": "negative", "sentiment_score": -0.4,
                              "sentiment_trend": -0.2, "urgency": "high",
                              "suggested_priority": "high", "message_count": 18,
                              "updated_at": now},
                )
                total = Message.objects.filter(ticket=ticket).count()
                report(f"ticket page, long conversation ({total} messages, triaged), supervisor",
                       measure(as_supervisor, fixed(f"/tickets/{ticket.pk}/"),
                               repeat=args.repeat, warmup=args.warmup))
                print(f"    load average {os.getloadavg()[0]:.2f}", flush=True)
                transaction.set_rollback(True)

        if not args.server and (not args.only or "clocks" in args.only):
            # The seed writes no SLA rows, so the priority queue above ranks every open ticket
            # by priority and age. Here the open tickets get clocks as the SLA app would keep
            # them, inside transactions that are rolled back: first a few running clocks, none
            # on a ticket the restricted agent may see (an install whose SLAs are new, or
            # tickets created through the API without a team: the case the clock windows
            # cannot settle), then clocks on every open ticket (running: due between 2 h ago
            # and 2 days ahead; pending/on hold: paused). The clocks' statistics are taken
            # inside each transaction (ANALYZE), as autovacuum would on a live install, and
            # again after the rollback.
            from django.db import connection

            from helpline.sla.models import TicketSla

            def analyze_clocks(vacuum: bool = False) -> None:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"{'VACUUM (ANALYZE)' if vacuum else 'ANALYZE'} {TicketSla._meta.db_table}"
                    )

            viewers = (("supervisor", as_supervisor), ("agent", as_agent),
                       ("restricted agent", as_restricted))
            with transaction.atomic():
                now = clock.now()
                hidden = (
                    Ticket.objects.filter(status__in=ACTIVE_STATUSES, sla__isnull=True)
                    .exclude(team=billing).exclude(assignee=restricted)
                    .order_by("-id").values_list("id", "team_id")[: args.few_clocks]
                )
                rows = [  # the ticket's team copied onto its clock, as the SLA app writes it
                    TicketSla(ticket_id=pk, team_id=team_id, computed_at=now,
                              next_due_at=now + timedelta(minutes=rng.randint(-120, 2880)))
                    for pk, team_id in hidden
                ]
                TicketSla.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
                analyze_clocks()
                for label, f in viewers:
                    report(f"inbox default (priority queue), {label}, with few clocks: "
                           f"{len(rows):,} running, none on Billing tickets",
                           measure(f, fixed("/"), repeat=args.repeat, warmup=args.warmup))
                    print(f"    load average {os.getloadavg()[0]:.2f}", flush=True)
                transaction.set_rollback(True)
            with transaction.atomic():
                now = clock.now()
                active = Ticket.objects.filter(
                    status__in=ACTIVE_STATUSES, sla__isnull=True
                ).values_list(
                    "id", "status", "team_id"
                )
                rows = [
                    TicketSla(
                        ticket_id=pk,
                        team_id=team_id,
                        paused=status in ("pending", "on_hold"),
                        next_due_at=None if status in ("pending", "on_hold")
                        else now + timedelta(minutes=rng.randint(-120, 2880)),
                        computed_at=now,
                    )
                    for pk, status, team_id in active.iterator(chunk_size=5000)
                ]
                TicketSla.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
                analyze_clocks()
                running = sum(1 for r in rows if r.next_due_at)
                for label, f in viewers:
                    report(f"inbox default (priority queue), {label}, with SLA clocks on "
                           f"{len(rows):,} open tickets ({running:,} running)",
                           measure(f, fixed("/"), repeat=args.repeat, warmup=args.warmup))
                    print(f"    load average {os.getloadavg()[0]:.2f}", flush=True)
                transaction.set_rollback(True)
            # The rolled-back rows are dead; with autovacuum off (as on hl_bench) nothing else
            # would make their space reusable, and each run would grow the table by ~50,000 rows.
            analyze_clocks(vacuum=True)
    finally:
        for f in (as_agent, as_supervisor, as_restricted):
            f.close()
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        Session.objects.filter(session_key__in=sessions).delete()


if __name__ == "__main__":
    main()
