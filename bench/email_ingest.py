"""Ingestion throughput: messages per second from Helpline's SMTP listener to a committed ticket.

Runs the process layout a user runs: ``helpline serve --no-worker`` (web server and the SMTP
listener, which stores each message and answers 250) and ``helpline worker`` (the Huey consumer
that puts stored mail on tickets in batches, delivers the acknowledgements and drains the
outbox of the SLA, routing and triage reactions), both started here as child processes on a
throw-away data dir. Real ``smtplib`` clients in this process send the messages.

    # SQLite (in the throw-away data dir)
    .venv/bin/python bench/email_ingest.py --messages 1000 --clients 4
    # PostgreSQL (its own database; created if missing; other runs' rows stay, counts are per run)
    HELPLINE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_email \\
        .venv/bin/python bench/email_ingest.py --messages 1000 --clients 4

A message counts once its ticket is committed (its stored row is ``processed``, read from the
database). Every message opens a new ticket for one of --customers senders. Acknowledgements are
on by default: written with the ticket, their delivery queued in Huey and sent by the worker to
a local SMTP sink standing for the relay (--ack off: none; --relay none: no relay configured,
deliveries fail and wait for their retry). Figures: SMTP phase (every 250 received), committed
(the last ticket), settled (also every acknowledgement delivered and the outbox empty); CPU
time of each Helpline process (from /proc) per message, which depends far less on the
neighbours than wall time; the load average. Loopback only; bounded by --messages and
--timeout.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _ensure_pg_database(url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    check = subprocess.run(
        ["psql", *conn, "-tAc", "SELECT datname FROM pg_database"],
        capture_output=True,
        text=True,
        check=False,
    )
    if name not in check.stdout.split():
        subprocess.run(["createdb", *conn, name], check=True)


def _message(n: int, customers: int, run: str) -> bytes:
    msg = EmailMessage()
    c = n % customers
    msg["From"] = f"Customer {c} <customer{c}.{run}@bench.test>"
    msg["To"] = "support@bench.example.org"
    msg["Subject"] = f"Order {n} arrived damaged"
    msg["Message-ID"] = make_msgid(idstring=f"{run}.{n}", domain="bench.test")
    msg.set_content(
        f"Hello,\n\nmy order #{n} arrived with a cracked lid. Could you send a replacement?\n\n"
        f"Thanks,\nCustomer {c}\n\n"
        "On Mon, 23 Nov 2026 at 09:00, Shop wrote:\n> Your order shipped.\n"
    )
    msg.add_alternative(
        f"<p>Hello,</p><p>my order #{n} arrived with a <b>cracked</b> lid.</p>", subtype="html"
    )
    return msg.as_bytes()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"helpline serve exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the SMTP listener did not come up on port {port}")


class _Sink:
    """The relay: accepts every acknowledgement and counts it."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.lock:
            self.count += 1
        return "250 2.0.0 Ok: queued"


def _breakdown(args: argparse.Namespace, mailbox: object) -> int:
    """Each stage alone, in this process: CPU (time.process_time) and queries per message."""
    from django.db import connection

    from helpline.connectors.email import services
    from helpline.connectors.email.models import OutboundEmail
    from helpline.core import outbox

    run = uuid.uuid4().hex[:8]
    payloads = [_message(n, args.customers, run) for n in range(args.messages + 20)]
    for raw in payloads[:20]:  # warm up: imports, caches, first customers
        services.inbound_store(raw=raw, transport="smtp", mailbox_id=mailbox.pk)  # type: ignore[attr-defined]
    services.inbound_drain(budget=600)
    outbox.outbox_drain(budget=600)
    services.outbound_deliver_many(outbound_ids=services.outbound_due_ids(limit=10_000))
    n = args.messages
    rows: list[tuple[str, float, int]] = []
    statements = [0]

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements[0] += 1
        return execute(sql, params, many, context)

    def stage(name: str, work: object) -> None:
        statements[0] = 0
        t = time.process_time()
        profile = cProfile.Profile() if args.profile else None
        with connection.execute_wrapper(count):
            if profile is not None:
                profile.enable()
            work()  # type: ignore[operator]
            if profile is not None:
                profile.disable()
        rows.append((name, time.process_time() - t, statements[0]))
        if profile is not None:
            print(f"== profile: {name} (top {args.profile} by own time)")
            stats = pstats.Stats(profile)
            stats.sort_stats("tottime").print_stats(args.profile)
            print(f"== profile: {name}, Helpline's own functions by cumulative time")
            stats.sort_stats("cumulative").print_stats("helpline", args.profile)

    stage(
        "store (listener)",
        lambda: [
            services.inbound_store(raw=raw, transport="smtp", mailbox_id=mailbox.pk)  # type: ignore[attr-defined]
            for raw in payloads[20:]
        ],
    )
    stage(
        "process: parse, thread, customer, ticket, ack", lambda: services.inbound_drain(budget=600)
    )
    stage("outbox: deferred SLA, routing, triage", lambda: outbox.outbox_drain(budget=600))
    due = services.outbound_due_ids(limit=10_000)
    stage(
        f"deliveries ({len(due)} acknowledgements)",
        lambda: [
            services.outbound_deliver_many(outbound_ids=due[i : i + 50])
            for i in range(0, len(due), 50)
        ],
    )
    sent = OutboundEmail.objects.filter(status="sent").count()
    print(
        f"email ingest breakdown [{connection.vendor}] {n} messages, {args.customers} customers, "
        f"ack {args.ack}, one process, stages one after the other; the relay sink runs in this "
        "process too, so deliveries include its CPU"
    )
    for name, cpu, queries in rows:
        print(f"  {name:48s} {cpu / n * 1000:6.2f} ms CPU/message  {queries / n:5.1f} queries")
    total = sum(cpu for _, cpu, _ in rows)
    print(f"  {'total':48s} {total / n * 1000:6.2f} ms CPU/message (sent so far: {sent})")
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} (shared machine)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--ack", choices=["on", "off"], default="on")
    parser.add_argument("--relay", choices=["sink", "none"], default="sink")
    parser.add_argument(
        "--sink",
        choices=["light", "aiosmtpd"],
        default="light",
        help="the relay stand-in: bench/smtp_sink.py (default) or aiosmtpd, which costs ~1 ms "
        "more CPU per acknowledgement on the same cores",
    )
    parser.add_argument("--worker-threads", type=int, default=2)
    parser.add_argument(
        "--worker-processes", type=int, default=1, help="helpline worker processes (default 1)"
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="instead: run each stage in this process, one after the other, and print its CPU "
        "and queries per message (store, process, outbox reactions, deliveries)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="with --breakdown: print each stage's N most expensive functions (cProfile)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds, whole run")
    args = parser.parse_args()
    args.messages = min(args.messages, 20_000)

    data_dir = tempfile.mkdtemp(prefix="hl-email-bench-")
    env = dict(os.environ)
    env.update(
        HELPLINE_DATA_DIR=data_dir,
        HELPLINE_LOG_LEVEL=env.get("HELPLINE_LOG_LEVEL", "WARNING"),
        HELPLINE_WORKERS=str(args.worker_threads),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p),
        DJANGO_SETTINGS_MODULE="helpline.config.settings",
    )
    sink_controller: Any = None
    sink: Any = _Sink()
    if args.relay == "sink":
        sink_port = _free_port()
        if args.sink == "aiosmtpd":
            from aiosmtpd.controller import Controller

            sink_controller = Controller(sink, hostname="127.0.0.1", port=sink_port)
        else:
            sink = sink_controller = SmtpSink(sink_port)
        sink_controller.start()
        env["HELPLINE_SMTP_URL"] = f"smtp://127.0.0.1:{sink_port}"
    os.environ.update(env)
    if os.environ.get("HELPLINE_DATABASE_URL"):
        _ensure_pg_database(os.environ["HELPLINE_DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from helpline.connectors.email import services
    from helpline.connectors.email.models import InboundEmail, Mailbox, OutboundEmail
    from helpline.core.models import OutboxEvent
    from helpline.tickets.models import Ticket

    mailbox = Mailbox.objects.filter(address="support@bench.example.org").first()
    if mailbox is None:
        mailbox = services.mailbox_create(address="support@bench.example.org", name="Bench")
    services.mailbox_update(mailbox=mailbox, ack_enabled=args.ack == "on")
    if args.breakdown:
        try:
            return _breakdown(args, mailbox)
        finally:
            if sink_controller is not None:
                sink_controller.stop()
    # Work left by an earlier run (an interrupted one, a profiling script) would be done by
    # this run's worker and counted in its CPU: say so.
    leftovers = (
        OutboxEvent.objects.filter(failed_at__isnull=True).count(),
        OutboundEmail.objects.filter(status="queued").count(),
        InboundEmail.objects.filter(status="received").count(),
    )
    if any(leftovers):
        print(
            "WARNING: work left by earlier runs is done by this run's worker: "
            f"{leftovers[0]} outbox events, {leftovers[1]} queued deliveries, "
            f"{leftovers[2]} stored messages"
        )
    connection.close()

    smtp_port, web_port = _free_port(), _free_port()
    helpline = [sys.executable, "-m", "helpline.cli"]
    logs = Path(data_dir)
    serve = subprocess.Popen(
        [
            *helpline,
            "serve",
            "--no-worker",
            "--host",
            "127.0.0.1",
            "--port",
            str(web_port),
            "--smtp-port",
            str(smtp_port),
        ],
        env=env,
        stdout=(logs / "serve.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    workers = [
        subprocess.Popen(
            [*helpline, "worker"],
            env=env,
            stdout=(logs / f"worker{i}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for i in range(max(1, args.worker_processes))
    ]
    procs = [serve, *workers]
    try:
        _wait_port(smtp_port, serve)
        time.sleep(2.0)  # both processes finish starting (imports, first tick) before timing
        run = uuid.uuid4().hex[:8]
        payloads = [_message(n, args.customers, run) for n in range(args.messages)]
        chunks = [payloads[i :: args.clients] for i in range(args.clients)]
        errors: list[str] = []

        def client(batch: list[bytes]) -> None:
            try:
                with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as smtp:
                    for raw in batch:
                        smtp.sendmail("bench@bench.test", ["support@bench.example.org"], raw)
            except Exception as exc:
                errors.append(repr(exc))

        # This run's rows by primary key (nothing else writes meanwhile): the polls below run on
        # the same cores as Helpline, and a match on the Message-ID scanned the whole table
        # (45 ms of PostgreSQL per poll at 60,000 stored messages).
        first_id = InboundEmail.objects.aggregate(top=Max("id"))["top"] or 0
        mine = InboundEmail.objects.filter(id__gt=first_id)
        queue = Ticket.objects.filter(channel="email", status__in=("new", "open")).count()
        load_start = os.getloadavg()
        cpu0 = {p.pid: _cpu_seconds(p.pid) for p in procs}
        own0 = time.process_time()
        threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        smtp_done = time.perf_counter() - started
        deadline = time.monotonic() + args.timeout
        committed_at = None
        done = 0
        while time.monotonic() < deadline:
            done = mine.filter(status="processed").count()
            if done + len(errors) >= args.messages or not mine.filter(status="received").exists():
                committed_at = time.perf_counter() - started
                break
            time.sleep(0.05)
        cpu_committed = {p.pid: _cpu_seconds(p.pid) - cpu0[p.pid] for p in procs}
        # Settled: every acknowledgement delivered (or waiting for a retry) and the outbox empty.
        settled_at = None
        while time.monotonic() < deadline:
            queued = OutboundEmail.objects.filter(
                message__ticket_id__in=mine.values("ticket_id"),
                status="queued",
                next_attempt_at__lte=timezone.now(),
            ).exists()
            if not queued and not OutboxEvent.objects.filter(failed_at__isnull=True).exists():
                settled_at = time.perf_counter() - started
                break
            time.sleep(0.1)
        cpu_settled = {p.pid: _cpu_seconds(p.pid) - cpu0[p.pid] for p in procs}
        own = time.process_time() - own0
        load_end = os.getloadavg()
        done = mine.filter(status="processed").count()
        quarantined = mine.filter(status="quarantined").count()
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if sink_controller is not None:
            sink_controller.stop()

    vendor = connection.vendor
    listener_cpu = cpu_committed[serve.pid]
    worker_cpu = sum(cpu_committed[w.pid] for w in workers)
    worker_settled = sum(cpu_settled[w.pid] for w in workers)
    per = 1000 / max(1, done)
    print(
        f"email ingest [{vendor}] {args.messages} messages, {args.clients} SMTP clients, "
        f"{args.customers} customers, ack {args.ack}, relay {args.relay}, "
        f"helpline serve --no-worker + {len(workers)} x helpline worker "
        f"({args.worker_threads} threads each); {queue} email tickets new or open before the "
        "run (the queue each acknowledgement counts its place in)"
    )
    print(
        f"  SMTP phase: {args.messages / smtp_done:.1f} messages/s accepted (250) "
        f"in {smtp_done:.1f} s; errors {len(errors)}"
    )
    if committed_at is not None:
        print(
            f"  committed: {done / committed_at:.1f} messages/s to a committed ticket "
            f"({done} on tickets, {quarantined} quarantined, in {committed_at:.1f} s)"
        )
    else:
        print(f"  committed: TIMED OUT with {done} of {args.messages} on tickets")
    print(
        f"  Python CPU per message until committed: listener {listener_cpu * per:.1f} ms, "
        f"worker {worker_cpu * per:.1f} ms, together {(listener_cpu + worker_cpu) * per:.1f} ms"
    )
    if settled_at is not None:
        print(
            f"  settled (acknowledgements delivered: {sink.count}, outbox empty) after "
            f"{settled_at:.1f} s; CPU per message then: listener "
            f"{cpu_settled[serve.pid] * per:.1f} ms, worker {worker_settled * per:.1f} ms"
        )
    else:
        print("  settled: TIMED OUT (acknowledgements or outbox events still due)")
    print(f"  bench clients (this process, not Helpline): {own * per:.1f} ms CPU per message")
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average at start {load_start[0]:.1f}, at end "
        f"{load_end[0]:.1f} (shared machine)"
    )
    if errors:
        print("first error:", errors[0])
    if os.environ.get("HELPLINE_BENCH_KEEP") != "1":
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
