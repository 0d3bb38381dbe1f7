"""IDLE watchers: ``helpline serve`` keeps one IDLE connection per IMAP mailbox, so mail appended
to Dovecot becomes a ticket within seconds without the minute tick; a lease in the mailbox row
keeps it to one watcher per mailbox across processes, and the tick polls only unwatched ones."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta

from django.db import OperationalError

from helpline.connectors.email import imap, services
from helpline.connectors.email.models import Mailbox
from helpline.connectors.email.tests.conftest import free_port
from helpline.connectors.email.tests.factories import raw_email
from helpline.connectors.email.tests.imap_helpers import append, delete_folder, new_folder
from helpline.core import clock
from helpline.tickets.models import Ticket

HELPLINE = [sys.executable, "-m", "helpline.cli"]


def _wait(predicate, timeout: float) -> float | None:
    """Seconds until ``predicate()`` held, or None after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if predicate():
                return time.monotonic() - started
        except OperationalError:  # the tests' in-memory SQLite: "table is locked" mid-write
            pass
        time.sleep(0.1)
    return None


def test_watchers_ingest_with_idle_and_hold_a_lease(transactional_db, dovecot_server, folder):
    mailbox = services.mailbox_create(
        address="help@example.org", imap_url=dovecot_server.url(folder)
    )
    watchers = imap.ImapWatchers(rescan_seconds=0.5, idle_seconds=60).start()
    try:
        assert _wait(lambda: Mailbox.objects.get(pk=mailbox.pk).imap_polled_at, 15) is not None
        held = Mailbox.objects.get(pk=mailbox.pk)
        assert held.imap_watcher == watchers.holder
        assert held.imap_watch_until is not None and held.imap_watch_until > clock.now()
        assert watchers.watching == {mailbox.pk}

        append(dovecot_server, folder, raw_email(to="help@example.org", subject="idle 1"))
        took = _wait(lambda: Ticket.objects.filter(subject="idle 1").exists(), 15)
        assert took is not None and took < 10

        # A changed URL (another folder here) restarts the watcher at the next rescan, even
        # in the middle of a long IDLE on the old one.
        other = new_folder(dovecot_server)
        try:
            services.mailbox_update(mailbox=held, imap_url=dovecot_server.url(other))
            append(dovecot_server, other, raw_email(to="help@example.org", subject="moved"))
            took = _wait(lambda: Ticket.objects.filter(subject="moved").exists(), 15)
            assert took is not None and took < 10
        finally:
            delete_folder(dovecot_server, other)

        # Deactivated: the watcher stops at the next rescan.
        services.mailbox_update(mailbox=held, is_active=False)
        assert _wait(lambda: not watchers.watching, 10) is not None
    finally:
        watchers.stop()
    assert Mailbox.objects.get(pk=mailbox.pk).imap_watcher == ""  # lease given back


def test_one_watcher_per_mailbox_and_the_tick_polls_only_unwatched(
    transactional_db, dovecot_server, folder
):
    mailbox = services.mailbox_create(
        address="help@example.org", imap_url=dovecot_server.url(folder)
    )
    # Two processes' watchers; claim() is the lease step of each rescan (no threads here).
    first = imap.ImapWatchers(holder="host-a:1")
    second = imap.ImapWatchers(holder="host-b:2")
    assert first.claim() == {mailbox.pk}
    assert second.claim() == set()  # held by the first
    assert first.claim() == {mailbox.pk}  # renewed

    # While a watcher holds the lease the tick leaves the mailbox alone.
    append(dovecot_server, folder, raw_email(to="help@example.org", subject="leased"))
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_polled_at=None)
    assert imap.imap_poll_due() == 0

    # A watcher that vanished without giving the lease back: it runs out, then others take
    # over (the tick, or another process's watchers).
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_watch_until=clock.now() - timedelta(seconds=1)
    )
    assert imap.imap_poll_due() == 1
    assert second.claim() == {mailbox.pk}
    assert first.claim() == set()


def _sqlite_one(db: str, sql: str, params: tuple = ()):  # type: ignore[type-arg]
    with sqlite3.connect(db, timeout=10) as conn:
        return conn.execute(sql, params).fetchone()


def test_helpline_serve_turns_new_imap_mail_into_a_ticket_within_seconds(
    tmp_path, dovecot_server, folder
):
    """The real command, no worker (so no tick at all): only the IDLE watcher can do it."""
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env["HELPLINE_DATA_DIR"] = str(data)
    for args in (
        ["manage", "migrate", "--verbosity", "0"],
        [
            "mailbox",
            "add",
            "--address",
            "help@example.org",
            "--imap-url",
            dovecot_server.url(folder),
        ],
    ):
        done = subprocess.run(
            [*HELPLINE, *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
    db = str(data / "helpline.sqlite3")
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [*HELPLINE, "serve", "--port", str(free_port()), "--smtp-port", "0", "--no-worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        polled = _wait(
            lambda: _sqlite_one(
                db,
                "SELECT imap_polled_at FROM email_connector_mailbox WHERE address = ?",
                ("help@example.org",),
            )[0],
            180,
        )
        log.seek(0)
        assert polled is not None, log.read()
        append(dovecot_server, folder, raw_email(to="help@example.org", subject="pushed by IDLE"))
        took = _wait(
            lambda: _sqlite_one(
                db, "SELECT count(*) FROM tickets_ticket WHERE subject = ?", ("pushed by IDLE",)
            )[0],
            30,
        )
        log.seek(0)
        assert took is not None, log.read()
        assert took < 10
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    # A clean stop gives the lease back, so the tick (or another host) takes over at once.
    assert _sqlite_one(db, "SELECT imap_watcher FROM email_connector_mailbox")[0] == ""
