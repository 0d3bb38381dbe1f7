"""Writes for the email channel: mailboxes, the one ingestion service every transport calls
(store raw first, then parse and thread onto a ticket), acknowledgements and outbound delivery.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import hashlib
import logging
import re
import string
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from helpline.config.env import ConfigError
from helpline.connectors.email import selectors
from helpline.connectors.email.choices import (
    BlockAction,
    InboundStatus,
    Noise,
    NonParticipantPolicy,
    OutboundStatus,
    Transport,
)
from helpline.connectors.email.conf import email_config, parse_smtp_url
from helpline.connectors.email.expected import expected_reply_sentence
from helpline.connectors.email.models import (
    AddressState,
    BlockRule,
    InboundEmail,
    Mailbox,
    OutboundEmail,
    Participant,
    ThreadRef,
)
from helpline.connectors.email.noise import classify_noise
from helpline.connectors.email.parsing import (
    EmailParseError,
    ParsedEmail,
    decode_header_value,
    message_ids,
    parse_email,
)
from helpline.connectors.email.quotes import split_reply
from helpline.connectors.email.spam import spam_band, spam_score
from helpline.core import clock
from helpline.core.errors import NotFound, ValidationError
from helpline.customers.choices import Channel
from helpline.customers.models import Customer
from helpline.customers.selectors import customer_get_by_email
from helpline.customers.services import CustomerRef, customer_get_or_create, identity_normalize
from helpline.sla.services import expected_reply_promise
from helpline.tickets.choices import Direction, Status
from helpline.tickets.models import Message, Ticket
from helpline.tickets.services import (
    AttachmentIn,
    message_delivery_set,
    message_receive,
    reply_add,
    ticket_open,
)

logger = logging.getLogger(__name__)

_TOKEN_RE = re.compile(r"\[#(\d{1,12})\]")
_PLUS_RE = re.compile(r"^[^@+]+\+t(\d{1,12})@", re.IGNORECASE)
_ACK_FIELDS = frozenset(
    {
        "customer_name",
        "ticket_number",
        "ticket_subject",
        "expected_reply",
        "mailbox_name",
        "mailbox_address",
    }
)
RESUME_AFTER = timedelta(seconds=30)
ACK_ESTIMATE_REUSE = 15.0  # seconds
MAX_PARTICIPANTS = 10


# ---------------------------------------------------------------------------------- mailboxes


def _check_template(text: str, *, field: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValidationError(f"The template is malformed: {exc}.", field=field) from exc
    unknown = {n for n in names if n not in _ACK_FIELDS}
    if unknown or "" in names:
        raise ValidationError(
            "Unknown placeholder(s): "
            + ", ".join("{" + n + "}" for n in sorted(unknown or {""}))
            + ". Use "
            + ", ".join("{" + f + "}" for f in sorted(_ACK_FIELDS))
            + ".",
            field=field,
        )


def _validate_mailbox_fields(changes: dict[str, Any]) -> None:
    from helpline.connectors.email.imap import parse_imap_url

    if changes.get("imap_url"):
        try:
            parse_imap_url(changes["imap_url"])
        except ConfigError as exc:
            raise ValidationError(str(exc), field="imap_url") from exc
    if changes.get("smtp_url"):
        try:
            parse_smtp_url(changes["smtp_url"], name="smtp_url")
        except ConfigError as exc:
            raise ValidationError(str(exc), field="smtp_url") from exc
    if "ack_subject" in changes:
        _check_template(changes["ack_subject"], field="ack_subject")
    if "ack_body" in changes:
        _check_template(changes["ack_body"], field="ack_body")
    policy = changes.get("non_participant_policy")
    if policy is not None and policy not in NonParticipantPolicy.values:
        raise ValidationError("Unknown policy.", field="non_participant_policy")
    hours = changes.get("reply_target_hours")
    if hours is not None and not 1 <= int(hours) <= 24 * 30:
        raise ValidationError("Between 1 hour and 30 days.", field="reply_target_hours")


def mailbox_create(
    *,
    address: str,
    name: str = "",
    imap_url: str = "",
    smtp_url: str = "",
    transport: str | None = None,
    reply_target_hours: int = 24,
    non_participant_policy: str = NonParticipantPolicy.NEW_TICKET,
    ack_enabled: bool = True,
) -> Mailbox:
    """A mailbox receiving on the SMTP listener, or by IMAP when ``imap_url`` is given."""
    address = identity_normalize(kind="email", value=address)
    if "+" in address.split("@")[0]:
        raise ValidationError("A mailbox address cannot contain '+'.", field="address")
    transport = transport or (Transport.IMAP if imap_url else Transport.SMTP)
    if transport not in Transport.values:
        raise ValidationError("Unknown transport.", field="transport")
    if transport == Transport.IMAP and not imap_url:
        raise ValidationError("An IMAP mailbox needs an imap_url.", field="imap_url")
    fields = {
        "imap_url": imap_url,
        "smtp_url": smtp_url,
        "reply_target_hours": reply_target_hours,
        "non_participant_policy": non_participant_policy,
    }
    _validate_mailbox_fields(fields)
    try:
        with transaction.atomic():
            return Mailbox.objects.create(
                address=address,
                name=name.strip(),
                transport=transport,
                ack_enabled=ack_enabled,
                **fields,
            )
    except IntegrityError as exc:
        raise ValidationError(f"A mailbox for {address} already exists.", field="address") from exc


_MAILBOX_UPDATABLE = (
    "name",
    "imap_url",
    "smtp_url",
    "is_active",
    "reply_target_hours",
    "non_participant_policy",
    "ack_enabled",
    "ack_subject",
    "ack_body",
    "transport",
)


def mailbox_update(*, mailbox: Mailbox, **changes: Any) -> Mailbox:
    unknown = set(changes) - set(_MAILBOX_UPDATABLE)
    if unknown:
        raise ValidationError(f"Cannot update {', '.join(sorted(unknown))}.")
    _validate_mailbox_fields(changes)
    if "transport" in changes and changes["transport"] not in Transport.values:
        raise ValidationError("Unknown transport.", field="transport")
    if changes.get("imap_url") and "transport" not in changes:
        changes["transport"] = Transport.IMAP
    if changes.get("imap_url") and changes["imap_url"] != mailbox.imap_url:
        changes["imap_uidvalidity"] = None
        changes["imap_last_uid"] = 0
    for key, value in changes.items():
        setattr(mailbox, key, value)
    if mailbox.transport == Transport.IMAP and not mailbox.imap_url:
        raise ValidationError("An IMAP mailbox needs an imap_url.", field="imap_url")
    mailbox.save(update_fields=list(changes))
    selectors.mailbox_cache_clear()
    return mailbox


def mailbox_delete(*, mailbox: Mailbox) -> None:
    mailbox.delete()
    selectors.mailbox_cache_clear()


def block_rule_add(*, pattern: str, action: str = BlockAction.IGNORE) -> BlockRule:
    pattern = pattern.strip().lower()
    if action not in BlockAction.values:
        raise ValidationError("Unknown action.", field="action")
    if not re.match(r"^(?:[^@\s]+@[^@\s]+\.[^@\s]+|@[^@\s]+\.[^@\s]+)$", pattern):
        raise ValidationError("Give an address (a@b.c) or a domain (@b.c).", field="pattern")
    rule, _ = BlockRule.objects.update_or_create(pattern=pattern, defaults={"action": action})
    selectors.block_rule_cache_clear()
    return rule


def block_rule_remove(*, rule: BlockRule) -> None:
    rule.delete()
    selectors.block_rule_cache_clear()


# ---------------------------------------------------------------------------------- store


def _header_summary(raw: bytes) -> tuple[str, str, str]:
    """(Message-ID, Subject, From address) from the header block alone, never raising."""
    try:
        head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        ids = message_ids(head.get("Message-ID"))
        subject = decode_header_value(head.get("Subject"))
        sender = email.utils.parseaddr(decode_header_value(head.get("From")))[1]
    except Exception:
        return "", "", ""
    return (ids[0] if ids else ""), subject, sender


def inbound_store(
    *,
    raw: bytes,
    transport: str,
    mailbox: Mailbox | None = None,
    mailbox_id: int | None = None,
    envelope_from: str = "",
    envelope_to: list[str] | None = None,
) -> tuple[InboundEmail, bool]:
    """Store the raw message durably; returns (row, created). Nothing is parsed yet.

    Idempotent by Message-ID (a content hash when there is none): a second delivery of the same
    message, by any transport, returns the first row. Outside a transaction the insert is one
    statement, committed when it returns (the SMTP listener answers 250 after that).
    """
    if transport not in Transport.values:
        raise ValidationError("Unknown transport.", field="transport")
    limit = email_config().max_message_bytes
    if len(raw) > limit:
        raise ValidationError(f"The message is larger than {limit} bytes.", field="raw")
    if not raw.strip():
        raise ValidationError("The message is empty.", field="raw")
    digest = hashlib.sha256(raw).hexdigest()
    message_id, subject, sender = _header_summary(raw)
    key = f"mid:{message_id}"[:300] if message_id else f"sha:{digest}"
    row = InboundEmail(
        mailbox_id=mailbox.pk if mailbox is not None else mailbox_id,
        transport=transport,
        raw=raw,
        size=len(raw),
        sha256=digest,
        dedupe_key=key,
        rfc_id=message_id[:255],
        envelope_from=envelope_from[:320],
        envelope_to=list(envelope_to or [])[:50],
        subject=subject[:255],
        from_address=sender[:320],
        received_at=clock.now(),
    )
    # Insert first, look up only on a conflict: a repeat delivery is the rare case. Inside a
    # caller's transaction the insert gets a savepoint so a conflict does not break it.
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                row.save(force_insert=True)
        else:
            row.save(force_insert=True)
    except IntegrityError:
        return InboundEmail.objects.get(dedupe_key=key), False
    return row, True


# ---------------------------------------------------------------------------------- process


@dataclass
class _Outcome:
    status: str
    noise: str = Noise.NONE
    spam_score: float | None = None
    ticket: Ticket | None = None
    message_id: int | None = None
    mailbox: Mailbox | None = None
    error: str = ""


def inbound_ingest(
    *,
    raw: bytes,
    transport: str,
    mailbox: Mailbox | None = None,
    envelope_from: str = "",
    envelope_to: list[str] | None = None,
) -> InboundEmail:
    """Store then process: the single entry point of SMTP, IMAP and the webhook."""
    row, _ = inbound_store(
        raw=raw,
        transport=transport,
        mailbox=mailbox,
        envelope_from=envelope_from,
        envelope_to=envelope_to,
    )
    if row.status == InboundStatus.RECEIVED:
        return inbound_process(inbound=row)
    return row


def _parse_stored(inbound: InboundEmail) -> tuple[ParsedEmail | None, str]:
    """(parsed, "") or (None, the error) for a stored row; never raises."""
    raw = bytes(inbound.raw)
    try:
        return parse_email(raw), ""
    except EmailParseError as exc:
        fallback = _fallback_sender(inbound)
        if not fallback:
            return None, str(exc)
        try:
            return parse_email(b"From: <" + fallback.encode() + b">\r\n" + raw), ""
        except Exception as inner:
            return None, f"{type(inner).__name__}: {inner}"
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"


def _claim_and_process(inbound: InboundEmail, parsed: ParsedEmail, *, allow_spam: bool) -> bool:
    """Inside a transaction (or savepoint): claim the row, put it on a ticket, record the
    outcome. False when someone else had already claimed it."""
    claimed = InboundEmail.objects.filter(pk=inbound.pk, status=InboundStatus.RECEIVED).update(
        status=InboundStatus.PROCESSED, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    outcome = _process(inbound, parsed, allow_spam=allow_spam)
    InboundEmail.objects.filter(pk=inbound.pk).update(
        status=outcome.status,
        noise=outcome.noise,
        spam_score=outcome.spam_score,
        ticket=outcome.ticket,
        message_id=outcome.message_id,
        mailbox=outcome.mailbox or inbound.mailbox,
        error=outcome.error,
        processed_at=clock.now(),
    )
    return True


def inbound_process(*, inbound: InboundEmail, allow_spam: bool = False) -> InboundEmail:
    """Parse a stored message and put it on a ticket, or quarantine it with the error.

    The ticket, the message and the row's new status commit together; if anything fails the
    row stays ``received`` for an instant and is then marked ``quarantined`` with the error.
    Safe to call twice or concurrently: only the caller whose conditional update claims the row
    does the work.
    """
    parsed, error = _parse_stored(inbound)
    if parsed is None:
        return _quarantine(inbound, error)
    try:
        with transaction.atomic():
            if not _claim_and_process(inbound, parsed, allow_spam=allow_spam):
                inbound.refresh_from_db()
                return inbound
    except Exception as exc:
        logger.warning("email %s quarantined: %s", inbound.pk, exc)
        return _quarantine(inbound, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}")
    inbound.refresh_from_db()
    return inbound


def _quarantine(inbound: InboundEmail, error: str) -> InboundEmail:
    _quarantine_row(inbound.pk, error)
    inbound.refresh_from_db()
    return inbound


def _quarantine_row(pk: int, error: str) -> None:
    InboundEmail.objects.filter(pk=pk, status=InboundStatus.RECEIVED).update(
        status=InboundStatus.QUARANTINED,
        error=error[:10000] or "unknown error",
        attempts=F("attempts") + 1,
        processed_at=clock.now(),
    )


def batch_size() -> int:
    """Messages per transaction: PostgreSQL lets other writers in meanwhile; SQLite has one
    writer at a time (the SMTP listener's stores wait for the batch), so its batches are short."""
    return 50 if connection.vendor == "postgresql" else 10


def inbound_process_batch(*, limit: int | None = None, older_than: timedelta | None = None) -> int:
    """Put up to ``limit`` stored (``received``) messages on tickets, oldest first, in one
    transaction with a savepoint per message; returns how many rows were taken.

    Several workers may run this at once: on PostgreSQL the rows are chosen with
    ``FOR UPDATE SKIP LOCKED`` so each worker gets its own; on SQLite (one writer at a time)
    the conditional claim of each row decides. A message that fails is quarantined without
    undoing the others. A crash before the commit leaves every row ``received``: the next
    batch, or the tick, takes them again (nothing is lost; nothing is done twice, since the
    claim and the ticket commit together).
    """
    limit = limit or batch_size()
    picked = _batch_start(limit=limit, older_than=older_than)
    if not picked:
        return 0
    with transaction.atomic():
        qs = InboundEmail.objects.filter(pk__in=list(picked), status=InboundStatus.RECEIVED)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.select_related("mailbox").order_by("id"))
        for row in rows:
            if picked[row.pk] >= MAX_TRIES:
                # Each try of this message ended with the worker process gone (a crash no
                # exception handler saw): set it aside rather than fall over forever.
                _quarantine_row(
                    row.pk,
                    f"Processing this message stopped the worker {picked[row.pk]} times; "
                    "it is kept here, untouched. Reprocess it once the cause is fixed.",
                )
                continue
            parsed, error = _parse_stored(row)
            if parsed is None:
                _quarantine_row(row.pk, error)
                continue
            try:
                with transaction.atomic():
                    _claim_and_process(row, parsed, allow_spam=False)
            except Exception as exc:
                logger.warning("email %s quarantined: %s", row.pk, exc)
                _quarantine_row(
                    row.pk, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
                )
    return len(rows)


MAX_TRIES = 3


def _batch_start(*, limit: int, older_than: timedelta | None) -> dict[int, int]:
    """Choose the next batch and count a try for each of its rows, committed before any work,
    so a try that never finishes is remembered. Returns {id: tries before this one}.

    When the oldest waiting message was already tried (a batch died with it), it goes alone:
    after a crash the batch is taken apart one message at a time, and only the message that
    keeps killing the worker reaches MAX_TRIES and is set aside."""
    with transaction.atomic():
        qs = InboundEmail.objects.filter(status=InboundStatus.RECEIVED)
        if older_than is not None:
            qs = qs.filter(received_at__lte=clock.now() - older_than)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        picked = list(qs.order_by("id").values_list("id", "tries")[:limit])
        if picked and picked[0][1] > 0:
            picked = picked[:1]
        if picked:
            InboundEmail.objects.filter(pk__in=[pk for pk, _ in picked]).update(
                tries=F("tries") + 1
            )
    return dict(picked)


def inbound_drain(*, budget: float = 5.0) -> int:
    """Process stored mail batch after batch until none is left or ``budget`` seconds passed;
    returns how many rows were taken."""
    deadline = time.monotonic() + budget
    total = 0
    while True:
        taken = inbound_process_batch()
        total += taken
        if taken == 0 or time.monotonic() >= deadline:
            return total


def inbound_pending() -> bool:
    return InboundEmail.objects.filter(status=InboundStatus.RECEIVED).exists()


def inbound_reprocess(*, inbound: InboundEmail, allow_spam: bool = False) -> InboundEmail:
    """Try a quarantined (or spam, or ignored) message again, e.g. after a fix or a review."""
    if inbound.status == InboundStatus.PROCESSED:
        raise ValidationError("This message is already on a ticket.", field="status")
    InboundEmail.objects.filter(pk=inbound.pk, status=inbound.status).update(
        status=InboundStatus.RECEIVED, error="", tries=0
    )
    inbound.refresh_from_db()
    return inbound_process(inbound=inbound, allow_spam=allow_spam)


def inbound_resume_pending(*, older_than: timedelta = RESUME_AFTER, limit: int = 200) -> int:
    """Process rows stored but never processed (a lost wake-up, a crash or a restart)."""
    total = 0
    while total < limit:
        taken = inbound_process_batch(older_than=older_than)
        total += taken
        if taken == 0:
            break
    return total


def _fallback_sender(inbound: InboundEmail) -> str:
    for candidate in (inbound.envelope_from, inbound.from_address):
        try:
            if candidate:
                return identity_normalize(kind="email", value=candidate.strip("<>"))
        except ValidationError:
            continue
    return ""


def _process(inbound: InboundEmail, parsed: ParsedEmail, *, allow_spam: bool) -> _Outcome:
    assert parsed.sender is not None
    sender = parsed.sender
    mailbox = inbound.mailbox or selectors.mailbox_for_addresses(
        [
            *inbound.envelope_to,
            *parsed.delivered_to,
            *(a.email for a in parsed.to),
            *(a.email for a in parsed.cc),
        ]
    )
    if selectors.mailbox_id_for_address(sender.email) is not None:
        return _Outcome(status=InboundStatus.IGNORED, noise=Noise.LOOP, mailbox=mailbox)
    noise = classify_noise(parsed, envelope_from=inbound.envelope_from or None)
    if noise == Noise.LOOP:
        return _Outcome(status=InboundStatus.IGNORED, noise=noise, mailbox=mailbox)
    if noise == Noise.BOUNCE:
        _record_bounce(parsed)
        return _Outcome(status=InboundStatus.IGNORED, noise=noise, mailbox=mailbox)
    rule = selectors.block_rule_for(sender.email)
    if rule is not None and not allow_spam:
        status = InboundStatus.SPAM if rule.action == BlockAction.SPAM else InboundStatus.IGNORED
        return _Outcome(status=status, noise=Noise.BLOCKED, mailbox=mailbox)

    ticket = _thread_ticket(parsed, inbound)
    score: float | None = None
    suspected = False
    if ticket is None:
        score = spam_score(parsed)
        if score is not None and not allow_spam:
            band = spam_band(score, threshold=email_config().spam_threshold)
            if band == "spam" and customer_get_by_email(email=sender.email) is not None:
                band = "suspect"  # a customer we already know is never hidden in the spam view
            if band == "spam":
                return _Outcome(
                    status=InboundStatus.SPAM, noise=noise, spam_score=score, mailbox=mailbox
                )
            suspected = band == "suspect"  # stays in the inbox, flagged for the agent

    customer, _ = customer_get_or_create(
        ref=CustomerRef(email=sender.email, name=sender.name or None)
    )
    flagged = False
    follow_up_of: int | None = None
    if ticket is not None and not _is_participant(ticket, customer):
        policy = mailbox.non_participant_policy if mailbox else NonParticipantPolicy.NEW_TICKET
        if policy == NonParticipantPolicy.ATTACH_FLAG:
            flagged = True
        else:
            ticket = None
    if ticket is not None and ticket.status == Status.CLOSED:
        follow_up_of = ticket.pk
        ticket = None

    split = split_reply(
        parsed.text,
        sender_name=sender.name,
        sender_email=sender.email,
        subject=parsed.subject,  # a forward (Fwd:, WG:, TR: ...) is shown whole
    )
    limit = email_config().max_attachment_bytes
    attachments = [
        AttachmentIn(
            filename=a.filename,
            content=a.content,
            content_type=a.content_type,
            content_id=a.content_id,
        )
        for a in parsed.attachments
        if len(a.content) <= limit
    ]
    skipped = [
        {"filename": a.filename, "size": len(a.content)}
        for a in parsed.attachments
        if len(a.content) > limit
    ]
    meta: dict[str, object] = {
        "email": {
            "inbound_id": inbound.pk,
            "message_id": parsed.message_id,
            "from": sender.email,
            "from_name": sender.name,
            "reply_to": [a.email for a in parsed.reply_to],
            "to": [a.email for a in parsed.to],
            "cc": [a.email for a in parsed.cc],
            "subject": parsed.subject,
            "date": parsed.date.isoformat() if parsed.date else None,
            "full_text": parsed.text if parsed.text != split.new else "",
            "quoted": split.quoted,
            "signature": split.signature,
            "noise": noise,
            "spam_score": score,
            "spam_suspected": suspected,
            "non_participant": flagged,
            "follow_up_of": follow_up_of,
            "skipped_attachments": skipped,
            "defects": parsed.defects[:20],
            "transport": inbound.transport,
        }
    }
    body_text = split.new or ("(no text; see attachments)" if attachments else "(empty message)")
    # The new part is what an agent sees first. When quoted history or a signature was split
    # off, the HTML (which still holds them) is left out of the message; the full original is
    # one click away (the raw message is kept, and metadata has the quoted text).
    folded = bool(split.quoted or split.signature)
    body_html = parsed.html if len(parsed.html) < 900_000 and not folded else ""
    meta["email"]["has_html_original"] = bool(parsed.html)  # type: ignore[index]
    created = ticket is None
    if ticket is None:
        ticket = ticket_open(
            customer=customer,
            channel=Channel.EMAIL,
            subject=parsed.subject or "(no subject)",
            body_text=body_text,
            body_html=body_html,
            external_id=inbound.dedupe_key,
            attachments=attachments,
            metadata=meta,
        )
        message_id = (
            Message.objects.filter(ticket=ticket, external_id=inbound.dedupe_key)
            .values_list("pk", flat=True)
            .get()
        )
    else:
        message, _ = message_receive(
            ticket=ticket,
            body_text=body_text,
            body_html=body_html,
            channel=Channel.EMAIL,
            author_customer=customer,
            external_id=inbound.dedupe_key,
            attachments=attachments,
            metadata=meta,
            automatic=noise == Noise.AUTO_REPLY,  # an out-of-office keeps a pending ticket
        )
        message_id = message.pk
    if parsed.message_id:
        _thread_ref_add(
            message_id=parsed.message_id, ticket=ticket, message_id_fk=message_id, outbound=False
        )
    _participants_add(ticket, parsed, customer, mailbox)
    if created and noise == Noise.NONE and mailbox is not None:
        _acknowledge(ticket=ticket, customer=customer, mailbox=mailbox, address=sender.email)
    return _Outcome(
        status=InboundStatus.PROCESSED,
        noise=noise,
        spam_score=score,
        ticket=ticket,
        message_id=message_id,
        mailbox=mailbox,
    )


def _thread_ref_add(
    *, message_id: str, ticket: Ticket, message_id_fk: int | None, outbound: bool
) -> None:
    """Record a Message-ID for threading; one statement, a repeat (a concurrent delivery of the
    same message) is ignored by the unique constraint."""
    ThreadRef.objects.bulk_create(
        [
            ThreadRef(
                rfc_id=message_id[:255],
                ticket=ticket,
                message_id=message_id_fk,
                outbound=outbound,
                created_at=clock.now(),
            )
        ],
        ignore_conflicts=True,
    )


def _thread_ticket(parsed: ParsedEmail, inbound: InboundEmail) -> Ticket | None:
    """The ticket this message continues: headers, then subject token, then plus-address."""
    refs = [*parsed.in_reply_to, *reversed(parsed.references)]
    if refs:
        found = (
            ThreadRef.objects.filter(rfc_id__in=[r[:255] for r in refs])
            .select_related("ticket")
            .order_by("-created_at")
            .first()
        )
        if found is not None:
            return found.ticket
    match = _TOKEN_RE.search(parsed.subject)
    if match:
        ticket = Ticket.objects.filter(pk=int(match.group(1))).first()
        if ticket is not None:
            return ticket
    for address in [
        *inbound.envelope_to,
        *parsed.delivered_to,
        *(a.email for a in parsed.to),
        *(a.email for a in parsed.cc),
    ]:
        plus = _PLUS_RE.match(address)
        if plus and selectors.mailbox_id_for_address(address) is not None:
            ticket = Ticket.objects.filter(pk=int(plus.group(1))).first()
            if ticket is not None:
                return ticket
    return None


def _is_participant(ticket: Ticket, customer: Customer) -> bool:
    if ticket.customer_id == customer.pk:
        return True
    return Participant.objects.filter(ticket=ticket, customer=customer).exists()


def _participants_add(
    ticket: Ticket, parsed: ParsedEmail, sender: Customer, mailbox: Mailbox | None
) -> None:
    assert parsed.sender is not None
    seen = {parsed.sender.email}
    if ticket.customer_id != sender.pk:
        Participant.objects.get_or_create(
            ticket=ticket, email=parsed.sender.email, defaults={"customer": sender}
        )
    for addr in [*parsed.cc, *parsed.to][:MAX_PARTICIPANTS]:
        if addr.email in seen or selectors.mailbox_id_for_address(addr.email) is not None:
            continue
        seen.add(addr.email)
        try:
            person, _ = customer_get_or_create(
                ref=CustomerRef(email=addr.email, name=addr.name or None)
            )
        except ValidationError:
            continue
        if person.pk == ticket.customer_id:
            continue
        try:
            with transaction.atomic():
                Participant.objects.get_or_create(
                    ticket=ticket, email=addr.email, defaults={"customer": person}
                )
        except IntegrityError:
            pass


def _record_bounce(parsed: ParsedEmail) -> None:
    report = parsed.report
    now = clock.now()
    detail = (report.diagnostic or report.status) if report else parsed.subject
    recipients = list(report.failed_recipients) if report else []
    if not recipients and "x-failed-recipients" in parsed.headers:
        recipients = [
            r.strip().lower() for r in parsed.headers["x-failed-recipients"].split(",") if "@" in r
        ]
    for address in recipients[:20]:
        state, _ = AddressState.objects.get_or_create(email=address[:320])
        AddressState.objects.filter(pk=state.pk).update(
            bouncing=True, bounce_detail=detail[:2000], bounced_at=now
        )
    original = report.original_message_id if report else ""
    if original:
        outbound = (
            OutboundEmail.objects.filter(rfc_id=original[:255]).select_related("message").first()
        )
        if outbound is not None:
            OutboundEmail.objects.filter(pk=outbound.pk).update(
                status=OutboundStatus.FAILED, last_response=f"bounced: {detail}"[:2000]
            )
            message_delivery_set(
                message=outbound.message, status="failed", detail=f"Bounced: {detail}"
            )


# ---------------------------------------------------------------------------------- ack


# One statement for the hourly acknowledgement limit (PostgreSQL and SQLite >= 3.35): a new
# address is inserted with one acknowledgement counted; an existing one is updated only when
# it is not bouncing and its window is over or under the limit. A row comes back exactly when
# the acknowledgement may be sent.
_ACK_UPSERT = """
INSERT INTO email_connector_addressstate AS s
    (email, bouncing, bounce_detail, bounced_at, ack_window_start, ack_count)
VALUES (%s, %s, '', NULL, %s, 1)
ON CONFLICT (email) DO UPDATE SET
    ack_window_start = CASE
        WHEN s.ack_window_start IS NULL OR s.ack_window_start < %s THEN %s
        ELSE s.ack_window_start END,
    ack_count = CASE
        WHEN s.ack_window_start IS NULL OR s.ack_window_start < %s THEN 1
        ELSE s.ack_count + 1 END
WHERE NOT s.bouncing
    AND (s.ack_window_start IS NULL OR s.ack_window_start < %s OR s.ack_count < %s)
RETURNING id
"""


def ack_allowed(*, address: str, per_hour: int | None = None) -> bool:
    """Count an acknowledgement to ``address`` if under the hourly limit and not bouncing.

    One atomic statement (an upsert whose update applies only under the limit): no lock, no
    read-then-write race between workers, and a single round trip per acknowledgement.
    """
    limit = email_config().ack_per_hour if per_hour is None else per_hour
    if limit <= 0:
        return False
    now = clock.now()
    adapt = connection.ops.adapt_datetimefield_value
    window = adapt(now - timedelta(hours=1))
    stamp = adapt(now)
    with connection.cursor() as cursor:
        cursor.execute(
            _ACK_UPSERT, [address[:320], False, stamp, window, stamp, window, window, limit]
        )
        return cursor.fetchone() is not None


class _SafeDict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def ack_render(*, mailbox: Mailbox, ticket: Ticket, customer: Customer) -> tuple[str, str]:
    """(subject, body) of the acknowledgement for ``ticket``."""
    subject, body, _ = ack_compose(mailbox=mailbox, ticket=ticket, customer=customer)
    return subject, body


def ack_compose(
    *, mailbox: Mailbox, ticket: Ticket, customer: Customer
) -> tuple[str, str, datetime]:
    """(subject, body, the reply time the body promises) of the acknowledgement."""
    from helpline.sla.expected import reuse_queue_inputs

    # The policies and the measured reply rate are read once per ACK_ESTIMATE_REUSE seconds in
    # a burst of new tickets; the work ahead of this ticket is counted every time.
    with reuse_queue_inputs(ACK_ESTIMATE_REUSE):
        promised_at, sentence = expected_reply_sentence(
            ticket=ticket, target_hours=mailbox.reply_target_hours
        )
    values = _SafeDict(
        customer_name=customer.name or "there",
        ticket_number=str(ticket.pk),
        ticket_subject=ticket.subject,
        expected_reply=sentence,
        mailbox_name=mailbox.name or mailbox.address,
        mailbox_address=mailbox.address,
    )
    subject = string.Formatter().vformat(mailbox.ack_subject, (), values)
    body = string.Formatter().vformat(mailbox.ack_body, (), values)
    if f"[#{ticket.pk}]" not in subject:
        subject = f"{subject} [#{ticket.pk}]"
    return " ".join(subject.split()), body, promised_at


def _acknowledge(*, ticket: Ticket, customer: Customer, mailbox: Mailbox, address: str) -> None:
    if not mailbox.ack_enabled or not ack_allowed(address=address):
        return
    subject, body, promised_at = ack_compose(mailbox=mailbox, ticket=ticket, customer=customer)
    message = reply_add(ticket=ticket, author=None, body_text=body, is_automatic=True)
    # Said is promised: if the reply is later than this, the SLA tick tells the customer.
    expected_reply_promise(ticket=ticket, promised_at=promised_at)
    metadata = {"email": {"subject": subject, "acknowledgement": True}}
    Message.objects.filter(pk=message.pk).update(metadata=metadata)
    message.metadata = metadata
    # The delivery row commits with the ticket (the mailbox is known here); the ReplyAdded
    # handler then only enqueues its delivery.
    _outbound_create(message, mailbox)


# ---------------------------------------------------------------------------------- outbound


def outbound_queue(*, message: Message, mailbox: Mailbox | None = None) -> OutboundEmail | None:
    """Create the delivery row for a public email reply (idempotent); notes never get one.

    ``mailbox``: the mailbox to send from when the caller knows it (else the one the ticket's
    mail came in on)."""
    if message.direction != Direction.OUTBOUND or message.channel != Channel.EMAIL:
        return None
    existing = OutboundEmail.objects.filter(message=message).first()
    if existing is not None:
        return existing
    if mailbox is None:
        mailbox = selectors.mailbox_for_ticket(ticket_id=message.ticket_id)
    try:
        with transaction.atomic():
            return _outbound_create(message, mailbox)
    except IntegrityError:
        return OutboundEmail.objects.get(message=message)


def _outbound_create(message: Message, mailbox: Mailbox | None) -> OutboundEmail:
    """The delivery row and its thread reference (two inserts). Called directly only for a
    message written in the caller's own uncommitted transaction (an acknowledgement), which no
    one else can have queued yet."""
    domain = mailbox.domain if mailbox else "helpline.invalid"
    token = hashlib.sha256(f"{message.pk}:{message.created_at.isoformat()}".encode()).hexdigest()[
        :12
    ]
    now = clock.now()
    row = OutboundEmail.objects.create(
        message=message,
        mailbox=mailbox,
        rfc_id=f"<hl.{message.ticket_id}.{message.pk}.{token}@{domain}>",
        next_attempt_at=now,
        created_at=now,
    )
    _thread_ref_add(
        message_id=row.rfc_id, ticket=message.ticket, message_id_fk=message.pk, outbound=True
    )
    return row


MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=5)


def backoff(attempt: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min, 8 min between attempts."""
    return timedelta(seconds=30 * 2 ** max(0, attempt - 1))


def outbound_deliver(*, outbound_id: int) -> str:
    """Try to send one queued reply now; returns the resulting status. Idempotent."""
    from helpline.connectors.email import outbound as smtp_out

    row = OutboundEmail.objects.select_related("message", "mailbox").filter(pk=outbound_id).first()
    if row is None:
        raise NotFound("No such outbound email.")
    if row.status != OutboundStatus.QUEUED:
        return row.status
    now = clock.now()
    # Lease the row: a second worker (or the tick) skips it until the lease ends.
    leased = OutboundEmail.objects.filter(
        pk=row.pk, status=OutboundStatus.QUEUED, attempts=row.attempts, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
    if not leased:
        return OutboundStatus.QUEUED
    attempt = row.attempts + 1
    result = smtp_out.send_reply(row)
    if result.ok:
        OutboundEmail.objects.filter(pk=row.pk).update(
            status=OutboundStatus.SENT, last_response=result.response[:2000], sent_at=clock.now()
        )
        message_delivery_set(message=row.message, status="sent", detail=result.response)
        return OutboundStatus.SENT
    if result.permanent or attempt >= MAX_ATTEMPTS:
        OutboundEmail.objects.filter(pk=row.pk).update(
            status=OutboundStatus.FAILED, last_response=result.response[:2000]
        )
        message_delivery_set(message=row.message, status="failed", detail=result.response)
        return OutboundStatus.FAILED
    retry_at = clock.now() + backoff(attempt)
    OutboundEmail.objects.filter(pk=row.pk).update(
        next_attempt_at=retry_at, last_response=result.response[:2000]
    )
    message_delivery_set(
        message=row.message,
        status="queued",
        detail=f"Attempt {attempt} failed ({result.response}); retrying at {retry_at:%H:%M:%S}.",
    )
    return OutboundStatus.QUEUED


def outbound_due_ids(*, limit: int = 100) -> list[int]:
    return list(
        OutboundEmail.objects.filter(status=OutboundStatus.QUEUED, next_attempt_at__lte=clock.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
