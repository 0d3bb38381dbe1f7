"""Building a reply as a MIME message every client threads, and handing it to an SMTP relay."""

from __future__ import annotations

import email.policy
import html
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from helpline.config.env import ConfigError
from helpline.connectors.email import selectors
from helpline.connectors.email.conf import SmtpTarget, email_config, parse_smtp_url
from helpline.connectors.email.models import OutboundEmail, ThreadRef
from helpline.connectors.email.noise import LOOP_HEADER
from helpline.core import clock
from helpline.core.crypto import SecretUnreadable
from helpline.customers.choices import IdentityKind
from helpline.customers.models import Identity
from helpline.tickets.choices import Direction
from helpline.tickets.models import Message

MAX_REFERENCES = 20


@dataclass(frozen=True)
class SendResult:
    ok: bool
    permanent: bool
    response: str


def _recipients(message: Message) -> tuple[list[str], list[str]]:
    """(to, cc): whoever wrote last on the ticket (their Reply-To first), else the customer; the
    ticket's customer (if someone else wrote last) and the participants in Cc."""
    last_inbound = (
        Message.objects.filter(ticket_id=message.ticket_id, direction=Direction.INBOUND)
        .order_by("-created_at", "-id")
        .first()
    )
    identity = (
        Identity.objects.filter(customer_id=message.ticket.customer_id, kind=IdentityKind.EMAIL)
        .order_by("-is_primary", "id")
        .first()
    )
    customer_email = identity.value if identity is not None else ""
    to: list[str] = []
    customer_wrote_last = True
    if last_inbound is not None:
        customer_wrote_last = last_inbound.author_customer_id in (None, message.ticket.customer_id)
        info = (
            last_inbound.metadata.get("email") if isinstance(last_inbound.metadata, dict) else None
        )
        if isinstance(info, dict):
            reply_to = info.get("reply_to") or []
            sender = info.get("from")
            to = [str(a) for a in reply_to][:1] or ([str(sender)] if sender else [])
    if not to and customer_email:
        to = [customer_email]
    if message.is_automatic:
        return to, []  # an acknowledgement goes to the sender only
    cc: list[str] = []
    if customer_email and not customer_wrote_last and customer_email not in to:
        cc.append(customer_email)
    cc += [
        e
        for e in selectors.participant_emails(ticket_id=message.ticket_id)
        if e not in to and e not in cc
    ]
    return to, cc


def _thread_headers(message: Message) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for a reply on ``message``'s ticket."""
    refs = list(
        ThreadRef.objects.filter(ticket_id=message.ticket_id)
        .exclude(message_id=message.pk)
        .order_by("created_at", "id")
        .values_list("rfc_id", "outbound")
    )
    inbound = [r for r, outbound in refs if not outbound]
    in_reply_to = inbound[-1] if inbound else (refs[-1][0] if refs else "")
    chain = [r for r, _ in refs]
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
    return in_reply_to, chain


def build_reply(row: OutboundEmail) -> tuple[EmailMessage, str, list[str]]:
    """(MIME message, envelope sender, envelope recipients) for ``row``."""
    message = row.message
    ticket = message.ticket
    mailbox = row.mailbox
    address = mailbox.address if mailbox else "helpline@localhost"
    local, _, domain = address.partition("@")
    to, cc = _recipients(message)
    msg = EmailMessage()
    msg["From"] = formataddr((mailbox.name if mailbox and mailbox.name else "", address))
    msg["Reply-To"] = f"{local}+t{ticket.pk}@{domain}"
    if to:
        msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    info = message.metadata.get("email") if isinstance(message.metadata, dict) else None
    subject = str(info.get("subject")) if isinstance(info, dict) and info.get("subject") else ""
    if not subject:
        base = ticket.subject
        subject = base if base.lower().startswith("re:") else f"Re: {base}"
    if f"[#{ticket.pk}]" not in subject:
        subject = f"{subject} [#{ticket.pk}]"
    msg["Subject"] = subject
    msg["Message-ID"] = row.rfc_id
    msg["Date"] = format_datetime(clock.now())
    in_reply_to, references = _thread_headers(message)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    msg[LOOP_HEADER] = domain
    if message.is_automatic:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    text = message.body_text or ""
    msg.set_content(text)
    rich = message.body_html or ("<div>" + html.escape(text).replace("\n", "<br>\n") + "</div>")
    msg.add_alternative(f"<!doctype html><html><body>{rich}</body></html>", subtype="html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            data = handle.read()
        maintype, _, subtype = (attachment.content_type or "application/octet-stream").partition(
            "/"
        )
        msg.add_attachment(
            data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return msg, address, [*to, *cc]


def _target(row: OutboundEmail) -> SmtpTarget | None:
    if row.mailbox is not None and row.mailbox.smtp_url:
        return parse_smtp_url(row.mailbox.smtp_url, name="mailbox smtp_url")
    return email_config().relay


def send_reply(row: OutboundEmail) -> SendResult:
    """Send ``row`` through its relay; temporary failures (4xx, network) are not permanent."""
    if row.message.direction != Direction.OUTBOUND:
        return SendResult(ok=False, permanent=True, response="Only public replies are emailed.")
    try:
        target = _target(row)
    except (ConfigError, SecretUnreadable) as exc:
        # The mailbox's relay URL is malformed or cannot be decrypted (secret key changed):
        # a failure the admin can fix, shown on the message; retried with backoff meanwhile.
        return SendResult(ok=False, permanent=False, response=str(exc))
    if target is None:
        return SendResult(
            ok=False,
            permanent=False,
            response="No SMTP relay: set HELPLINE_SMTP_URL or the mailbox's smtp_url.",
        )
    msg, sender, recipients = build_reply(row)
    if not recipients:
        return SendResult(ok=False, permanent=True, response="No recipient address on the ticket.")
    try:
        if target.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                target.host, target.port, timeout=30, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=30)
        with client:
            client.ehlo()
            if target.starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if target.username:
                client.login(target.username, target.password)
            code, answer = client.mail(sender)
            if code >= 400:
                return SendResult(
                    ok=False,
                    permanent=code >= 500,
                    response=f"{code} {answer.decode(errors='replace')}",
                )
            accepted: list[tuple[str, int, bytes]] = []
            refused: list[tuple[str, int, bytes]] = []
            for rcpt in recipients:
                code, answer = client.rcpt(rcpt)
                (accepted if code < 400 else refused).append((rcpt, code, answer))
            if not accepted:
                worst = refused[0]
                return SendResult(
                    ok=False,
                    permanent=all(c >= 500 for _, c, _ in refused),
                    response=f"{worst[1]} {worst[2].decode(errors='replace')} ({worst[0]})",
                )
            code, answer = client.data(msg.as_bytes(policy=email.policy.SMTP))
            response = f"{code} {answer.decode(errors='replace')}"
            if refused:
                response += "; refused: " + ", ".join(f"{r} ({c})" for r, c, _ in refused)
            return SendResult(ok=code < 400, permanent=code >= 500, response=response)
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return SendResult(
            ok=False, permanent=exc.smtp_code >= 500, response=f"{exc.smtp_code} {text}"
        )
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
        return SendResult(ok=False, permanent=False, response=f"{type(exc).__name__}: {exc}")
