"""Real parts for the email tests: Helpline's SMTP listener, an aiosmtpd capture server that
plays the outbound relay, and the public corpora fetched by scripts/fetch-test-corpora."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiosmtpd.controller import Controller

from helpline.connectors.email import selectors
from helpline.connectors.email.models import Mailbox
from helpline.connectors.email.services import mailbox_create
from helpline.connectors.email.smtp_server import SmtpListener, start_listener

REPO = Path(__file__).resolve().parents[5]
CORPORA = Path(os.environ.get("HELPLINE_CORPORA_DIR", REPO / ".cache" / "corpora"))

if TYPE_CHECKING:
    from helpline.connectors.email.tests.dovecot import Dovecot


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    connection: int = 0  # which SMTP connection carried it (the n-th the server accepted)


@dataclass
class CaptureServer:
    host: str
    port: int
    messages: list[Captured] = field(default_factory=list)
    reject_with: str | None = None
    refuse_rcpt: set[str] = field(default_factory=set)  # answered 550 at RCPT
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Captured]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        with self.lock:
            return list(self.messages)


class _CaptureHandler:
    def __init__(self, server: CaptureServer) -> None:
        self.server = server
        self.sessions: dict[int, tuple[object, int]] = {}  # kept alive: ids stay unique

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.server.refuse_rcpt:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def _connection(self, session) -> int:
        with self.server.lock:
            if id(session) not in self.sessions:
                self.server.connections += 1
                self.sessions[id(session)] = (session, self.server.connections)
            return self.sessions[id(session)][1]

    async def handle_DATA(self, server, session, envelope):
        if self.server.reject_with:
            return self.server.reject_with
        parsed = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        number = self._connection(session)
        with self.server.lock:
            self.server.messages.append(
                Captured(envelope.mail_from, list(envelope.rcpt_tos), parsed, number)
            )
        return "250 2.0.0 Captured queued as C0FFEE"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Per-process caches (mailbox addresses, block rules, the acknowledgement's queue inputs)
    must not carry one test's rows into the next."""
    from helpline.sla.expected import reuse_cache_clear

    selectors.mailbox_cache_clear()
    selectors.block_rule_cache_clear()
    reuse_cache_clear()
    yield


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    server = CaptureServer(host="127.0.0.1", port=free_port())
    controller = Controller(_CaptureHandler(server), hostname=server.host, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def mailbox(transactional_db: None, capture: CaptureServer) -> Mailbox:
    selectors.mailbox_cache_clear()
    return mailbox_create(
        address="support@example.org", name="Example Support", smtp_url=capture.url
    )


@pytest.fixture
def listener(mailbox: Mailbox) -> Iterator[SmtpListener]:
    running = start_listener(host="127.0.0.1", port=free_port())
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def spam_assassin_dir() -> Path:
    path = CORPORA / "spam-assassin" / "data"
    if not path.exists():
        pytest.skip("SpamAssassin corpus missing: run scripts/fetch-test-corpora")
    return path


@pytest.fixture
def talon_fixtures_dir() -> Path:
    path = CORPORA / "talon" / "tests" / "fixtures"
    if not path.exists():
        pytest.skip("talon fixtures missing: run scripts/fetch-test-corpora")
    return path


logging.getLogger("mail.log").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def dovecot_server():
    from helpline.connectors.email.tests import dovecot

    if not dovecot.available():
        pytest.skip("dovecot-imapd not installed (scripts/apt-packages.txt) or not root")
    server = dovecot.start(free_port())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def folder(dovecot_server: Dovecot) -> Iterator[str]:
    """A fresh IMAP folder on the test Dovecot, removed afterwards."""
    from helpline.connectors.email.tests.imap_helpers import delete_folder, new_folder

    name = new_folder(dovecot_server)
    yield name
    delete_folder(dovecot_server, name)
