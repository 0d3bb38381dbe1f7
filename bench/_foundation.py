"""Shared helpers for the foundation benchmarks (inbox_queries.py, api_ticket_create.py).

Benchmarks print figures; they never assert. Run them from the repository root with the
project's venv and the same HELPLINE_* environment as the server under test.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.config.settings")
    import django

    django.setup()


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``samples``."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def describe(samples_seconds: Sequence[float]) -> str:
    ms = [s * 1000 for s in samples_seconds]
    return (
        f"n={len(ms):>4}  p50 {percentile(ms, 50):7.2f} ms  p95 {percentile(ms, 95):7.2f} ms  "
        f"p99 {percentile(ms, 99):7.2f} ms  max {max(ms):7.2f} ms  "
        f"mean {statistics.fmean(ms):7.2f} ms"
    )


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text(encoding="utf-8").split()[1])
    except OSError:
        mem_kb = 0
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB RAM, "
        f"Python {platform.python_version()}, load average {load[0]:.2f}"
    )


def database() -> str:
    """Vendor, version, size and row counts of the configured database."""
    from django.db import connection

    from helpline.customers.models import Customer
    from helpline.tickets.models import Message, Ticket, TicketEvent

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version(), pg_size_pretty(pg_database_size(current_database()))")
            version, size = cursor.fetchone()
            version = version.split(" on ")[0]
            cursor.execute("SHOW shared_buffers")
            buffers = cursor.fetchone()[0]
            settings = f"shared_buffers={buffers}"
        else:
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
            size = f"{Path(connection.settings_dict['NAME']).stat().st_size / 2**20:.0f} MB"
            settings = "WAL"
    counts = ", ".join(
        f"{model._meta.verbose_name_plural}: {model._default_manager.count():,}"
        for model in (Ticket, Message, TicketEvent, Customer)
    )
    return f"{version}, {size} ({settings}); {counts}"


def git_revision() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def bench_staff() -> dict[str, Any]:
    """The benchmarks' viewers, made if missing: a supervisor, an agent restricted to the
    Billing team, and the agent with the most open assigned tickets (from the seed). Returns
    {"supervisor", "restricted", "billing", "agent", "agent_open"}."""
    from django.db.models import Count

    from helpline.accounts.choices import Role
    from helpline.accounts.models import Team, User
    from helpline.accounts.services import team_create, user_create
    from helpline.tickets.choices import ACTIVE_STATUSES
    from helpline.tickets.models import Ticket

    def staff(email: str, role: str, restricted: bool = False, team: Team | None = None) -> User:
        user = User.objects.filter(email=email).first()
        return user or user_create(
            email=email, name=email.split("@")[0], password=None, role=role,
            teams=[team] if team else [], restricted_to_teams=restricted,
        )

    billing = team_create(name="Billing")
    busiest = (
        Ticket.objects.filter(status__in=ACTIVE_STATUSES, assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if busiest is None:
        raise SystemExit("No assigned open tickets: seed first (helpline manage seed --tickets N)")
    return {
        "supervisor": staff("bench-supervisor@bench.helpline.test", Role.SUPERVISOR),
        "restricted": staff("bench-restricted@bench.helpline.test", Role.AGENT, True, billing),
        "billing": billing,
        "agent": User.objects.get(pk=busiest["assignee"]),
        "agent_open": busiest["n"],
    }
