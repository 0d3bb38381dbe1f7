"""IMAP polling against a real Dovecot: new mail becomes tickets, is marked seen only after the
commit, is not fetched twice, and IDLE wakes the watcher when mail arrives."""

from __future__ import annotations

import imaplib
import threading
import time

import pytest

from helpline.connectors.email import imap, services
from helpline.connectors.email.choices import InboundStatus, Transport
from helpline.connectors.email.models import InboundEmail, Mailbox
from helpline.connectors.email.tests.factories import raw_email
from helpline.tickets.models import Ticket


def _client(server) -> imaplib.IMAP4:
    conn = imaplib.IMAP4("127.0.0.1", server.port)
    conn.login(server.user, server.password)
    return conn


@pytest.fixture
def imap_folder(dovecot_server):
    """A fresh folder per test, so tests do not see each other's mail."""
    name = f"T{time.monotonic_ns()}"
    conn = _client(dovecot_server)
    conn.create(name)
    yield name
    conn.delete(name)
    conn.logout()


@pytest.fixture
def imap_mailbox(transactional_db, capture, dovecot_server, imap_folder) -> Mailbox:
    return services.mailbox_create(
        address="help@example.org", imap_url=dovecot_server.url(imap_folder), smtp_url=capture.url
    )


def _append(server, folder: str, raw: bytes) -> None:
    conn = _client(server)
    typ, _ = conn.append(folder, None, None, raw)
    assert typ == "OK"
    conn.logout()


def _seen_flags(server, folder: str) -> list[bool]:
    conn = _client(server)
    conn.select(folder, readonly=True)
    _, data = conn.fetch("1:*", "(FLAGS)")
    conn.logout()
    return [b"\\Seen" in item for item in data if item]


def test_mailbox_add_with_imap_url_polls_imap(imap_mailbox):
    assert imap_mailbox.transport == Transport.IMAP
    target = imap.parse_imap_url(imap_mailbox.imap_url)
    assert (target.host, target.tls, target.username) == ("127.0.0.1", False, "helpdesk")


def test_poll_ingests_new_mail_and_marks_it_seen_after_commit(
    imap_mailbox, dovecot_server, imap_folder, capture
):
    _append(dovecot_server, imap_folder, raw_email(to="help@example.org", message_id="<i1@c.test>"))
    _append(
        dovecot_server,
        imap_folder,
        raw_email(to="help@example.org", subject="second", message_id="<i2@c.test>"),
    )
    assert _seen_flags(dovecot_server, imap_folder) == [False, False]

    assert imap.imap_poll(imap_mailbox) == 2

    assert Ticket.objects.count() == 2
    rows = InboundEmail.objects.order_by("id")
    assert [r.transport for r in rows] == [Transport.IMAP, Transport.IMAP]
    assert all(r.status == InboundStatus.PROCESSED for r in rows)
    assert _seen_flags(dovecot_server, imap_folder) == [True, True]
    assert len(capture.wait_for(2)) == 2  # acknowledged, like any new ticket

    # A second pass fetches nothing again; new mail is picked up from the last UID on.
    assert imap.imap_poll(Mailbox.objects.get(pk=imap_mailbox.pk)) == 0
    _append(dovecot_server, imap_folder, raw_email(to="help@example.org", subject="third"))
    assert imap.imap_poll(Mailbox.objects.get(pk=imap_mailbox.pk)) == 1
    assert Ticket.objects.count() == 3


def test_same_message_by_imap_and_smtp_is_one_message(imap_mailbox, dovecot_server, imap_folder):
    raw = raw_email(to="help@example.org", message_id="<both@c.test>")
    services.inbound_ingest(raw=raw, transport=Transport.SMTP)
    _append(dovecot_server, imap_folder, raw)
    imap.imap_poll(imap_mailbox)
    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.count() == 1
    assert _seen_flags(dovecot_server, imap_folder) == [True]


def test_idle_wakes_when_mail_arrives(dovecot_server, imap_folder):
    conn = imaplib.IMAP4("127.0.0.1", dovecot_server.port)
    conn.login(dovecot_server.user, dovecot_server.password)
    assert "IDLE" in conn.capabilities
    conn.select(imap_folder)
    timer = threading.Timer(
        0.5, _append, args=(dovecot_server, imap_folder, raw_email(to="help@example.org"))
    )
    timer.start()
    started = time.monotonic()
    assert imap.imap_idle(conn, timeout=15) is True
    assert time.monotonic() - started < 10
    conn.logout()


def test_watch_loop_ingests_with_idle_until_stopped(imap_mailbox, dovecot_server, imap_folder):
    stop = threading.Event()
    thread = threading.Thread(
        target=imap.imap_watch, args=(imap_mailbox.pk, stop), kwargs={"idle_seconds": 30}
    )
    thread.start()
    try:
        time.sleep(1.0)
        _append(
            dovecot_server, imap_folder, raw_email(to="help@example.org", subject="while idling")
        )
        deadline = time.monotonic() + 15
        while (
            time.monotonic() < deadline
            and not Ticket.objects.filter(subject="while idling").exists()
        ):
            time.sleep(0.2)
        assert Ticket.objects.filter(subject="while idling").exists()
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_bad_credentials_are_recorded_on_the_mailbox(transactional_db, dovecot_server, imap_folder):
    mailbox = services.mailbox_create(
        address="wrong@example.org",
        imap_url=f"imap://helpdesk:nope@127.0.0.1:{dovecot_server.port}/{imap_folder}",
    )
    assert imap.imap_poll_due() == 0
    mailbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in mailbox.imap_error or "failed" in mailbox.imap_error.lower()
