"""IMAP polling: fetch new messages, ingest each, and mark it seen only after its ticket commits.

``imap_poll`` is one pass (the tick calls it for every IMAP mailbox not polled in the last
minute and not held by a watcher); ``imap_watch`` is the loop that waits with IDLE between
passes where the server offers it, one thread per mailbox, kept by ``ImapWatchers`` in
``helpline serve`` (and ``helpline mailbox watch``). TLS (``imaps://`` or ``?starttls``) checks
the certificate against the system CAs or ``?ca_file=``; ``?auth=xoauth2`` logs in with an
OAuth access token, renewed from a refresh token when the URL carries one (``oauth.py``).
Progress is kept in the mailbox row (UIDVALIDITY and the last UID done), so a restart resumes
where it stopped and deduplication by Message-ID covers the overlap.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import os
import re
import select
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Q

from helpline.config.env import ConfigError
from helpline.connectors.email.choices import Transport
from helpline.connectors.email.models import Mailbox
from helpline.connectors.email.oauth import (
    RefreshConfig,
    TokenRefreshError,
    check_token_url,
    tokens,
)
from helpline.core import clock, crypto

logger = logging.getLogger(__name__)
POLL_EVERY = timedelta(seconds=55)
TIMEOUT = 20.0


class ImapError(imaplib.IMAP4.error):
    """A failure worth showing the admin as it is (TLS trust, login refused), without secrets."""


_REFRESH_KEYS = ("token_url", "client_id", "client_secret", "refresh_token")
_QUERY_KEYS = {"auth", "ca_file", "tls_verify", "starttls", *_REFRESH_KEYS}


@dataclass(frozen=True)
class ImapTarget:
    host: str
    port: int
    tls: bool
    username: str
    password: str
    folder: str
    xoauth2: bool
    starttls: bool = False
    ca_file: str = ""
    verify: bool = True
    refresh: RefreshConfig | None = None

    def __repr__(self) -> str:  # never print the password or token
        return f"ImapTarget({self.username}@{self.host}:{self.port}/{self.folder})"

    def ssl_context(self) -> ssl.SSLContext:
        """Certificate and host name checked against the system CAs, or only ``ca_file``'s."""
        if self.ca_file:
            try:
                context = ssl.create_default_context(cafile=self.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"Cannot read the CA file {self.ca_file}: {exc}") from exc
        else:
            context = ssl.create_default_context()
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _flag(query: dict[str, list[str]], key: str, default: bool) -> bool:
    if key not in query:
        return default
    value = query[key][-1].strip().lower()
    if value in {"", "1", "yes", "true", "on"}:
        return True
    if value in {"0", "no", "false", "off"}:
        return False
    raise ConfigError(f"The IMAP URL's {key} must be yes or no, got {value!r}")


def parse_imap_url(raw: str) -> ImapTarget:
    """``imaps://user:password@host:993/INBOX`` (``imap://`` plain, ``imap://…?starttls`` to
    upgrade). Options: ``?auth=xoauth2`` takes the password as an OAuth access token (Gmail,
    Microsoft 365); ``?ca_file=/path/ca.pem`` trusts only that CA instead of the system's;
    ``?tls_verify=no`` turns certificate checks off (never the default)."""
    if isinstance(raw, crypto.UnreadableSecret):
        raise ConfigError(f"The stored IMAP URL is unreadable. {raw}")
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
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - _QUERY_KEYS
    if unknown:
        raise ConfigError(
            f"Unknown IMAP URL option(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_QUERY_KEYS))}"
        )
    auth = query.get("auth", [""])[-1].lower()
    if auth not in {"", "password", "xoauth2"}:
        raise ConfigError(f"The IMAP URL's auth must be password or xoauth2, got {auth!r}")
    starttls = _flag(query, "starttls", False)
    if tls and starttls:
        raise ConfigError("starttls is for imap://; imaps:// is TLS from the first byte")
    refresh = _refresh_config(query, xoauth2=auth == "xoauth2")
    if auth == "xoauth2" and refresh is None and not parts.password:
        raise ConfigError(
            "An xoauth2 IMAP URL needs an access token in the password's place, or a refresh "
            "token (token_url, client_id, refresh_token) to get one."
        )
    return ImapTarget(
        host=parts.hostname,
        port=port or (993 if tls else 143),
        tls=tls,
        username=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        xoauth2=auth == "xoauth2",
        starttls=starttls,
        ca_file=query.get("ca_file", [""])[-1],
        verify=_flag(query, "tls_verify", True),
        refresh=refresh,
    )


def _refresh_config(query: dict[str, list[str]], *, xoauth2: bool) -> RefreshConfig | None:
    given = {key: query[key][-1].strip() for key in _REFRESH_KEYS if key in query}
    if not given:
        return None
    if not xoauth2:
        raise ConfigError(f"{', '.join(sorted(given))}: only with auth=xoauth2")
    missing = [k for k in ("token_url", "client_id", "refresh_token") if not given.get(k)]
    if missing:
        raise ConfigError(
            f"Refreshing the OAuth token needs token_url, client_id and refresh_token "
            f"(client_secret if the provider gave one); missing: {', '.join(missing)}"
        )
    problem = check_token_url(given["token_url"])
    if problem:
        raise ConfigError(f"The IMAP URL's {problem}.")
    return RefreshConfig(
        token_url=given["token_url"],
        client_id=given["client_id"],
        client_secret=given.get("client_secret", ""),
        refresh_token=given["refresh_token"],
    )


def imap_oauth_url(
    *,
    user: str,
    access_token: str,
    host: str,
    port: int,
    folder: str,
    refresh: RefreshConfig,
    options: Sequence[tuple[str, str]] = (),
) -> str:
    """The IMAP URL of an XOAUTH2 mailbox that refreshes its own tokens (``parse_imap_url``
    reads it back); ``options`` are more URL options, e.g. ``ca_file``."""
    pairs = [
        ("auth", "xoauth2"),
        ("token_url", refresh.token_url),
        ("client_id", refresh.client_id),
        *([("client_secret", refresh.client_secret)] if refresh.client_secret else []),
        ("refresh_token", refresh.refresh_token),
        *options,
    ]
    return (
        f"imaps://{quote(user, safe='')}:{quote(access_token, safe='')}@{host}:{port}/"
        f"{quote(folder, safe='')}?" + urlencode(pairs, quote_via=quote)
    )


def imap_url_with_refresh_token(url: str, refresh_token: str) -> str:
    """``url`` with its ``refresh_token`` option replaced (the provider rotated it)."""
    parts = urlsplit(url)
    pairs = [
        (k, refresh_token if k == "refresh_token" else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, quote_via=quote)))


def _server_text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    if isinstance(arg, bytes):
        return arg.decode("utf-8", "replace")
    return str(arg)


def _tls_error(target: ImapTarget, exc: ssl.SSLError) -> ImapError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or exc.reason or str(exc)
        hint = (
            f"check that {target.ca_file} is the CA that signed the server's certificate"
            if target.ca_file
            else "if the server uses a private CA, add ?ca_file=/path/to/ca.pem to the IMAP URL"
        )
        return ImapError(
            f"TLS certificate of {target.host}:{target.port} refused ({detail}); {hint}."
        )
    return ImapError(f"TLS with {target.host}:{target.port} failed: {exc.reason or exc}")


Rotate = Callable[[str], None]


def imap_connect(target: ImapTarget, *, on_rotate: Rotate | None = None) -> imaplib.IMAP4:
    """Connect, secure and log in; failures are :class:`ImapError` with a message for admins.
    ``on_rotate`` gets a new refresh token when the OAuth provider rotated it."""
    conn: imaplib.IMAP4
    try:
        if target.tls:
            conn = imaplib.IMAP4_SSL(
                target.host, target.port, ssl_context=target.ssl_context(), timeout=TIMEOUT
            )
        else:
            conn = imaplib.IMAP4(target.host, target.port, timeout=TIMEOUT)
            if target.starttls:
                conn.starttls(ssl_context=target.ssl_context())
    except ssl.SSLError as exc:
        raise _tls_error(target, exc) from exc
    try:
        _login(conn, target, on_rotate)
    except BaseException:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.shutdown()
        raise
    return conn


def _login(conn: imaplib.IMAP4, target: ImapTarget, on_rotate: Rotate | None) -> None:
    where = f"{target.username} on {target.host}:{target.port}"
    if not target.xoauth2:
        try:
            conn.login(target.username, target.password)
        except imaplib.IMAP4.error as exc:
            raise ImapError(f"IMAP login as {where} refused: {_server_text(exc)}") from exc
        return
    config = target.refresh
    if config is None:
        _xoauth2(conn, target, target.password, where, hint=_HINT_STALE)
        return
    # The token this process got last, while it is good; else the URL's own on first use;
    # else a new one. One refused at login is renewed once and tried again.
    access = tokens.valid(config)
    if access is None and (tokens.seen(config) or not target.password):
        _xoauth2(conn, target, _refreshed(config, where, on_rotate), where, hint=_HINT_ISSUED)
        return
    try:
        _xoauth2(conn, target, access or target.password, where, hint=".")
    except ImapError:
        _xoauth2(conn, target, _refreshed(config, where, on_rotate), where, hint=_HINT_ISSUED)


def _refreshed(config: RefreshConfig, where: str, on_rotate: Rotate | None) -> str:
    try:
        grant = tokens.refresh(config)
    except TokenRefreshError as exc:
        raise ImapError(f"XOAUTH2 login as {where}: no access token. {exc}") from None
    if grant.refresh_token is not None and on_rotate is not None:
        on_rotate(grant.refresh_token)
    return grant.access_token


_HINT_STALE = "; the access token is wrong or expired."
_HINT_ISSUED = (
    "; a token just issued by the provider was refused: check the account and the token's "
    "scope (IMAP)."
)


def _xoauth2(
    conn: imaplib.IMAP4, target: ImapTarget, access: str, where: str, *, hint: str
) -> None:
    token = f"user={target.username}\x01auth=Bearer {access}\x01\x01".encode()
    server_said: list[bytes] = []

    def respond(challenge: bytes) -> bytes:
        # The first challenge is empty; a second one is the server's JSON error, which the
        # client must acknowledge with an empty line (RFC 7628 style) before the final NO.
        if server_said or challenge:
            server_said.append(challenge)
            return b""
        server_said.append(b"")
        return token

    try:
        conn.authenticate("XOAUTH2", respond)
    except imaplib.IMAP4.error as exc:
        detail = next((c for c in server_said if c), b"").decode("utf-8", "replace")
        raise ImapError(
            f"XOAUTH2 login as {where} refused: {_server_text(exc)}"
            + (f" (server said {detail})" if detail else "")
            + hint
        ) from exc


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


def _keep_rotated(mailbox: Mailbox, url: str) -> Rotate:
    """Write a rotated refresh token into the mailbox's (encrypted) IMAP URL."""

    def keep(refresh_token: str) -> None:
        rotated = imap_url_with_refresh_token(url, refresh_token)
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_url=rotated)
        mailbox.imap_url = rotated
        logger.info("mailbox %s: the OAuth provider rotated its refresh token; kept", mailbox.pk)

    return keep


def imap_poll(mailbox: Mailbox) -> int:
    target = parse_imap_url(mailbox.imap_url)
    conn = imap_connect(target, on_rotate=_keep_rotated(mailbox, mailbox.imap_url))
    try:
        return imap_poll_connection(mailbox, conn, target.folder)
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()


def _record_error(mailbox_id: int, exc: BaseException, **extra: object) -> None:
    text = f"{type(exc).__name__}: {exc}"[:2000]
    Mailbox.objects.filter(pk=mailbox_id).update(imap_error=text, **extra)


_POLL_ERRORS = (TimeoutError, OSError, imaplib.IMAP4.error, ssl.SSLError, ConfigError)


def imap_poll_due() -> int:
    """Poll every active IMAP mailbox not polled within the last minute (tick job).

    Mailboxes an IDLE watcher holds (``imap_watch_until`` in the future) are left to it.
    """
    now = clock.now()
    cutoff = now - POLL_EVERY
    total = 0
    due = (
        Mailbox.objects.filter(transport=Transport.IMAP, is_active=True)
        .filter(Q(imap_polled_at__isnull=True) | Q(imap_polled_at__lt=cutoff))
        .exclude(imap_watch_until__gt=now)
    )
    for mailbox in due:
        try:
            total += imap_poll(mailbox)
        except _POLL_ERRORS as exc:
            logger.warning("IMAP poll of %s failed: %s", mailbox.address, exc)
            _record_error(mailbox.pk, exc, imap_polled_at=clock.now())
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
    """Poll a mailbox, then wait with IDLE (or sleep 60 s without it), until ``stop`` is set.

    A changed ``imap_url`` reconnects; a deactivated mailbox ends the loop. Failures are
    recorded on the mailbox (``imap_error``) and retried with backoff up to 5 minutes.
    """
    failures = 0
    try:
        while not stop.is_set():
            try:
                close_old_connections()
                mailbox = Mailbox.objects.get(pk=mailbox_id)
                if not mailbox.is_active or mailbox.transport != Transport.IMAP:
                    return
                target = parse_imap_url(mailbox.imap_url)
                conn = imap_connect(target, on_rotate=_keep_rotated(mailbox, mailbox.imap_url))
                url = mailbox.imap_url  # as stored now (a rotated refresh token is kept)
                try:
                    has_idle = b"IDLE" in {c.upper() for c in _caps(conn)}
                    while not stop.is_set():
                        imap_poll_connection(mailbox, conn, target.folder)
                        failures = 0
                        if has_idle:
                            imap_idle(conn, timeout=idle_seconds, stop=stop)
                        else:
                            stop.wait(60)
                        close_old_connections()
                        mailbox.refresh_from_db()
                        if not mailbox.is_active or mailbox.imap_url != url:
                            break
                finally:
                    with contextlib.suppress(OSError, imaplib.IMAP4.error):
                        conn.logout()
            except Mailbox.DoesNotExist:
                return
            except (*_POLL_ERRORS, DatabaseError) as exc:
                failures += 1
                logger.warning("IMAP watch of mailbox %s: %s", mailbox_id, exc)
                with contextlib.suppress(DatabaseError):
                    _record_error(mailbox_id, exc)
                stop.wait(min(300, 5 * 2**failures))
    finally:
        connection.close()


WATCH_LEASE = timedelta(seconds=90)


class ImapWatchers:
    """Keeps one IDLE watcher thread per active IMAP mailbox, in the serve process.

    A watcher runs only under a lease held in the mailbox row (``imap_watcher``,
    ``imap_watch_until``), claimed and renewed by a conditional update every ``rescan_seconds``:
    across processes and machines one watcher per mailbox, and the minute tick keeps polling
    any mailbox whose watcher went away (its lease runs out after 90 s).
    """

    def __init__(
        self,
        *,
        rescan_seconds: float = 20.0,
        idle_seconds: float = 9 * 60,
        holder: str | None = None,
    ) -> None:
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.rescan_seconds = rescan_seconds
        self.idle_seconds = idle_seconds
        self._stop = threading.Event()
        # mailbox id -> (thread, its stop event, the imap_url it was started with)
        self._watchers: dict[int, tuple[threading.Thread, threading.Event, str]] = {}
        self._stopping: list[threading.Thread] = []
        self._supervisor = threading.Thread(target=self._run, name="imap-watchers", daemon=True)

    def start(self) -> ImapWatchers:
        self._supervisor.start()
        return self

    @property
    def watching(self) -> set[int]:
        return {pk for pk, (thread, _, _) in self._watchers.items() if thread.is_alive()}

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    close_old_connections()
                    self.rescan()
                except DatabaseError as exc:
                    logger.warning("IMAP watchers: %s", exc)
                self._stop.wait(self.rescan_seconds)
        finally:
            connection.close()

    def claim(self) -> set[int]:
        """Claim or renew the lease of every active IMAP mailbox that is free or already ours;
        returns the mailboxes held."""
        now = clock.now()
        held: set[int] = set()
        for pk in Mailbox.objects.filter(transport=Transport.IMAP, is_active=True).values_list(
            "pk", flat=True
        ):
            claimed = (
                Mailbox.objects.filter(pk=pk, transport=Transport.IMAP, is_active=True)
                .filter(
                    Q(imap_watcher=self.holder)
                    | Q(imap_watch_until__isnull=True)
                    | Q(imap_watch_until__lt=now)
                )
                .update(imap_watcher=self.holder, imap_watch_until=now + WATCH_LEASE)
            )
            if claimed:
                held.add(pk)
        return held

    def rescan(self) -> set[int]:
        """Renew the leases, start watchers for newly held mailboxes, stop the others, and
        restart the one whose URL changed (it may be in a long IDLE on the old server)."""
        held = self.claim()
        urls = dict(Mailbox.objects.filter(pk__in=held).values_list("pk", "imap_url"))
        for pk, (thread, stop, url) in list(self._watchers.items()):
            if pk not in held or not thread.is_alive() or urls.get(pk) != url:
                stop.set()
                self._stopping.append(thread)
                del self._watchers[pk]
        self._stopping = [t for t in self._stopping if t.is_alive()]
        for pk in held - set(self._watchers):
            stop = threading.Event()
            thread = threading.Thread(
                target=imap_watch,
                args=(pk, stop),
                kwargs={"idle_seconds": self.idle_seconds},
                name=f"imap-watch-{pk}",
                daemon=True,
            )
            self._watchers[pk] = (thread, stop, urls.get(pk, ""))
            thread.start()
        return held

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every watcher and give the leases back, so the tick takes over at once."""
        self._stop.set()
        if self._supervisor.is_alive():
            self._supervisor.join(timeout)
        for _thread, stop, _url in self._watchers.values():
            stop.set()
        for thread in [*self._stopping, *(t for t, _, _ in self._watchers.values())]:
            thread.join(timeout)
        self._watchers.clear()
        self._stopping.clear()
        with contextlib.suppress(DatabaseError):
            Mailbox.objects.filter(imap_watcher=self.holder).update(
                imap_watcher="", imap_watch_until=None
            )


def start_watchers(*, rescan_seconds: float = 20.0, idle_seconds: float = 9 * 60) -> ImapWatchers:
    """Start IDLE watchers for the IMAP mailboxes (``helpline serve``, ``mailbox watch``)."""
    return ImapWatchers(rescan_seconds=rescan_seconds, idle_seconds=idle_seconds).start()


def _caps(conn: imaplib.IMAP4) -> set[bytes]:
    caps = getattr(conn, "capabilities", ())
    return {c.encode() if isinstance(c, str) else c for c in caps}
