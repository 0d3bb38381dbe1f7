"""The SLA's periodic check and recompute at scale, on PostgreSQL.

    HELPLINE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_sla \\
        python bench/sla_bench.py [--open 100000] [--transitions 2000]

Expects a database filled by ``helpline manage seed --tickets 1000000`` (about 40,000 active
tickets); reopens solved tickets (status and timeline row, as a reopen writes them) until
``--open`` are active, then measures:

1. backfill: ``sla_recompute_active`` over every active ticket (derive clocks from history,
   bulk-write ``sla_ticketsla``), time per ticket;
2. the tick with nothing due (the steady state every minute): one indexed range read;
3. the tick when ``--transitions`` rows cross a warning or breach at once (each one a
   conditional update, a timeline row and notifications), time per transition;
4. a single-ticket recompute as a bus handler runs it (p50/p95 over 200 tickets).

Prints figures with data size and machine. Never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.config.settings")
os.environ.setdefault("HELPLINE_DATA_DIR", str(Path.home() / ".cache" / "hl-sla-bench"))

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Max, Min  # noqa: E402

from helpline.core import clock  # noqa: E402
from helpline.sla.models import TicketSla  # noqa: E402
from helpline.sla.services import sla_check, sla_recompute_active, ticket_sla_recompute  # noqa: E402
from helpline.tickets.choices import ACTIVE_STATUSES, EventKind, Status  # noqa: E402
from helpline.tickets.models import Ticket, TicketEvent  # noqa: E402


def reopen_until(target_open: int) -> int:
    """Reopen the most recently solved/closed tickets until ``target_open`` are active."""
    active = Ticket.objects.filter(status__in=ACTIVE_STATUSES).count()
    missing = target_open - active
    if missing <= 0:
        return active
    now = clock.now()
    ids = list(
        Ticket.objects.exclude(status__in=ACTIVE_STATUSES)
        .order_by("-updated_at")
        .values_list("pk", flat=True)[:missing]
    )
    with transaction.atomic():
        for start in range(0, len(ids), 10_000):
            chunk = ids[start : start + 10_000]
            Ticket.objects.filter(pk__in=chunk).update(
                status=Status.OPEN, solved_at=None, closed_at=None, updated_at=now
            )
            TicketEvent.objects.bulk_create(
                TicketEvent(
                    ticket_id=pk,
                    kind=EventKind.STATUS,
                    data={"from": "solved", "to": Status.OPEN},
                    created_at=now,
                )
                for pk in chunk
            )
    return Ticket.objects.filter(status__in=ACTIVE_STATUSES).count()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--transitions", type=int, default=2000)
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run against PostgreSQL (HELPLINE_DATABASE_URL)"

    total = Ticket.objects.count()
    active = reopen_until(args.open)
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores (shared), "
        f"Python {platform.python_version()}, PostgreSQL {getattr(connection, 'pg_version', '?')}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"data: {total:,} tickets, {active:,} active")

    TicketSla.objects.all().delete()
    started = time.perf_counter()
    done = sla_recompute_active(chunk_size=2000)
    backfill = time.perf_counter() - started
    rows = TicketSla.objects.count()
    print(
        f"backfill recompute: {done:,} tickets in {backfill:.1f} s "
        f"({1000 * backfill / done:.2f} ms/ticket), {rows:,} sla rows"
    )

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_ticketsla")

    # The steady state: nothing due between two ticks.
    now = clock.now()
    first_due = TicketSla.objects.filter(next_check_at__isnull=False).aggregate(
        Min("next_check_at"), Max("next_check_at")
    )
    quiet = []
    before = (
        first_due["next_check_at__min"] - timedelta(seconds=1)
        if first_due["next_check_at__min"]
        else now
    )
    # Make sure the quiet run really has nothing to do: check at a time before anything is due.
    overdue_now = TicketSla.objects.filter(next_check_at__lte=now).count()
    for _ in range(20):
        t0 = time.perf_counter()
        result = sla_check(now=min(before, now))
        quiet.append(time.perf_counter() - t0)
        assert result.rows == 0
    print(
        f"tick with nothing due: p50 {1000 * statistics.median(quiet):.2f} ms, "
        f"max {1000 * max(quiet):.2f} ms over 20 runs ({rows:,} sla rows)"
    )

    # A burst: the first N rows by next_check_at cross their thresholds at once.
    cutoff_row = (
        TicketSla.objects.filter(next_check_at__isnull=False)
        .order_by("next_check_at")
        .values_list("next_check_at", flat=True)[args.transitions - 1 : args.transitions]
    )
    cutoff = next(iter(cutoff_row), now)
    due = TicketSla.objects.filter(next_check_at__lte=cutoff).count()
    events_before = TicketEvent.objects.filter(kind__startswith="sla_").count()
    t0 = time.perf_counter()
    result = sla_check(now=cutoff)
    burst = time.perf_counter() - t0
    raised = TicketEvent.objects.filter(kind__startswith="sla_").count() - events_before
    print(
        f"tick with {due:,} rows due (the backlog already overdue at seed time: "
        f"{overdue_now:,}): {burst:.1f} s for {result.rows:,} rows, {raised:,} warnings/breaches "
        f"raised ({1000 * burst / max(result.rows, 1):.2f} ms per row)"
    )
    t0 = time.perf_counter()
    again = sla_check(now=cutoff)
    print(
        f"same tick again (idempotent): {again.rows} rows, "
        f"{1000 * (time.perf_counter() - t0):.1f} ms"
    )

    # One ticket as a bus handler recomputes it.
    ids = list(
        Ticket.objects.filter(status__in=ACTIVE_STATUSES)
        .order_by("?")
        .values_list("pk", flat=True)[:200]
    )
    single = []
    for pk in ids:
        t0 = time.perf_counter()
        ticket_sla_recompute(ticket_id=pk)
        single.append(time.perf_counter() - t0)
    single.sort()
    print(
        f"single-ticket recompute (bus handler): p50 {1000 * statistics.median(single):.1f} ms, "
        f"p95 {1000 * single[int(0.95 * len(single)) - 1]:.1f} ms over {len(single)} tickets"
    )


if __name__ == "__main__":
    main()
