"""Several workers drain the same queue at once: no ticket is assigned twice and no agent goes
over capacity. Real threads, each with its own database connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from helpline.routing import services
from helpline.routing.choices import Presence
from helpline.routing.models import AgentLoad, AgentProfile, TicketRouting
from helpline.routing.tests.factories import make_agent, make_team
from helpline.tickets.choices import EventKind
from helpline.tickets.models import Ticket, TicketEvent
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)

# The SQLite test database is in memory with a shared cache, where a second writer gets
# "table is locked" at once instead of waiting: threads there test the test set-up, not
# Helpline. SQLite is raced with real processes on a WAL file below instead.
threads_need_postgres = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="threads against in-memory SQLite: see process test"
)


def run_in_threads(n: int, target: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    """Start ``n`` threads on ``target`` behind a barrier; return their results and errors."""
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            results.append(target())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


@threads_need_postgres
def test_concurrent_drains_never_double_assign_or_overfill():
    team = make_team()
    agents = [
        make_agent(teams=[team], capacity={"email": 3}, presence=Presence.OFFLINE)
        for _ in range(5)
    ]
    tickets = [make_ticket(team=team) for _ in range(40)]
    assert TicketRouting.objects.filter(waiting=True).count() == 40
    # Agents come online without the drain that agent_presence_set would trigger: the workers
    # below are the only ones handing out work.
    AgentProfile.objects.filter(user__in=agents).update(presence=Presence.ONLINE)

    results, errors = run_in_threads(6, lambda: services.queue_drain(team_ids=[team.pk]))

    assert errors == []
    assert sum(results) == 15  # 5 agents x 3 seats, whoever won each one
    assigned = Ticket.objects.filter(pk__in=[t.pk for t in tickets], assignee__isnull=False)
    assert assigned.count() == 15
    per_agent = Counter(assigned.values_list("assignee_id", flat=True))
    assert set(per_agent.values()) == {3}
    for agent in agents:
        assert AgentLoad.objects.get(agent=agent, channel="email").load == per_agent[agent.pk]
    events = Counter(
        TicketEvent.objects.filter(kind=EventKind.ASSIGNEE).values_list("ticket_id", flat=True)
    )
    assert set(events.values()) == {1}
    assert len(events) == 15
    # The oldest fifteen went first.
    assert sorted(assigned.values_list("pk", flat=True)) == [t.pk for t in tickets[:15]]
    assert TicketRouting.objects.filter(waiting=True).count() == 25


@threads_need_postgres
def test_racing_claims_on_one_ticket_have_exactly_one_winner():
    team = make_team()
    agents = [make_agent(teams=[team], presence=Presence.OFFLINE) for _ in range(4)]
    ticket = make_ticket(team=team)
    AgentProfile.objects.filter(user__in=agents).update(presence=Presence.ONLINE)
    iterator = iter(agents)
    lock = threading.Lock()

    def claim():
        with lock:
            agent = next(iterator)
        return services._claim(ticket_id=ticket.pk, channel="email", agent=agent, team_id=team.pk)

    results, errors = run_in_threads(4, claim)

    assert errors == []
    assert sorted(results) == ["ok", "taken", "taken", "taken"]
    ticket.refresh_from_db()
    loads = dict(AgentLoad.objects.filter(channel="email").values_list("agent_id", "load"))
    assert ticket.assignee_id is not None
    assert loads[ticket.assignee_id] == 1
    assert sum(loads.values()) == 1
    assert ticket.events.filter(kind=EventKind.ASSIGNEE).count() == 1


@threads_need_postgres
def test_racing_claims_for_the_last_seat_fill_it_once():
    team = make_team()
    agent = make_agent(teams=[team], capacity={"chat": 1}, presence=Presence.OFFLINE)
    tickets = [make_ticket(team=team, channel="chat") for _ in range(4)]
    AgentProfile.objects.filter(user=agent).update(presence=Presence.ONLINE)
    iterator = iter(tickets)
    lock = threading.Lock()

    def claim():
        with lock:
            ticket = next(iterator)
        return services._claim(ticket_id=ticket.pk, channel="chat", agent=agent, team_id=team.pk)

    results, errors = run_in_threads(4, claim)

    assert errors == []
    assert sorted(results) == ["full", "full", "full", "ok"]
    assert AgentLoad.objects.get(agent=agent, channel="chat").load == 1
    assert Ticket.objects.filter(assignee=agent).count() == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL is raced with threads above")
def test_processes_draining_one_sqlite_file_never_double_assign(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HELPLINE_DATABASE_URL"}
    env.update(HELPLINE_ENV="test", HELPLINE_DATA_DIR=str(tmp_path))

    def run(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", *args], env=env, check=True, capture_output=True, text=True,
            timeout=300,
        ).stdout.strip()

    run("helpline.cli", "manage", "migrate", "--skip-checks", "-v", "0")
    worker = "helpline.routing.tests.race_worker"
    team_id = run(worker, "seed", "6", "4", "60").splitlines()[-1]
    drains = [
        subprocess.Popen(
            [sys.executable, "-m", worker, "drain", team_id],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in drains]

    assert [p.returncode for p in drains] == [0, 0, 0, 0], [err[-2000:] for _, err in outputs]
    assert sum(int(out.strip().splitlines()[-1]) for out, _ in outputs) == 24
    report = json.loads(run(worker, "check").splitlines()[-1])
    assert report == {
        "assigned": 24, "per_agent": [4] * 6, "loads_match": True, "max_events_per_ticket": 1,
    }
