"""Ingestion throughput: messages per second from Helpline's SMTP listener to a committed ticket.

    # SQLite (a throw-away data dir)
    .venv/bin/python bench/email_ingest.py --messages 1000 --clients 4
    # PostgreSQL (its own database; created if missing)
    HELPLINE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_email \
        .venv/bin/python bench/email_ingest.py --messages 1000 --clients 4

Each client is a real smtplib connection sending several messages per session; the listener
answers 250 only after the raw message is stored and its ticket committed (it processes inline),
so when the last client finishes, every message is on a ticket. Every message opens a new ticket
for one of --customers senders; acknowledgements are on (their delivery is queued, not sent:
--ack off to measure without them). Loopback only; bounded by --messages.
"""

from __future__ import annotations

import argparse
import os
import platform
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def _ensure_pg_database(url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    check = subprocess.run(
        [
            "psql",
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            "-tAc",
            "SELECT datname FROM pg_database",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if name not in check.stdout.split():
        subprocess.run(
            [
                "createdb",
                "-h",
                parts.hostname or "127.0.0.1",
                "-p",
                str(parts.port or 5432),
                "-U",
                parts.username or "postgres",
                name,
            ],
            check=True,
        )


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--ack", choices=["on", "off"], default="on")
    parser.add_argument(
        "--email-only",
        action="store_true",
        help="unsubscribe the other apps' event handlers (SLA, routing, triage) to measure the "
        "email path alone; NOT how production runs",
    )
    args = parser.parse_args()
    args.messages = min(args.messages, 20_000)

    os.environ.setdefault("HELPLINE_DATA_DIR", tempfile.mkdtemp(prefix="hl-email-bench-"))
    os.environ.setdefault("HELPLINE_LOG_LEVEL", "WARNING")
    if os.environ.get("HELPLINE_DATABASE_URL"):
        _ensure_pg_database(os.environ["HELPLINE_DATABASE_URL"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from helpline.connectors.email import selectors, services
    from helpline.connectors.email.models import InboundEmail, Mailbox
    from helpline.connectors.email.smtp_server import start_listener

    mailbox = Mailbox.objects.filter(address="support@bench.example.org").first()
    if mailbox is None:
        mailbox = services.mailbox_create(address="support@bench.example.org", name="Bench")
    services.mailbox_update(mailbox=mailbox, ack_enabled=args.ack == "on")
    selectors.mailbox_cache_clear()

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if args.email_only:
        from helpline.connectors.email.handlers import on_reply_added
        from helpline.core import bus
        from helpline.tickets.events import ReplyAdded

        bus._subscribers.clear()
        bus.subscribe(ReplyAdded, on_reply_added)
    listener = start_listener(host="127.0.0.1", port=port)
    run = uuid.uuid4().hex[:8]
    payloads = [_message(n, args.customers, run) for n in range(args.messages)]
    chunks = [payloads[i :: args.clients] for i in range(args.clients)]
    errors: list[str] = []

    def client(batch: list[bytes]) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                for raw in batch:
                    smtp.sendmail("bench@bench.test", ["support@bench.example.org"], raw)
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    started = time.perf_counter()
    cpu_started = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    listener.stop()

    done = InboundEmail.objects.filter(rfc_id__contains=f".{run}.", status="processed").count()
    vendor = connection.vendor
    load = os.getloadavg()
    print(
        f"email ingest [{vendor}] {args.messages} messages, {args.clients} SMTP clients, "
        f"{args.customers} customers, ack {args.ack}"
        f"{', email path only' if args.email_only else ''}: {done / elapsed:.1f} messages/s "
        f"({elapsed:.1f} s; {done} committed on tickets; errors {len(errors)}); "
        f"Python CPU {cpu / max(1, done) * 1000:.1f} ms/message (clients + listener, one process)"
    )
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, "
        f"load average at end {load[0]:.1f} (shared machine)"
    )
    if errors:
        print("first error:", errors[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
