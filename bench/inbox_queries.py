"""Server-side timings of the agent's hot reads: inbox first pages, the ticket page, customer
lookup by email. Prints p50/p95/p99 per operation, the queries each one runs, and (with
--explain) PostgreSQL's plans. Not a test: nothing is asserted.

    HELPLINE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench \
    HELPLINE_DATA_DIR=/tmp/hl-bench .venv/bin/python bench/inbox_queries.py --repeat 300

It adds two staff rows if missing (bench-supervisor@ and bench-restricted@bench.helpline.test)
so that "all open" and a team-restricted inbox can be measured; nothing else is written.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from _foundation import (
    bench_staff,
    database,
    describe,
    git_revision,
    machine,
    percentile,
    setup_django,
)


class _DbTimer:
    """A connection.execute_wrapper that adds up the time spent in the database driver."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.calls = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool,
                 context: Any) -> Any:
        started = time.perf_counter()
        self.calls += 1
        try:
            return execute(sql, params, many, context)
        finally:
            self.spent += time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed runs per operation")
    parser.add_argument("--page", type=int, default=25, help="inbox page size")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup_django()

    from django.db import connection
    from django.db.models import Max, Min

    from helpline.accounts.models import User
    from helpline.customers.models import Identity
    from helpline.customers.selectors import customer_detail_queryset, customer_get_by_email
    from helpline.tickets.choices import ACTIVE_STATUSES
    from helpline.tickets.models import Ticket
    from helpline.tickets.permissions import access_ticket
    from helpline.tickets.selectors import (
        InboxView,
        TicketFilters,
        customer_other_tickets,
        ticket_list,
        ticket_messages,
        ticket_timeline,
    )

    rng = random.Random(args.seed)
    print(f"Helpline inbox/ticket-page benchmark @ {git_revision()}")
    print(f"machine:  {machine()}")
    print(f"database: {database()}")

    people = bench_staff()
    supervisor, restricted, agent = people["supervisor"], people["restricted"], people["agent"]
    open_total = Ticket.objects.filter(status__in=ACTIVE_STATUSES).count()
    print(
        f"inbox:    {open_total:,} open tickets; 'mine' for {agent.email} "
        f"({people['agent_open']:,} open assigned); page size {args.page}\n"
    )

    # The web inbox's querysets (the priority queue filters as "all open").
    def inbox_tickets(actor: User, view: str) -> Any:
        return ticket_list(
            actor=actor, filters=TicketFilters(view=InboxView.OPEN if view == "queue" else view)
        )

    def page(actor: User, view: str) -> Callable[[], Any]:
        def run() -> Any:
            rows = list(inbox_tickets(actor, view)[: args.page])
            for t in rows:  # what a template touches
                _ = (t.customer.name, t.assignee, t.team, list(t.tags.all()))
            return rows

        return run

    def queue(actor: User) -> Callable[[], Any]:
        """The inbox's default view: the 50 most urgent (SLA due, then priority, then age)."""
        from helpline.sla.selectors import tickets_most_urgent

        def run() -> Any:
            rows = tickets_most_urgent(
                queryset=inbox_tickets(actor, "queue").select_related("sla"),
                limit=50,
            )
            for t in rows:
                _ = (t.customer.name, t.assignee, t.team, list(t.tags.all()))
            return rows

        return run

    bounds = Ticket.objects.aggregate(lo=Min("id"), hi=Max("id"))
    ticket_ids = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(args.repeat + 20)]
    ids_iter = iter(ticket_ids)

    def ticket_page() -> Any:
        ticket_id = next(ids_iter)
        ticket = access_ticket(actor=supervisor, ticket_id=ticket_id)
        messages = list(ticket_messages(ticket=ticket))
        timeline = list(ticket_timeline(ticket=ticket))
        customer = customer_detail_queryset().get(pk=ticket.customer_id)
        panel = (list(customer.identities.all()), list(customer.orders.all()))
        others = customer_other_tickets(actor=supervisor, ticket=ticket)
        return ticket, messages, timeline, panel, others, list(ticket.tags.all())

    ident_bounds = Identity.objects.filter(kind="email").aggregate(lo=Min("id"), hi=Max("id"))
    wanted = [rng.randint(ident_bounds["lo"], ident_bounds["hi"]) for _ in range(args.repeat * 3)]
    emails = list(
        Identity.objects.filter(kind="email", id__in=wanted).values_list("value", flat=True)
    )[: args.repeat + 20]
    emails_iter = iter(emails * 2)

    def lookup() -> Any:
        customer = customer_get_by_email(email=next(emails_iter).upper())
        assert customer is not None
        return customer

    def open_count() -> int:
        return inbox_tickets(supervisor, InboxView.OPEN).count()

    def deep(actor: User, view: str, pages: int) -> Callable[[], Any]:
        """The page after ``pages`` pages, through the web inbox's own keyset paginator."""
        from helpline.web.pagination import page_by_time_and_id

        def qs() -> Any:
            return inbox_tickets(actor, view)

        cursor = None
        for _ in range(pages):
            cursor = page_by_time_and_id(
                qs(), cursor=cursor, time_field="updated_at", size=args.page
            ).next_cursor

        def run() -> Any:
            return page_by_time_and_id(qs(), cursor=cursor, time_field="updated_at",
                                       size=args.page).rows

        return run

    from django.test import Client

    browser = Client()
    browser.force_login(supervisor)
    web_ids = iter([rng.randint(bounds["lo"], bounds["hi"]) for _ in range(args.repeat + 20)])

    def web_get(path: Callable[[], str]) -> Callable[[], Any]:
        def run() -> Any:
            response = browser.get(path())
            if response.status_code != 200:
                raise SystemExit(f"GET {path()} answered {response.status_code}")
            return response

        return run

    operations: list[tuple[str, Callable[[], Any]]] = [
        ("inbox priority queue, 50 most urgent (supervisor)", queue(supervisor)),
        ("inbox priority queue, 50 most urgent (agent restricted to Billing)", queue(restricted)),
        ("inbox 'my open tickets' (busiest agent)", page(agent, InboxView.MINE)),
        ("inbox 'all open' (supervisor)", page(supervisor, InboxView.OPEN)),
        ("inbox 'unassigned' (supervisor)", page(supervisor, InboxView.UNASSIGNED)),
        ("inbox 'all open' (agent restricted to Billing)", page(restricted, InboxView.OPEN)),
        ("inbox 'all open' page 41 (web keyset cursor)", deep(supervisor, InboxView.OPEN, 40)),
        ("inbox 'unassigned' page 41 (web keyset cursor)",
         deep(supervisor, InboxView.UNASSIGNED, 40)),
        ("ticket page (random ticket of 1..N)", ticket_page),
        ("customer lookup by email", lookup),
        ("web: GET / (inbox 'all open', whole page with templates)",
         web_get(lambda: "/?view=open")),
        ("web: GET /tickets/<random id>/ (whole ticket page)",
         web_get(lambda: f"/tickets/{next(web_ids)}/")),
        ("count of 'all open' (if a view shows it)", open_count),
    ]
    timer = _DbTimer()
    print("wall = what the caller waits; db = time inside cursor.execute (SQL round trips);\n"
          "python CPU = this process's CPU per operation (ORM, model building).\n")
    for label, operation in operations:
        for _ in range(5):  # warm caches and connections
            operation()
        with connection.execute_wrapper(timer):
            timer.calls = 0
            operation()
            queries = timer.calls
        samples: list[float] = []
        db: list[float] = []
        cpu: list[float] = []
        with connection.execute_wrapper(timer):
            for _ in range(args.repeat):
                timer.spent = 0.0
                started, cpu_started = time.perf_counter(), time.process_time()
                operation()
                samples.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
                db.append(timer.spent)
        print(f"{label}\n    wall {describe(samples)}\n"
              f"    db   {describe(db)}\n    python CPU p50 {percentile(cpu, 50) * 1000:.2f} ms"
              f"  queries {queries}")

    if args.explain and connection.vendor == "postgresql":
        print()
        for label, qs in (
            ("mine", inbox_tickets(agent, InboxView.MINE)),
            ("all open", inbox_tickets(supervisor, InboxView.OPEN)),
            ("unassigned", inbox_tickets(supervisor, InboxView.UNASSIGNED)),
            ("restricted", inbox_tickets(restricted, InboxView.OPEN)),
        ):
            print(f"--- EXPLAIN ANALYZE inbox {label}")
            print(qs.prefetch_related(None)[: args.page].explain(analyze=True, buffers=True))
        sample = Ticket.objects.get(pk=ticket_ids[0])
        print("--- EXPLAIN ANALYZE customer's other tickets")
        print(
            Ticket.objects.filter(customer_id=sample.customer_id)
            .exclude(pk=sample.pk).order_by("-created_at")[:10]
            .explain(analyze=True, buffers=True)
        )
        print("--- EXPLAIN ANALYZE messages of a ticket")
        print(ticket_messages(ticket=sample).prefetch_related(None).explain(analyze=True))


if __name__ == "__main__":
    main()
