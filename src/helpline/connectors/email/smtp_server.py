"""Helpline's own SMTP listener (aiosmtpd), started by ``helpline serve --smtp-port``.

It accepts only recipients of active mailboxes (plus-addresses included), enforces the message
size limit, and answers 250 as soon as the raw message is stored (one committed insert): from
then on nothing is lost, whatever happens while it is parsed. Parsing, threading and the ticket
happen in a worker (``tasks.email_drain``, batches of stored rows), woken after each store; the
tick picks up anything a lost wake-up left. Optional STARTTLS and AUTH for when it faces the
internet.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from asgiref.sync import sync_to_async
from django.db import close_old_connections

from helpline.connectors.email import selectors
from helpline.connectors.email.choices import InboundStatus, Transport
from helpline.connectors.email.conf import email_config
from helpline.core import ratelimit
from helpline.core.errors import ValidationError
from helpline.core.net import is_loopback

logger = logging.getLogger(__name__)


def _rcpt_ok(address: str) -> bool:
    close_old_connections()
    try:
        return selectors.mailbox_id_for_address(address) is not None
    finally:
        close_old_connections()  # a pooled connection goes back, not kept by this thread


def _store(raw: bytes, envelope_from: str, rcpts: list[str]) -> tuple[int, str]:
    """Store the raw message (one committed insert) and wake a worker to process it."""
    close_old_connections()
    try:
        return _store_now(raw, envelope_from, rcpts)
    finally:
        # These run on the event loop's executor threads: a PostgreSQL connection goes back
        # to the pool after each message instead of staying with a thread that may end.
        close_old_connections()


def _store_now(raw: bytes, envelope_from: str, rcpts: list[str]) -> tuple[int, str]:
    from helpline.connectors.email import tasks
    from helpline.connectors.email.services import inbound_store

    mailbox_id = next((m for m in (selectors.mailbox_id_for_address(r) for r in rcpts) if m), None)
    row, _ = inbound_store(
        raw=raw,
        transport=Transport.SMTP,
        mailbox_id=mailbox_id,
        envelope_from=envelope_from,
        envelope_to=rcpts,
    )
    if row.status == InboundStatus.RECEIVED:
        try:
            tasks.inbound_kick()
        except Exception:  # stored is stored: the tick processes it if the wake-up is lost
            logger.exception("processing stored email %s failed; the tick resumes it", row.pk)
    return row.pk, row.status


def _over_limit(session: Any) -> bool:
    """More than HELPLINE_SMTP_LISTENER_RATE_PER_MINUTE messages this minute from the peer's
    address. A peer on loopback (a relay on the same host, which passes on everyone's mail) is
    never limited."""
    limit = email_config().listener_rate_per_minute
    peer = session.peer[0] if isinstance(session.peer, tuple) and session.peer else ""
    if not limit or not peer or is_loopback(peer):
        return False
    return not ratelimit.hit("smtp", peer, limit=limit).allowed


class HelplineHandler:
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        fresh, mailbox_id = selectors.mailbox_id_if_cached(address)
        if not fresh:  # the cache must be read again: off the event loop
            known = await sync_to_async(_rcpt_ok, thread_sensitive=False)(address)
        else:
            known = mailbox_id is not None
        if not known:
            return "550 5.1.1 No mailbox here by that name"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if _over_limit(session):
            # Temporary: the sending server keeps the message and tries again later.
            return "451 4.7.1 Too many messages from your address; try again later"
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            pk, status = await sync_to_async(_store, thread_sensitive=False)(
                raw, envelope.mail_from or "", list(envelope.rcpt_tos)
            )
        except ValidationError as exc:
            return f"554 5.6.0 {exc.message}"
        except Exception:
            logger.exception("storing an inbound email failed")
            return "451 4.3.0 Could not store the message; try again later"
        return f"250 2.0.0 Stored as {pk} ({status})"


class _Authenticator:
    def __init__(self, credentials: str) -> None:
        user, _, password = credentials.partition(":")
        self._user = user.encode()
        self._password = password.encode()

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        import hmac

        if (
            isinstance(auth_data, LoginPassword)
            and hmac.compare_digest(auth_data.login, self._user)
            and hmac.compare_digest(auth_data.password, self._password)
        ):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


class SmtpListener:
    """A running listener; ``stop()`` closes it."""

    def __init__(self, controller: Controller) -> None:
        self._controller = controller

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def hostname(self) -> str:
        return str(self._controller.hostname)

    def stop(self) -> None:
        self._controller.stop()


def start_listener(*, host: str = "127.0.0.1", port: int = 2525) -> SmtpListener:
    config = email_config()
    # aiosmtpd logs every SMTP command at INFO; that is a debugging aid, not an operator's log.
    mail_log = logging.getLogger("mail.log")
    if mail_log.level == logging.NOTSET:
        mail_log.setLevel(logging.WARNING)
    kwargs: dict[str, Any] = {
        "data_size_limit": config.max_message_bytes,
        "ident": "Helpline ESMTP",
        "decode_data": False,
    }
    if config.listener_tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(config.listener_tls_cert, config.listener_tls_key)
        kwargs["tls_context"] = context
    if config.listener_auth:
        kwargs["authenticator"] = _Authenticator(config.listener_auth)
        kwargs["auth_require_tls"] = bool(config.listener_tls_cert)
        kwargs["auth_required"] = True
    controller = Controller(
        HelplineHandler(), hostname=host, port=port, loop=asyncio.new_event_loop(), **kwargs
    )
    controller.start()
    return SmtpListener(controller)
