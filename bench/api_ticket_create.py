"""Ticket creation through the HTTP API: POST /api/v1/tickets, sequentially (latency) and from
N concurrent clients (throughput). Load goes to 127.0.0.1 only, bounded in count and time.
Not a test: nothing is asserted.

Start the server yourself and pass --url and --token, or let the script start uvicorn:

    HELPLINE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_bench \
    HELPLINE_DATA_DIR=/tmp/hl-bench .venv/bin/python bench/api_ticket_create.py \
        --start-server --workers 2 --sequential 300 --concurrent 3000 --clients 8

With --start-server the script makes sure an agent bench-api@bench.helpline.test exists, gets a
token from `helpline token create --email ...` (the documented interface) and runs
`helpline serve --workers W` on 127.0.0.1, with its in-process worker (as a user runs it; its
threads run at nice 10) unless --no-worker. After the concurrent phase it waits until the worker
has delivered every deferred event (SLA clocks, routing, triage) and prints that end-to-end rate.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

from _foundation import database, describe, git_revision, machine, setup_django

VENV_BIN = Path(sys.executable).parent
SUBJECTS = ("Order has not arrived", "Refund question", "Cannot log in", "Broken on arrival")


class Client:
    """One keep-alive HTTP connection, as one integration would hold."""

    def __init__(self, url: str, token: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def create(self, n: int, run: str) -> tuple[int, float]:
        body = json.dumps({
            "customer": {"email": f"load-{run}-{n}@load.example.test", "name": f"Load {n}"},
            "channel": "web",
            "subject": SUBJECTS[n % len(SUBJECTS)],
            "body": f"Benchmark message {n}: the parcel for order NW-{n:07d} is late.",
        })
        started = time.perf_counter()
        try:
            self.conn.request("POST", "/api/v1/tickets", body=body, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            status = 0
        return status, time.perf_counter() - started


def get_me(client: Client) -> int:
    client.conn.request("GET", "/api/v1/me", headers=client.headers)
    response = client.conn.getresponse()
    response.read()
    return response.status


def wait_for(url: str, seconds: float = 60) -> None:
    parts = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not answer within {seconds:.0f}s")


def _cpu_ticks(pids: set[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def _process_tree(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except OSError:
                continue
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


def _last_ticket_id() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket")
        return int(cursor.fetchone()[0])


def report_groups(after_id: int) -> None:
    """How the creates since ``after_id`` were written: tickets opened by one call of
    ticket_open_many share their created_at, so distinct created_at = groups written."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT created_at) FROM tickets_ticket WHERE id > %s",
            [after_id],
        )
        tickets, groups = cursor.fetchone()
    if tickets:
        print(f"    written in {groups} transactions: {tickets / groups:.2f} tickets per group")


# The server this script starts connects with this application_name (libpq's PGAPPNAME), so
# its PostgreSQL backends are told apart from other sessions on a shared database.
SERVER_APPNAME = f"hl-bench-api-{os.getpid()}"


def _backends(only_ours: bool) -> set[int]:
    from django.db import connection

    sql = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    with connection.cursor() as cursor:
        if only_ours:
            cursor.execute(sql + " AND application_name = %s", [SERVER_APPNAME])
        else:
            cursor.execute(sql)
        return {row[0] for row in cursor.fetchall()}


class CpuMeter:
    """CPU time (not wall time) of the server's processes and its PostgreSQL backends, so the
    cost per request can be read even on a busy machine: 2 cores / cost = the ceiling."""

    def __init__(self, server_pid: int | None, *, own_backends: bool) -> None:
        self.server_pid = server_pid
        self.own_backends = own_backends
        self.hz = os.sysconf("SC_CLK_TCK")

    def sample(self) -> tuple[int, int, float]:
        server = _cpu_ticks(_process_tree(self.server_pid)) if self.server_pid else 0
        return server, _cpu_ticks(_backends(self.own_backends)), time.process_time()

    def report(self, label: str, before: tuple[int, int, float], count: int) -> None:
        if not count or not self.server_pid:
            return
        after = self.sample()
        server = (after[0] - before[0]) * 1000 / self.hz / count
        pg = (after[1] - before[1]) * 1000 / self.hz / count
        client = (after[2] - before[2]) * 1000 / count
        total = server + pg + client
        print(f"    CPU per request ({label}): server {server:.2f} ms + PostgreSQL {pg:.2f} ms + "
              f"clients {client:.2f} ms = {total:.2f} ms; ceiling on {os.cpu_count()} cores: "
              f"{(os.cpu_count() or 1) * 1000 / total:.0f} requests/s; load average "
              f"{os.getloadavg()[0]:.2f}")


def wait_for_outbox(started: float, max_seconds: float) -> float | None:
    """Seconds from ``started`` until the outbox is empty (the worker delivered every deferred
    event of the run), or None if it is not within ``max_seconds``."""
    setup_django()
    from helpline.core.outbox import outbox_pending

    deadline = time.perf_counter() + max_seconds
    while time.perf_counter() < deadline:
        if outbox_pending() == 0:
            return time.perf_counter() - started
        time.sleep(0.2)
    return None


def token_for(email: str) -> str:
    setup_django()
    from helpline.accounts.choices import Role
    from helpline.accounts.models import User
    from helpline.accounts.services import user_create

    if not User.objects.filter(email=email).exists():
        user_create(email=email, name="API bench", password=None, role=Role.AGENT)
    result = subprocess.run(
        [str(VENV_BIN / "helpline"), "token", "create", "--email", email, "--name", "bench"],
        capture_output=True, text=True, check=True,
    )
    return result.stdout.strip()


def in_process(count: int, email: str) -> None:
    """Where a create's time goes: the same POST through Django's test client (no HTTP, no
    server) as served, then the worker's deferred work for those tickets, then with no event
    subscribers at all."""
    from django.db import connection
    from django.test import Client as DjangoClient

    from helpline.accounts.models import User
    from helpline.accounts.services import api_token_create
    from helpline.core import bus

    user = User.objects.get(email=email)
    _, secret = api_token_create(user=user, name="bench-in-process")
    client = DjangoClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    run = uuid.uuid4().hex[:8]

    def post(n: int) -> None:
        response = client.post(
            "/api/v1/tickets",
            data=json.dumps({
                "customer": {"email": f"inproc-{run}-{n}@load.example.test", "name": "In"},
                "channel": "web", "subject": "Parcel is late",
                "body": f"Order NW-{n:07d} has not arrived.",
            }),
            content_type="application/json",
        )
        if response.status_code != 201:
            raise SystemExit(f"create failed: {response.status_code} {response.content!r}")

    def measure(label: str, offset: int) -> None:
        for n in range(3):
            post(offset - n - 1)
        queries = 0

        def counting(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counting):
            post(offset)
        walls, cpus = [], []
        for n in range(count):
            started, cpu = time.perf_counter(), time.process_time()
            post(offset + 1 + n)
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        print(f"in-process, {label}:\n    wall {describe(walls)}\n    cpu  {describe(cpus)}"
              f"  queries {queries}")

    subscribers = bus.subscribers()
    print(f"\nsubscribers: {sum(len(v) for v in subscribers.values())} handlers on "
          f"{len(subscribers)} event types: " + "; ".join(
              f"{k.rsplit('.', 1)[-1]} -> "
              + ", ".join(f"{h.split('.')[1]}.{h.rsplit('.', 1)[-1]}" for h in v)
              for k, v in subscribers.items()))
    from helpline.core import outbox

    outbox.outbox_drain(budget=120)  # start from an empty outbox
    measure("as served (request path; deferred work left in the outbox)", 1_000)
    # The worker's share: deliver what those creates left in the outbox, here, timed.
    pending = outbox.outbox_pending()
    cpu, started = time.process_time(), time.perf_counter()
    delivered = outbox.outbox_drain(budget=300)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - started
    tickets = count + 4
    print(f"in-process, the worker's deferred work (SLA, routing, triage) for those {tickets} "
          f"tickets: {delivered}/{pending} events, cpu {cpu * 1000 / tickets:.2f} ms and wall "
          f"{wall * 1000 / tickets:.2f} ms per ticket")
    with bus.suspended():
        measure("no subscribers (foundation only)", 100_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    parser.add_argument("--token", default=os.environ.get("HELPLINE_BENCH_TOKEN", ""))
    parser.add_argument("--email", default="bench-api@bench.helpline.test")
    parser.add_argument("--start-server", action="store_true")
    parser.add_argument("--workers", type=int, default=2, help="web server processes")
    parser.add_argument(
        "--no-worker", action="store_true",
        help="with --start-server: no background worker (measures the request path alone)",
    )
    parser.add_argument(
        "--server-pid", type=int, default=None,
        help="without --start-server: the server's main process, to count its CPU",
    )
    parser.add_argument("--server-log", default="", help="with --start-server: its stderr here")
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument(
        "--floor", type=int, default=0, metavar="N",
        help="with --start-server: first time N x GET /api/v1/me, the CPU floor of any request",
    )
    parser.add_argument("--concurrent", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=90, help="cap per phase")
    parser.add_argument(
        "--in-process", type=int, default=0, metavar="N",
        help="also time N creates in this process, with and without event subscribers",
    )
    args = parser.parse_args()
    if urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("load tests only against 127.0.0.1")

    token = args.token or token_for(args.email)
    setup_django()
    print(f"Helpline API ticket-create benchmark @ {git_revision()}")
    print(f"machine:  {machine()}")
    print(f"database: {database()}")
    server = None
    if args.start_server:
        port = str(urllib.parse.urlsplit(args.url).port or 8765)
        command = [
            str(VENV_BIN / "helpline"), "serve", "--host", "127.0.0.1", "--port", port,
            "--workers", str(args.workers), "--smtp-port", "0",
        ]
        if args.no_worker:
            command.append("--no-worker")
        log = Path(args.server_log).open("w") if args.server_log else subprocess.DEVNULL  # noqa: SIM115
        server = subprocess.Popen(
            command,
            stderr=log,
            # One token drives every client here: its request limit (6,000 a minute by default)
            # is raised, not switched off, so the limiter's own cost is in the figures.
            env={
                "HELPLINE_API_RATE_PER_MINUTE": "100000000",
                **os.environ,
                "PGAPPNAME": SERVER_APPNAME,
            },
        )
        print(f"server:   helpline serve, {args.workers} web process(es), "
              + ("no worker (deferred work waits)" if args.no_worker
                 else "in-process worker draining the outbox meanwhile (as a user runs it)"))
    else:
        print(f"server:   {args.url} (started outside this script)")
    try:
        wait_for(args.url)
        run = uuid.uuid4().hex[:8]
        client = Client(args.url, token)
        for n in range(10):  # warm-up: imports, connections, caches in every worker
            client.create(-n - 1, run)

        meter = CpuMeter(
            server.pid if server is not None else args.server_pid, own_backends=server is not None
        )
        if args.floor:
            before = meter.sample()
            statuses = {get_me(client) for _ in range(args.floor)}
            print(f"\nfloor: {args.floor} x GET /api/v1/me (token auth, one query), status "
                  f"{sorted(statuses)}")
            meter.report("the cheapest authenticated request, not a create", before, args.floor)
        samples: list[float] = []
        codes: dict[int, int] = {}
        before = meter.sample()
        first_id = _last_ticket_id()
        started = time.perf_counter()
        for n in range(args.sequential):
            status, seconds = client.create(n, run)
            codes[status] = codes.get(status, 0) + 1
            samples.append(seconds)
            if time.perf_counter() - started > args.max_seconds:
                break
        elapsed = time.perf_counter() - started
        if samples:
            print(f"\nsequential, 1 client:   {describe(samples)}  "
                  f"{len(samples) / elapsed:6.1f} tickets/s  status {codes}")
            meter.report("sequential, worker included" if not args.no_worker
                         else "sequential, request path", before, len(samples))
            report_groups(first_id)

        lock = threading.Lock()
        counter = iter(range(args.sequential, args.sequential + args.concurrent))
        latencies: list[float] = []
        ccodes: dict[int, int] = {}
        stop_at = time.perf_counter() + args.max_seconds

        def worker() -> None:
            mine = Client(args.url, token)
            while time.perf_counter() < stop_at:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                status, seconds = mine.create(n, run)
                with lock:
                    latencies.append(seconds)
                    ccodes[status] = ccodes.get(status, 0) + 1

        threads = [threading.Thread(target=worker) for _ in range(args.clients)]
        before = meter.sample()
        first_id = _last_ticket_id()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if latencies:
            print(f"concurrent, {args.clients} clients: {describe(latencies)}  "
                  f"{len(latencies) / elapsed:6.1f} tickets/s  status {ccodes}")
            if args.no_worker or server is None:
                meter.report("concurrent, request path", before, len(latencies))
            report_groups(first_id)
        if server is not None and not args.no_worker:
            drained = wait_for_outbox(started, max_seconds=300)
            created = len(latencies)
            if drained is not None:
                print(f"deferred work (SLA clocks, routing, triage) of the concurrent phase done "
                      f"{drained - elapsed:5.1f} s after its last response: all of it in "
                      f"{drained:5.1f} s, {created / drained:6.1f} tickets/s end to end")
                meter.report("concurrent, request and deferred work", before, created)
            else:
                print("deferred work not drained within 300 s")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    if args.in_process:
        in_process(args.in_process, args.email)


if __name__ == "__main__":
    main()
