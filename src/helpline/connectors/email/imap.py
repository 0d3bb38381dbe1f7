"""IMAP polling: fetch new messages, ingest each, and mark it seen only after its ticket commits.

``imap_poll`` is one pass (the tick calls it for every IMAP mailbox not polled in the last
minute); ``imap_watch`` is the worker-side loop that waits with IDLE between passes where the
server offers it (``helpline mailbox watch``). Progress is kept in the mailbox row (UIDVALIDITY
and the last UID done), so a restart resumes where it stopped and deduplication by Message-ID
covers the overlap.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import select
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

from django.db import close_old_connections
from django.db.models import Q

from helpline.config.env import ConfigError
from helpline.connectors.email.choices import Transport
from helpline.connectors.email.models import Mailbox
from helpline.core import clock

logger = logging.getLogger(__name__)
POLL_EVERY = timedelta(seconds=55)
TIMEOUT = 20.0


@dataclass(frozen=True)
class ImapTarget:
    host: str
    port: int
    tls: bool
    username: str
    password: str
    folder: str
    xoauth2: bool


def parse_imap_url(raw: str) -> ImapTarget:
    """``imaps://user:password@host:993/INBOX`` (``imap://`` plain; ``?auth=xoauth2`` takes the
    password as an OAuth access token, for Gmail and Microsoft 365)."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in {"imap", "imaps"}:
        raise ConfigError(f"The IMAP URL must be imap:// or imaps://, got {parts.scheme!r}")
    if not parts.hostname or not parts.username:
        raise ConfigError("The IMAP URL needs a user and host: imaps://user:password@host/INBOX")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError("The IMAP URL has a bad port.") from exc
    tls = parts.scheme == "imaps"
    query = parse_qs(parts.query)
    return ImapTarget(
        host=parts.hostname,
        port=port or (993 if tls else 143),
        tls=tls,
        username=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        xoauth2=query.get("auth", [""])[0].lower() == "xoauth2",
    )


def imap_connect(target: ImapTarget) -> imaplib.IMAP4:
    conn: imaplib.IMAP4
    if target.tls:
        conn = imaplib.IMAP4_SSL(
            target.host, target.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT
        )
    else:
        conn = imaplib.IMAP4(target.host, target.port, timeout=TIMEOUT)
    if target.xoauth2:
        token = f"user={target.username}\x01auth=Bearer {target.password}\x01\x01".encode()
        conn.authenticate("XOAUTH2", lambda _challenge: token)
    else:
        conn.login(target.username, target.password)
    return conn


def _uidvalidity(conn: imaplib.IMAP4) -> int | None:
    _, data = conn.response("UIDVALIDITY")
    if data and data[0]:
        try:
            return int(data[0])
        except (TypeError, ValueError):
            return None
    return None


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fetch_raw(conn: imaplib.IMAP4, uid: bytes) -> bytes | None:
    typ, data = conn.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
    if typ != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def imap_poll_connection(mailbox: Mailbox, conn: imaplib.IMAP4, folder: str) -> int:
    """One pass over an open connection; returns how many new messages were ingested."""
    from helpline.connectors.email.services import inbound_ingest

    typ, _ = conn.select(_quote(folder))
    if typ != "OK":
        raise imaplib.IMAP4.error(f"cannot select {folder}")
    validity = _uidvalidity(conn)
    last_uid = mailbox.imap_last_uid
    if validity is not None and mailbox.imap_uidvalidity != validity:
        # The server renumbered the folder: start over; Message-ID deduplication skips repeats.
        last_uid = 0
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=validity, imap_last_uid=0)
        mailbox.imap_uidvalidity, mailbox.imap_last_uid = validity, 0
    typ, data = conn.uid("SEARCH", f"UID {last_uid + 1}:*")
    uids = sorted({int(u) for u in (data[0] or b"").split()} if typ == "OK" and data else set())
    done = 0
    for uid in uids:
        if uid <= last_uid:
            continue
        raw = _fetch_raw(conn, str(uid).encode())
        if raw is not None:
            inbound_ingest(raw=raw, transport=Transport.IMAP, mailbox=mailbox)
            # Only now, with the ticket committed (or the message quarantined), is it seen.
            conn.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)")
            done += 1
        Mailbox.objects.filter(pk=mailbox.pk, imap_last_uid__lt=uid).update(imap_last_uid=uid)
        mailbox.imap_last_uid = uid
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_polled_at=clock.now(), imap_error="")
    return done


def imap_poll(mailbox: Mailbox) -> int:
    target = parse_imap_url(mailbox.imap_url)
    conn = imap_connect(target)
    try:
        return imap_poll_connection(mailbox, conn, target.folder)
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()


def imap_poll_due() -> int:
    """Poll every active IMAP mailbox not polled within the last minute (tick job)."""
    cutoff = clock.now() - POLL_EVERY
    total = 0
    for mailbox in Mailbox.objects.filter(transport=Transport.IMAP, is_active=True).filter(
        Q(imap_polled_at__isnull=True) | Q(imap_polled_at__lt=cutoff)
    ):
        try:
            total += imap_poll(mailbox)
        except (OSError, imaplib.IMAP4.error, ConfigError, ssl.SSLError) as exc:
            logger.warning("IMAP poll of %s failed: %s", mailbox.address, exc)
            Mailbox.objects.filter(pk=mailbox.pk).update(
                imap_error=f"{type(exc).__name__}: {exc}"[:2000], imap_polled_at=clock.now()
            )
    return total


def imap_idle(conn: imaplib.IMAP4, *, timeout: float, stop: threading.Event | None = None) -> bool:
    """Wait in IDLE (RFC 2177) until the server reports new mail or ``timeout`` passes.

    Returns True if the server announced something. Python 3.11's imaplib has no IDLE, so the
    command is spoken directly on the connection.
    """
    tag = conn._new_tag()
    conn.send(tag + b" IDLE\r\n")
    line = conn.readline()
    if not line.startswith(b"+"):
        raise imaplib.IMAP4.error(f"IDLE refused: {line!r}")
    sock = conn.socket()
    deadline = time.monotonic() + timeout
    changed = False
    try:
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            ready, _, _ = select.select(
                [sock], [], [], min(1.0, max(0.0, deadline - time.monotonic()))
            )
            pending = getattr(sock, "pending", lambda: 0)()
            if not ready and not pending:
                continue
            line = conn.readline()
            if not line:
                raise imaplib.IMAP4.abort("connection closed during IDLE")
            if re.match(rb"\* \d+ (EXISTS|RECENT)", line):
                changed = True
                break
    finally:
        conn.send(b"DONE\r\n")
        while True:
            line = conn.readline()
            if not line or line.startswith(tag):
                break
    return changed


def imap_watch(mailbox_id: int, stop: threading.Event, *, idle_seconds: float = 25 * 60) -> None:
    """Poll a mailbox, then wait with IDLE (or sleep 60 s without it), until ``stop`` is set."""
    failures = 0
    while not stop.is_set():
        try:
            close_old_connections()
            mailbox = Mailbox.objects.get(pk=mailbox_id)
            target = parse_imap_url(mailbox.imap_url)
            conn = imap_connect(target)
            try:
                has_idle = b"IDLE" in {c.upper() for c in _caps(conn)}
                while not stop.is_set():
                    imap_poll_connection(mailbox, conn, target.folder)
                    failures = 0
                    if has_idle:
                        imap_idle(conn, timeout=idle_seconds, stop=stop)
                    else:
                        stop.wait(60)
                    mailbox.refresh_from_db()
            finally:
                with contextlib.suppress(OSError, imaplib.IMAP4.error):
                    conn.logout()
        except (TimeoutError, OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
            failures += 1
            logger.warning("IMAP watch of mailbox %s: %s", mailbox_id, exc)
            Mailbox.objects.filter(pk=mailbox_id).update(
                imap_error=f"{type(exc).__name__}: {exc}"[:2000]
            )
            stop.wait(min(300, 5 * 2**failures))


def _caps(conn: imaplib.IMAP4) -> set[bytes]:
    caps = getattr(conn, "capabilities", ())
    return {c.encode() if isinstance(c, str) else c for c in caps}
