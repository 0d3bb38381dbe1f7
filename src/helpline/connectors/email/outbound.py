"""Building a reply as a MIME message every client threads, and handing it to an SMTP relay."""

from __future__ import annotations

import email.policy
import html
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from django.db.models import OuterRef, Subquery

from helpline.config.env import ConfigError
from helpline.connectors.email import selectors
from helpline.connectors.email.conf import SmtpTarget, email_config, parse_smtp_url
from helpline.connectors.email.models import OutboundEmail, Participant, ThreadRef
from helpline.connectors.email.noise import LOOP_HEADER
from helpline.core import clock
from helpline.core.crypto import SecretUnreadable
from helpline.customers.choices import IdentityKind
from helpline.customers.models import Identity
from helpline.tickets.choices import Direction
from helpline.tickets.models import Attachment, Message, Ticket

MAX_REFERENCES = 20


@dataclass(frozen=True)
class SendResult:
    ok: bool
    permanent: bool
    response: str


@dataclass
class ReplyContext:
    """What building many replies needs from the database, read together (a handful of
    queries for a whole burst instead of four per reply)."""

    last_inbound: dict[int, Message]  # ticket id -> the customer's latest message
    customer_email: dict[int, str]  # customer id -> primary email address
    refs: dict[int, list[tuple[str, bool, int | None]]]  # ticket id -> (rfc_id, outbound, msg)
    participants: dict[int, list[str]]  # ticket id -> emails
    attachments: dict[int, list[Attachment]]  # message id -> attachments

    @classmethod
    def load(cls, messages: Sequence[Message]) -> ReplyContext:
        ticket_ids = {m.ticket_id for m in messages}
        latest = Subquery(
            Message.objects.filter(ticket_id=OuterRef("pk"), direction=Direction.INBOUND)
            .order_by("-created_at", "-id")
            .values("pk")[:1]
        )
        pairs = dict(
            Ticket.objects.filter(pk__in=ticket_ids)
            .annotate(last_inbound=latest)
            .values_list("pk", "last_inbound")
        )
        by_pk = Message.objects.in_bulk([pk for pk in pairs.values() if pk is not None])
        last_inbound = {t: by_pk[pk] for t, pk in pairs.items() if pk in by_pk}
        customer_email: dict[int, str] = {}
        for customer_id, value in (
            Identity.objects.filter(
                customer_id__in={m.ticket.customer_id for m in messages}, kind=IdentityKind.EMAIL
            )
            .order_by("customer_id", "-is_primary", "id")
            .values_list("customer_id", "value")
        ):
            customer_email.setdefault(customer_id, value)
        refs: dict[int, list[tuple[str, bool, int | None]]] = {t: [] for t in ticket_ids}
        for ticket_id, rfc_id, outbound, message_id in (
            ThreadRef.objects.filter(ticket_id__in=ticket_ids)
            .order_by("created_at", "id")
            .values_list("ticket_id", "rfc_id", "outbound", "message_id")
        ):
            refs[ticket_id].append((rfc_id, outbound, message_id))
        participants: dict[int, list[str]] = {t: [] for t in ticket_ids}
        wanted = {m.ticket_id for m in messages if not m.is_automatic}
        if wanted:
            for ticket_id, address in (
                Participant.objects.filter(ticket_id__in=wanted)
                .order_by("id")
                .values_list("ticket_id", "email")
            ):
                participants[ticket_id].append(address)
        attachments: dict[int, list[Attachment]] = {m.pk: [] for m in messages}
        for attachment in Attachment.objects.filter(message_id__in=list(attachments)).order_by(
            "id"
        ):
            attachments[attachment.message_id].append(attachment)
        return cls(last_inbound, customer_email, refs, participants, attachments)


def _recipients(
    message: Message, context: ReplyContext | None = None
) -> tuple[list[str], list[str]]:
    """(to, cc): whoever wrote last on the ticket (their Reply-To first), else the customer; the
    ticket's customer (if someone else wrote last) and the participants in Cc."""
    if context is not None:
        last_inbound = context.last_inbound.get(message.ticket_id)
        customer_email = context.customer_email.get(message.ticket.customer_id, "")
    else:
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
    participants = (
        context.participants.get(message.ticket_id, [])
        if context is not None
        else selectors.participant_emails(ticket_id=message.ticket_id)
    )
    cc += [e for e in participants if e not in to and e not in cc]
    return to, cc


def _thread_headers(message: Message, context: ReplyContext | None = None) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for a reply on ``message``'s ticket."""
    if context is not None:
        refs = [
            (rfc_id, outbound)
            for rfc_id, outbound, message_id in context.refs.get(message.ticket_id, [])
            if message_id != message.pk
        ]
    else:
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


def build_reply(
    row: OutboundEmail, context: ReplyContext | None = None
) -> tuple[EmailMessage, str, list[str]]:
    """(MIME message, envelope sender, envelope recipients) for ``row``; ``context``: what was
    read for a burst of replies (else this reply's own queries)."""
    message = row.message
    ticket = message.ticket
    mailbox = row.mailbox
    address = mailbox.address if mailbox else "helpline@localhost"
    local, _, domain = address.partition("@")
    to, cc = _recipients(message, context)
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
    in_reply_to, references = _thread_headers(message, context)
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
    files = context.attachments.get(message.pk, []) if context else message.attachments.all()
    for attachment in files:
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


def _check_row(row: OutboundEmail) -> tuple[SmtpTarget | None, SendResult | None]:
    """(the relay, None) or (None, the failure) before anything is built."""
    if row.message.direction != Direction.OUTBOUND:
        return None, SendResult(
            ok=False, permanent=True, response="Only public replies are emailed."
        )
    try:
        target = _target(row)
    except (ConfigError, SecretUnreadable) as exc:
        # The mailbox's relay URL is malformed or cannot be decrypted (secret key changed):
        # a failure the admin can fix, shown on the message; retried with backoff meanwhile.
        return None, SendResult(ok=False, permanent=False, response=str(exc))
    if target is None:
        return None, SendResult(
            ok=False,
            permanent=False,
            response="No SMTP relay: set HELPLINE_SMTP_URL or the mailbox's smtp_url.",
        )
    return target, None


def send_reply(row: OutboundEmail) -> SendResult:
    """Send ``row`` through its relay; temporary failures (4xx, network) are not permanent."""
    return send_replies([row])[row.pk]


def send_replies(rows: Sequence[OutboundEmail]) -> dict[int, SendResult]:
    """Send many replies, one SMTP connection per relay for all of them (a burst of
    acknowledgements is one conversation, not one connection each); the result of each by
    its row's id. A connection that breaks is opened again once for the rest."""
    results: dict[int, SendResult] = {}
    by_target: dict[SmtpTarget, list[OutboundEmail]] = {}
    for row in rows:
        target, failure = _check_row(row)
        if failure is not None:
            results[row.pk] = failure
        else:
            assert target is not None
            by_target.setdefault(target, []).append(row)
    if not by_target:
        return results
    context = ReplyContext.load([row.message for group in by_target.values() for row in group])
    for target, group in by_target.items():
        _send_group(target, group, context, results)
    return results


def _send_group(
    target: SmtpTarget,
    rows: list[OutboundEmail],
    context: ReplyContext,
    results: dict[int, SendResult],
) -> None:
    client: smtplib.SMTP | None = None
    used = False  # the open connection has carried a message already
    try:
        for index, row in enumerate(rows):
            msg, sender, recipients = build_reply(row, context)
            if not recipients:
                results[row.pk] = SendResult(
                    ok=False, permanent=True, response="No recipient address on the ticket."
                )
                continue
            while True:
                if client is None:
                    try:
                        client, used = _open(target), False
                    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
                        # The relay is unreachable or refuses us: so for the rest too.
                        for rest in rows[index:]:
                            results.setdefault(rest.pk, _failure(exc))
                        return
                try:
                    results[row.pk] = _transmit(client, msg, sender, recipients)
                    used = True
                    break
                except (TimeoutError, OSError, smtplib.SMTPException) as exc:
                    _close(client)
                    client = None
                    if used and not isinstance(exc, smtplib.SMTPResponseException):
                        used = False
                        continue  # the relay dropped a reused connection: once more, fresh
                    results[row.pk] = _failure(exc)
                    break
    finally:
        _close(client)


def _failure(exc: BaseException) -> SendResult:
    """A failed conversation as a result: a 5xx answer is permanent, anything else is not."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return SendResult(
            ok=False, permanent=exc.smtp_code >= 500, response=f"{exc.smtp_code} {text}"
        )
    return SendResult(ok=False, permanent=False, response=f"{type(exc).__name__}: {exc}")


def _open(target: SmtpTarget) -> smtplib.SMTP:
    if target.implicit_tls:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            target.host, target.port, timeout=30, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=30)
    try:
        client.ehlo()
        if target.starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if target.username:
            client.login(target.username, target.password)
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def _transmit(
    client: smtplib.SMTP, msg: EmailMessage, sender: str, recipients: list[str]
) -> SendResult:
    """One mail transaction on an open connection; a refused one is reset so the connection
    can carry the next."""
    code, answer = client.mail(sender)
    if code >= 400:
        client.rset()
        return SendResult(
            ok=False, permanent=code >= 500, response=f"{code} {answer.decode(errors='replace')}"
        )
    accepted: list[tuple[str, int, bytes]] = []
    refused: list[tuple[str, int, bytes]] = []
    for rcpt in recipients:
        code, answer = client.rcpt(rcpt)
        (accepted if code < 400 else refused).append((rcpt, code, answer))
    if not accepted:
        client.rset()
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
