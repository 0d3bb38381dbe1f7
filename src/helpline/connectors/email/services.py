"""Writes for the email channel: mailboxes, the one ingestion service every transport calls
(store raw first, then parse and thread onto a ticket), acknowledgements and outbound delivery.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import functools
import hashlib
import logging
import re
import string
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from helpline.config.env import ConfigError
from helpline.connectors.email import oauth, selectors
from helpline.connectors.email.choices import (
    BlockAction,
    InboundStatus,
    Noise,
    NonParticipantPolicy,
    OutboundStatus,
    Transport,
)
from helpline.connectors.email.conf import email_config, parse_smtp_url
from helpline.connectors.email.expected import (
    ACK_ESTIMATE_REUSE,
    expected_reply_sentence,
    expected_reply_sentences,
)
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
    Address,
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
from helpline.customers.services import (
    CustomerRef,
    customer_get_or_create,
    customer_get_or_create_many,
    identity_normalize,
)
from helpline.sla.services import expected_reply_promises
from helpline.tickets.choices import Direction, Status
from helpline.tickets.models import Message, Ticket
from helpline.tickets.services import (
    AttachmentIn,
    AutomaticReplyIn,
    TicketOpenIn,
    message_delivery_set,
    message_delivery_set_many,
    message_receive,
    reply_add_many,
    ticket_open_many,
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


def mailbox_oauth_connect(
    *,
    address: str,
    imap_user: str,
    provider: oauth.Provider,
    client_id: str,
    client_secret: str,
    catcher: oauth.RedirectCatcher,
    show: Callable[[str], object],
    imap_port: int = 993,
    folder: str = "INBOX",
    imap_options: Sequence[tuple[str, str]] = (),
    timeout: float = 300.0,
) -> Mailbox:
    """Ask the provider for access to ``imap_user``'s mail (the admin opens the address given
    to ``show`` and consents), then make ``address`` an XOAUTH2 IMAP mailbox with the refresh
    token, creating it or changing its IMAP URL. Raises :class:`oauth.TokenRefreshError`."""
    consent = oauth.consent_request(
        provider, client_id=client_id, redirect_uri=catcher.redirect_uri, login_hint=imap_user
    )
    show(consent.url)
    code = catcher.wait(state=consent.state, timeout=timeout)
    from helpline.connectors.email.imap import imap_oauth_url

    access, refresh = oauth.exchange_code(
        provider, consent, code=code, client_id=client_id, client_secret=client_secret
    )
    imap_url = imap_oauth_url(
        user=imap_user,
        access_token=access,
        host=provider.imap_host,
        port=imap_port,
        folder=folder,
        refresh=oauth.RefreshConfig(provider.token_url, client_id, client_secret, refresh),
        options=imap_options,  # e.g. ca_file for a server with a private CA
    )
    existing = Mailbox.objects.filter(address=identity_normalize(kind="email", value=address))
    mailbox = existing.first()
    if mailbox is None:
        return mailbox_create(address=address, imap_url=imap_url)
    return mailbox_update(mailbox=mailbox, imap_url=imap_url, is_active=True)


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
    return _text(ids[0] if ids else ""), _text(subject), _text(sender)


def _text(value: str) -> str:
    """A header's text as a database column holds it: PostgreSQL's text refuses NUL."""
    return value.replace("\x00", "")


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
        envelope_from=_text(envelope_from)[:320],
        envelope_to=[_text(address) for address in (envelope_to or [])][:50],
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
    transaction; returns how many rows were taken.

    The batch is processed in phases, not message by message (ADR 0007): every message is
    parsed, the rows are claimed in one statement, what the decisions need is read together,
    and the new tickets, their customers, thread references, acknowledgements and the rows'
    outcomes are multi-row writes. A message that answers another of the same batch starts a
    new group, so it is threaded as if the one before had been processed alone first. If
    anything in a group raises, its savepoint is rolled back and its messages go one at a
    time, each in a savepoint of its own: the one that fails is quarantined with its error,
    the others commit.

    Several workers may run this at once: on PostgreSQL the rows are chosen with
    ``FOR UPDATE SKIP LOCKED`` so each worker gets its own; on SQLite (one writer at a time)
    the conditional claim decides. A crash before the commit leaves every row ``received``:
    the next batch, or the tick, takes them again (nothing is lost; nothing is done twice,
    since the claim and the ticket commit together).
    """
    limit = limit or batch_size()
    picked = _batch_start(limit=limit, older_than=older_than)
    if not picked:
        return 0
    with transaction.atomic():
        qs = InboundEmail.objects.filter(pk__in=list(picked), status=InboundStatus.RECEIVED)
        if connection.features.has_select_for_update_skip_locked:
            # These rows are ours (taken by _batch_start), so wait for a lock rather than skip
            # it: another worker's _batch_start may hold one for an instant while it looks past
            # them (PostgreSQL locks a row before re-checking that it is taken), and skipping
            # would leave them waiting for the lease to run out. In id order: no deadlock.
            qs = qs.select_for_update(of=("self",))
        rows = list(qs.select_related("mailbox").order_by("id"))
        pairs: list[tuple[InboundEmail, ParsedEmail]] = []
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
            pairs.append((row, parsed))
        for group in _groups(pairs):
            try:
                with transaction.atomic():
                    _process_group(group)
            except Exception as exc:
                logger.info("email batch group failed (%s); one message at a time", exc)
                _process_one_by_one(group)
    return len(rows)


def _groups(
    pairs: Sequence[tuple[InboundEmail, ParsedEmail]],
) -> list[list[tuple[InboundEmail, ParsedEmail]]]:
    """Cut the batch before each message that references the Message-ID of an earlier one in
    the same group (a reply arriving with its parent): its group is processed after the
    parent's thread reference is written, as one at a time would."""
    groups: list[list[tuple[InboundEmail, ParsedEmail]]] = [[]]
    seen: set[str] = set()
    for inbound, parsed in pairs:
        if seen.intersection(_references(parsed)):
            groups.append([])
            seen = set()
        groups[-1].append((inbound, parsed))
        if parsed.message_id:
            seen.add(parsed.message_id[:255])
    return [group for group in groups if group]


def _process_group(pairs: Sequence[tuple[InboundEmail, ParsedEmail]]) -> None:
    claimed = _claim_many([inbound.pk for inbound, _ in pairs])
    pairs = [(inbound, parsed) for inbound, parsed in pairs if inbound.pk in claimed]
    if not pairs:
        return
    lookups = _Lookups.load(pairs)
    checked = [
        (inbound, _check(inbound, parsed, allow_spam=False, lookups=lookups))
        for inbound, parsed in pairs
    ]
    _write([work for _, work in checked if isinstance(work, _Work)])
    _outcomes_record(
        [
            (inbound, result if isinstance(result, _Outcome) else result.outcome())
            for inbound, result in checked
        ]
    )


def _process_one_by_one(pairs: Sequence[tuple[InboundEmail, ParsedEmail]]) -> None:
    for row, parsed in pairs:
        try:
            with transaction.atomic():
                _claim_and_process(row, parsed, allow_spam=False)
        except Exception as exc:
            logger.warning("email %s quarantined: %s", row.pk, exc)
            _quarantine_row(row.pk, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}")


def _claim_many(ids: Sequence[int]) -> set[int]:
    """Claim rows still ``received`` (``received → processed``, one more attempt) in one
    statement; returns the ids this caller claimed."""
    table = InboundEmail._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1 "  # noqa: S608
            f"WHERE status = %s AND id IN ({marks}) RETURNING id",
            [InboundStatus.PROCESSED, InboundStatus.RECEIVED, *ids],
        )
        return {int(row[0]) for row in cursor.fetchall()}


def _outcomes_record(results: Sequence[tuple[InboundEmail, _Outcome]]) -> None:
    """Every row's outcome in one statement."""
    if not results:
        return
    _update_by_id(
        InboundEmail._meta.db_table,
        [row.pk for row, _ in results],
        {
            "status": ("varchar(12)", [o.status for _, o in results]),
            "noise": ("varchar(12)", [o.noise for _, o in results]),
            "spam_score": ("double precision", [o.spam_score for _, o in results]),
            "ticket_id": ("bigint", [o.ticket.pk if o.ticket else None for _, o in results]),
            "message_id": ("bigint", [o.message_id for _, o in results]),
            "mailbox_id": (
                "bigint",
                [o.mailbox.pk if o.mailbox else row.mailbox_id for row, o in results],
            ),
            "error": ("text", [o.error for _, o in results]),
            "processed_at": ("", [connection.ops.adapt_datetimefield_value(clock.now())]),
        },
    )


def _update_by_id(
    table: str, ids: Sequence[int], columns: dict[str, tuple[str, list[Any]]]
) -> None:
    """One UPDATE of many rows of ``table``: ``columns`` maps a column to (its SQL type, one
    value per id, or a single value for all). A column whose values are all equal is set once,
    the others per row by a CASE on the id (hand-written: Django's bulk_update costs ~1 ms of
    Python per row here)."""
    sets: list[str] = []
    params: list[Any] = []
    for column, (kind, values) in columns.items():
        if len(values) == 1 or all(v == values[0] and type(v) is type(values[0]) for v in values):
            sets.append(f"{column} = %s")
            params.append(values[0])
            continue
        whens = " ".join(["WHEN %s THEN %s"] * len(values))
        sets.append(f"{column} = CAST(CASE id {whens} END AS {kind})")
        for pk, value in zip(ids, values, strict=True):
            params += [pk, value]
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(sets)} WHERE id IN ({marks})",  # noqa: S608
            [*params, *ids],
        )


MAX_TRIES = 3
TAKE_LEASE = timedelta(seconds=60)  # longer than any batch takes; a dead worker's rows wait it out


def _batch_start(*, limit: int, older_than: timedelta | None) -> dict[int, int]:
    """Choose the next batch and count a try for each of its rows, committed before any work,
    so a try that never finishes is remembered. Returns {id: tries before this one}.

    When the oldest waiting message was already tried (a batch died with it), it goes alone:
    after a crash the batch is taken apart one message at a time, and only the message that
    keeps killing the worker reaches MAX_TRIES and is set aside."""
    now = clock.now()
    with transaction.atomic():
        qs = InboundEmail.objects.filter(status=InboundStatus.RECEIVED).filter(
            Q(taken_until__isnull=True) | Q(taken_until__lte=now)
        )
        if older_than is not None:
            qs = qs.filter(received_at__lte=now - older_than)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        picked = list(qs.order_by("id").values_list("id", "tries")[:limit])
        if picked and picked[0][1] > 0:
            picked = picked[:1]
        if picked:
            # Taken: another worker's batch (another process, between this commit and the
            # batch's own row locks) leaves these rows alone, so no try is counted for
            # nothing; if this worker dies, the lease runs out and they are taken again.
            InboundEmail.objects.filter(pk__in=[pk for pk, _ in picked]).update(
                tries=F("tries") + 1, taken_until=now + TAKE_LEASE
            )
    return dict(picked)


# One drain at a time per process. Two threads of a worker draining together gain nothing
# (one GIL), and each batch counts a try for its rows before it locks them: a second drain
# choosing the same rows in between counted tries that never ran, enough of them to set a
# healthy message aside as "stopped the worker 3 times" (seen in the bench with both worker
# threads draining), and a message tried before goes alone, which made batches of one.
_drain_lock = threading.Lock()


def inbound_drain(*, budget: float = 5.0, wait: float = 0.0) -> int:
    """Process stored mail batch after batch until none is left or ``budget`` seconds passed;
    returns how many rows were taken. While another thread of this process drains, waits up to
    ``wait`` seconds for it (the worker's tasks wait: the thread then does not run other work
    beside the drain, which would share the process's GIL with it), then returns: the one
    draining looks for stored mail again after it lets go, so a message whose wake-up came
    meanwhile is not left waiting."""
    deadline = time.monotonic() + budget
    total = 0
    while True:
        if (
            not _drain_lock.acquire(timeout=wait)
            if wait > 0
            else not _drain_lock.acquire(blocking=False)
        ):
            return total
        try:
            while True:
                taken = inbound_process_batch()
                total += taken
                if taken == 0 or time.monotonic() >= deadline:
                    break
        finally:
            _drain_lock.release()
        if time.monotonic() >= deadline or not inbound_pending():
            return total


def inbound_pending() -> bool:
    return InboundEmail.objects.filter(status=InboundStatus.RECEIVED).exists()


def inbound_reprocess(*, inbound: InboundEmail, allow_spam: bool = False) -> InboundEmail:
    """Try a quarantined (or spam, or ignored) message again, e.g. after a fix or a review."""
    if inbound.status == InboundStatus.PROCESSED:
        raise ValidationError("This message is already on a ticket.", field="status")
    InboundEmail.objects.filter(pk=inbound.pk, status=inbound.status).update(
        status=InboundStatus.RECEIVED, error="", tries=0, taken_until=None
    )
    inbound.refresh_from_db()
    return inbound_process(inbound=inbound, allow_spam=allow_spam)


def inbound_resume_pending(*, older_than: timedelta = RESUME_AFTER, limit: int = 200) -> int:
    """Process rows stored but never processed (a lost wake-up, a crash or a restart); not
    while a drain of this process runs (it takes them)."""
    total = 0
    if not _drain_lock.acquire(blocking=False):
        return total
    try:
        while total < limit:
            taken = inbound_process_batch(older_than=older_than)
            total += taken
            if taken == 0:
                break
    finally:
        _drain_lock.release()
    return total


def _fallback_sender(inbound: InboundEmail) -> str:
    for candidate in (inbound.envelope_from, inbound.from_address):
        try:
            if candidate:
                return identity_normalize(kind="email", value=candidate.strip("<>"))
        except ValidationError:
            continue
    return ""


def _references(parsed: ParsedEmail) -> list[str]:
    """The Message-IDs this message answers, the direct parent first."""
    return [r[:255] for r in [*parsed.in_reply_to, *reversed(parsed.references)]]


def _recipient_addresses(inbound: InboundEmail, parsed: ParsedEmail) -> list[str]:
    return [
        *inbound.envelope_to,
        *parsed.delivered_to,
        *(a.email for a in parsed.to),
        *(a.email for a in parsed.cc),
    ]


def _ticket_numbers(inbound: InboundEmail, parsed: ParsedEmail) -> list[int]:
    """Ticket numbers the message names: the subject token, then plus-addresses of a mailbox."""
    numbers: list[int] = []
    match = _TOKEN_RE.search(parsed.subject)
    if match:
        numbers.append(int(match.group(1)))
    for address in _recipient_addresses(inbound, parsed):
        plus = _PLUS_RE.match(address)
        if plus and selectors.mailbox_id_for_address(address) is not None:
            numbers.append(int(plus.group(1)))
    return numbers


@dataclass
class _Lookups:
    """What the messages of one batch need to read before their decisions, read together: the
    thread references their headers name and the tickets their subjects or addresses name."""

    refs: dict[str, tuple[datetime, int, int]]  # rfc_id -> (created_at, ref id, ticket id)
    tickets: dict[int, Ticket]
    # Senders of the messages before this one in the batch that go on a ticket: by the time
    # this one is decided, one at a time, their customers would exist.
    senders_before: set[str]

    @classmethod
    def load(cls, pairs: Sequence[tuple[InboundEmail, ParsedEmail]]) -> _Lookups:
        wanted = {r for _, parsed in pairs for r in _references(parsed)}
        refs: dict[str, tuple[datetime, int, int]] = {}
        if wanted:
            for rfc_id, created_at, pk, ticket_id in ThreadRef.objects.filter(
                rfc_id__in=wanted
            ).values_list("rfc_id", "created_at", "id", "ticket_id"):
                refs[rfc_id] = (created_at, pk, ticket_id)
        numbers = {t for _, pk, t in refs.values()}
        for inbound, parsed in pairs:
            numbers.update(_ticket_numbers(inbound, parsed))
        tickets = Ticket.objects.in_bulk(list(numbers)) if numbers else {}
        return cls(refs=refs, tickets=tickets, senders_before=set())

    def thread_ticket(self, inbound: InboundEmail, parsed: ParsedEmail) -> Ticket | None:
        """The ticket this message continues: headers (the newest reference Helpline knows),
        then the subject token, then a plus-address."""
        known = [self.refs[r] for r in _references(parsed) if r in self.refs]
        if known:
            ticket = self.tickets.get(max(known)[2])
            if ticket is not None:
                return ticket
        for number in _ticket_numbers(inbound, parsed):
            ticket = self.tickets.get(number)
            if ticket is not None:
                return ticket
        return None


@dataclass
class _Work:
    """A message that goes on a ticket: the checks' decisions, then what is written."""

    inbound: InboundEmail
    parsed: ParsedEmail
    sender: Address
    mailbox: Mailbox | None
    noise: str
    ticket: Ticket | None  # the ticket it threads onto; None: a new ticket
    score: float | None
    suspected: bool
    customer: Customer | None = None
    body_text: str = ""
    body_html: str = ""
    attachments: tuple[AttachmentIn, ...] = ()
    metadata: dict[str, object] = field(default_factory=dict)
    message_id: int | None = None
    created: bool = False

    def outcome(self) -> _Outcome:
        return _Outcome(
            status=InboundStatus.PROCESSED,
            noise=self.noise,
            spam_score=self.score,
            ticket=self.ticket,
            message_id=self.message_id,
            mailbox=self.mailbox,
        )


def _process(inbound: InboundEmail, parsed: ParsedEmail, *, allow_spam: bool) -> _Outcome:
    """One message, alone (the webhook, IMAP, a reprocess, a batch's fallback)."""
    checked = _check(
        inbound, parsed, allow_spam=allow_spam, lookups=_Lookups.load([(inbound, parsed)])
    )
    if isinstance(checked, _Outcome):
        return checked
    _write([checked])
    return checked.outcome()


def _check(
    inbound: InboundEmail, parsed: ParsedEmail, *, allow_spam: bool, lookups: _Lookups
) -> _Outcome | _Work:
    """Everything decided before the customer is known: loops, noise, bounces, block rules,
    threading and spam. Reads only what ``lookups`` and the per-process caches hold, except
    for a bounce (recorded here) and a message scored as spam (is its sender a customer?)."""
    assert parsed.sender is not None
    sender = parsed.sender
    mailbox = inbound.mailbox or selectors.mailbox_for_addresses(
        _recipient_addresses(inbound, parsed)
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

    ticket = lookups.thread_ticket(inbound, parsed)
    score: float | None = None
    suspected = False
    if ticket is None:
        score = spam_score(parsed)
        if score is not None and not allow_spam:
            band = spam_band(score, threshold=email_config().spam_threshold)
            if band == "spam" and (
                sender.email in lookups.senders_before
                or customer_get_by_email(email=sender.email) is not None
            ):
                band = "suspect"  # a customer we already know is never hidden in the spam view
            if band == "spam":
                return _Outcome(
                    status=InboundStatus.SPAM, noise=noise, spam_score=score, mailbox=mailbox
                )
            suspected = band == "suspect"  # stays in the inbox, flagged for the agent
    lookups.senders_before.add(sender.email)
    return _Work(
        inbound=inbound,
        parsed=parsed,
        sender=sender,
        mailbox=mailbox,
        noise=noise,
        ticket=ticket,
        score=score,
        suspected=suspected,
    )


def _shape(work: _Work) -> None:
    """With the customer known: the non-participant policy, a closed ticket's follow-up, and
    the message as the agent will see it (new text, quoted history and signature apart)."""
    parsed, sender, customer, mailbox = work.parsed, work.sender, work.customer, work.mailbox
    assert customer is not None
    flagged = False
    follow_up_of: int | None = None
    ticket = work.ticket
    if ticket is not None and not _is_participant(ticket, customer):
        policy = mailbox.non_participant_policy if mailbox else NonParticipantPolicy.NEW_TICKET
        if policy == NonParticipantPolicy.ATTACH_FLAG:
            flagged = True
        else:
            ticket = None
    if ticket is not None and ticket.status == Status.CLOSED:
        follow_up_of = ticket.pk
        ticket = None
    work.ticket = ticket

    split = split_reply(
        parsed.text,
        sender_name=sender.name,
        sender_email=sender.email,
        subject=parsed.subject,  # a forward (Fwd:, WG:, TR: ...) is shown whole
    )
    limit = email_config().max_attachment_bytes
    work.attachments = tuple(
        AttachmentIn(
            filename=a.filename,
            content=a.content,
            content_type=a.content_type,
            content_id=a.content_id,
        )
        for a in parsed.attachments
        if len(a.content) <= limit
    )
    skipped = [
        {"filename": a.filename, "size": len(a.content)}
        for a in parsed.attachments
        if len(a.content) > limit
    ]
    work.metadata = {
        "email": {
            "inbound_id": work.inbound.pk,
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
            "noise": work.noise,
            "spam_score": work.score,
            "spam_suspected": work.suspected,
            "non_participant": flagged,
            "follow_up_of": follow_up_of,
            "skipped_attachments": skipped,
            "defects": parsed.defects[:20],
            "transport": work.inbound.transport,
            # The new part is what an agent sees first. When quoted history or a signature
            # was split off, the HTML (which still holds them) is left out of the message;
            # the full original is one click away (the raw message is kept, and metadata has
            # the quoted text).
            "has_html_original": bool(parsed.html),
        }
    }
    work.body_text = split.new or (
        "(no text; see attachments)" if work.attachments else "(empty message)"
    )
    folded = bool(split.quoted or split.signature)
    work.body_html = parsed.html if len(parsed.html) < 900_000 and not folded else ""


def _write(works: Sequence[_Work]) -> None:
    """Put checked messages on tickets, in as few statements as their number allows: the
    customers of all senders in one call; replies to existing tickets one at a time, in order
    (each sees the participants the ones before it added); then every new ticket in one
    multi-row write, their CC'd participants, acknowledgements and thread references in bulk.
    Raises on any failure (the caller's savepoint undoes the lot)."""
    if not works:
        return
    customers = customer_get_or_create_many(
        refs=[CustomerRef(email=w.sender.email, name=w.sender.name or None) for w in works]
    )
    fresh: list[_Work] = []
    for work, (customer, _) in zip(works, customers, strict=True):
        work.customer = customer
        _shape(work)
        if work.ticket is None:
            fresh.append(work)
            continue
        message, _ = message_receive(
            ticket=work.ticket,
            body_text=work.body_text,
            body_html=work.body_html,
            channel=Channel.EMAIL,
            author_customer=customer,
            external_id=work.inbound.dedupe_key,
            attachments=work.attachments,
            metadata=work.metadata,
            automatic=work.noise == Noise.AUTO_REPLY,  # an out-of-office keeps a pending ticket
        )
        work.message_id = message.pk
        _participants_add(work.ticket, work.parsed, customer, work.mailbox)
    if fresh:
        opened = ticket_open_many(
            items=[
                TicketOpenIn(
                    customer=w.customer,  # type: ignore[arg-type]
                    channel=Channel.EMAIL,
                    subject=w.parsed.subject or "(no subject)",
                    body_text=w.body_text,
                    body_html=w.body_html,
                    external_id=w.inbound.dedupe_key,
                    attachments=w.attachments,
                    metadata=w.metadata,
                )
                for w in fresh
            ]
        )
        for work, (ticket, message) in zip(fresh, opened, strict=True):
            work.ticket, work.message_id, work.created = ticket, message.pk, True
        _participants_add_new(fresh)
    now = clock.now()
    refs = [
        ThreadRef(
            rfc_id=w.parsed.message_id[:255],
            ticket=w.ticket,
            message_id=w.message_id,
            outbound=False,
            created_at=now,
        )
        for w in works
        if w.parsed.message_id
    ]
    refs += _acknowledge_many([w for w in fresh if w.noise == Noise.NONE and w.mailbox is not None])
    # One statement; a repeat (a concurrent delivery of the same message) is ignored.
    ThreadRef.objects.bulk_create(refs, ignore_conflicts=True)


def _is_participant(ticket: Ticket, customer: Customer) -> bool:
    if ticket.customer_id == customer.pk:
        return True
    return Participant.objects.filter(ticket=ticket, customer=customer).exists()


def _cc_refs(parsed: ParsedEmail) -> list[tuple[str, CustomerRef]]:
    """The people in To and Cc who may become participants (not the sender, not a mailbox,
    not an address no customer can have), in order."""
    assert parsed.sender is not None
    seen = {parsed.sender.email}
    wanted: list[tuple[str, CustomerRef]] = []
    for addr in [*parsed.cc, *parsed.to][:MAX_PARTICIPANTS]:
        if addr.email in seen or selectors.mailbox_id_for_address(addr.email) is not None:
            continue
        seen.add(addr.email)
        ref = CustomerRef(email=addr.email, name=addr.name or None)
        try:
            ref.identities()
        except ValidationError:
            continue
        wanted.append((addr.email, ref))
    return wanted


def _participants_add(
    ticket: Ticket, parsed: ParsedEmail, sender: Customer, mailbox: Mailbox | None
) -> None:
    assert parsed.sender is not None
    if ticket.customer_id != sender.pk:
        Participant.objects.get_or_create(
            ticket=ticket, email=parsed.sender.email, defaults={"customer": sender}
        )
    for address, ref in _cc_refs(parsed):
        person, _ = customer_get_or_create(ref=ref)
        if person.pk == ticket.customer_id:
            continue
        try:
            with transaction.atomic():
                Participant.objects.get_or_create(
                    ticket=ticket, email=address, defaults={"customer": person}
                )
        except IntegrityError:
            pass


def _participants_add_new(works: Sequence[_Work]) -> None:
    """The CC'd people of new tickets (whose customer is the sender): their customers in one
    call and the participant rows in one insert."""
    wanted = [(work, address, ref) for work in works for address, ref in _cc_refs(work.parsed)]
    if not wanted:
        return
    people = customer_get_or_create_many(refs=[ref for _, _, ref in wanted])
    Participant.objects.bulk_create(
        [
            Participant(ticket=work.ticket, customer=person, email=address)
            for (work, address, _), (person, _) in zip(wanted, people, strict=True)
            if work.ticket is not None and person.pk != work.ticket.customer_id
        ],
        ignore_conflicts=True,
    )


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


# One statement for the hourly acknowledgement limit of many addresses (PostgreSQL and SQLite
# >= 3.35): a new address is inserted with one acknowledgement counted; an existing one is
# updated only when it is not bouncing and its window is over or under the limit. An address
# comes back exactly when its acknowledgement may be sent. The addresses must be distinct (an
# upsert cannot touch a row twice).
_ACK_UPSERT = """
INSERT INTO email_connector_addressstate AS s
    (email, bouncing, bounce_detail, bounced_at, ack_window_start, ack_count)
VALUES {values}
ON CONFLICT (email) DO UPDATE SET
    ack_window_start = CASE
        WHEN s.ack_window_start IS NULL OR s.ack_window_start < %s THEN %s
        ELSE s.ack_window_start END,
    ack_count = CASE
        WHEN s.ack_window_start IS NULL OR s.ack_window_start < %s THEN 1
        ELSE s.ack_count + 1 END
WHERE NOT s.bouncing
    AND (s.ack_window_start IS NULL OR s.ack_window_start < %s OR s.ack_count < %s)
RETURNING email
"""


def ack_allowed(*, address: str, per_hour: int | None = None) -> bool:
    """Count an acknowledgement to ``address`` if under the hourly limit and not bouncing.

    One atomic statement (an upsert whose update applies only under the limit): no lock, no
    read-then-write race between workers, and a single round trip per acknowledgement.
    """
    return ack_allowed_many(addresses=[address], per_hour=per_hour)[0]


def ack_allowed_many(*, addresses: Sequence[str], per_hour: int | None = None) -> list[bool]:
    """``ack_allowed`` for each address in order, the first occurrence of every address in one
    statement (a repeat within the call is counted after it, one statement each)."""
    limit = email_config().ack_per_hour if per_hour is None else per_hour
    if limit <= 0:
        return [False] * len(addresses)
    first: dict[str, int] = {}
    for index, address in enumerate(addresses):
        first.setdefault(address[:320], index)
    allowed = [False] * len(addresses)
    for chunk in _chunks(list(first), 500):
        granted = _ack_upsert(chunk, limit)
        for address in chunk:
            allowed[first[address]] = address in granted
    for index, address in enumerate(addresses):
        if first[address[:320]] != index:
            allowed[index] = bool(_ack_upsert([address[:320]], limit))
    return allowed


def _ack_upsert(addresses: Sequence[str], limit: int) -> set[str]:
    now = clock.now()
    adapt = connection.ops.adapt_datetimefield_value
    window = adapt(now - timedelta(hours=1))
    stamp = adapt(now)
    params: list[Any] = []
    for address in addresses:
        params += [address, False, stamp]
    params += [window, stamp, window, window, limit]
    sql = _ACK_UPSERT.format(values=", ".join(["(%s, %s, '', NULL, %s, 1)"] * len(addresses)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {str(row[0]) for row in cursor.fetchall()}


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class _SafeDict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def ack_render(*, mailbox: Mailbox, ticket: Ticket, customer: Customer) -> tuple[str, str]:
    """(subject, body) of the acknowledgement for ``ticket``."""
    subject, body, _ = ack_compose(mailbox=mailbox, ticket=ticket, customer=customer)
    return subject, body


def ack_compose(
    *,
    mailbox: Mailbox,
    ticket: Ticket,
    customer: Customer,
    expected: tuple[datetime, str] | None = None,
) -> tuple[str, str, datetime]:
    """(subject, body, the reply time the body promises) of the acknowledgement; ``expected``:
    the (time, sentence) already estimated for this ticket (else estimated here)."""
    from helpline.sla.expected import reuse_queue_inputs

    if expected is None:
        # The policies and the measured reply rate are read once per ACK_ESTIMATE_REUSE
        # seconds in a burst of new tickets; the work ahead of this ticket is counted each time.
        with reuse_queue_inputs(ACK_ESTIMATE_REUSE):
            expected = expected_reply_sentence(
                ticket=ticket, target_hours=mailbox.reply_target_hours
            )
    promised_at, sentence = expected
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


def _acknowledge_many(works: Sequence[_Work]) -> list[ThreadRef]:
    """Acknowledge new tickets: the hourly limits in one statement, the estimates together
    (each as if made after the promises of the ones before it, so a burst's promises still
    grow with the queue), the promises in one insert, the replies in one multi-row write, the
    delivery rows in one insert.
    Returns the thread references of the acknowledgements' Message-IDs, for the caller to
    insert with the others."""
    due = [w for w in works if w.mailbox is not None and w.mailbox.ack_enabled]
    if not due:
        return []
    allowed = ack_allowed_many(addresses=[w.sender.email for w in due])
    due = [w for w, ok in zip(due, allowed, strict=True) if ok]
    if not due:
        return []
    estimates: list[tuple[datetime, str] | None]
    try:
        with transaction.atomic():  # one savepoint for every estimate, not one each
            estimates = expected_reply_sentences(  # type: ignore[assignment]
                tickets=[w.ticket for w in due],  # type: ignore[misc]
                target_hours=[w.mailbox.reply_target_hours for w in due],  # type: ignore[union-attr]
            )
    except Exception as exc:
        logger.warning("SLA estimate unavailable in a batch, one at a time: %s", exc)
        estimates = [None] * len(due)
    composed: list[tuple[str, str]] = []
    promises: list[tuple[Ticket, datetime]] = []
    for work, expected in zip(due, estimates, strict=True):
        assert work.mailbox is not None and work.ticket is not None and work.customer is not None
        subject, body, promised_at = ack_compose(
            mailbox=work.mailbox, ticket=work.ticket, customer=work.customer, expected=expected
        )
        composed.append((subject, body))
        promises.append((work.ticket, promised_at))
    # Said is promised: if a reply is later than this, the SLA tick tells the customer.
    expected_reply_promises(promises=promises)
    # Registered before the replies' ReplyAdded hooks, so it runs first after the commit.
    queued: dict[int, int] = {}
    transaction.on_commit(functools.partial(_acks_queued.publish, queued))
    messages = reply_add_many(
        items=[
            AutomaticReplyIn(
                ticket=w.ticket,  # type: ignore[arg-type]
                body_text=body,
                metadata={"email": {"subject": subject, "acknowledgement": True}},
            )
            for w, (subject, body) in zip(due, composed, strict=True)
        ]
    )
    # The delivery rows commit with the tickets (the mailbox is known here); the ReplyAdded
    # handler then only enqueues their delivery.
    rows, refs = _outbound_create_many([(m, w.mailbox) for m, w in zip(messages, due, strict=True)])
    queued.update((row.message_id, row.pk) for row in rows)
    return refs


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
    """The delivery row and its thread reference (two inserts)."""
    rows, refs = _outbound_create_many([(message, mailbox)])
    ThreadRef.objects.bulk_create(refs, ignore_conflicts=True)
    return rows[0]


def _outbound_create_many(
    pairs: Sequence[tuple[Message, Mailbox | None]],
) -> tuple[list[OutboundEmail], list[ThreadRef]]:
    """The delivery rows of replies (one insert) and their thread references, for the caller
    to insert with its own. Called directly only for messages written in the caller's own
    uncommitted transaction (acknowledgements), which no one else can have queued yet."""
    now = clock.now()
    rows = []
    for message, mailbox in pairs:
        domain = mailbox.domain if mailbox else "helpline.invalid"
        token = hashlib.sha256(
            f"{message.pk}:{message.created_at.isoformat()}".encode()
        ).hexdigest()[:12]
        rows.append(
            OutboundEmail(
                message=message,
                mailbox=mailbox,
                rfc_id=f"<hl.{message.ticket_id}.{message.pk}.{token}@{domain}>",
                next_attempt_at=now,
                created_at=now,
            )
        )
    OutboundEmail.objects.bulk_create(rows)
    refs = [
        ThreadRef(
            rfc_id=row.rfc_id,
            ticket_id=message.ticket_id,
            message_id=message.pk,
            outbound=True,
            created_at=now,
        )
        for row, (message, _) in zip(rows, pairs, strict=True)
    ]
    return rows, refs


class _Queued(threading.local):
    """Delivery rows that committed with their acknowledgement in this thread, published by
    an on-commit hook registered before the replies' own, so the ReplyAdded handler (run
    after the commit, in this thread) need not look them up. Nothing of a rolled-back
    transaction ever gets here; a miss just looks."""

    def __init__(self) -> None:
        self.rows: dict[int, int] = {}

    def publish(self, rows: dict[int, int]) -> None:
        if len(self.rows) > 10_000:  # entries no handler asked for (one unsubscribed)
            self.rows.clear()
        self.rows.update(rows)


_acks_queued = _Queued()


def queued_with_message(*, message_id: int) -> int | None:
    """The delivery row that committed with ``message_id`` in this thread's last commit, if
    known without a query (for the ReplyAdded handler)."""
    return _acks_queued.rows.pop(message_id, None)


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
    return _delivery_failed(row, attempt, result)


def outbound_deliver_many(*, outbound_ids: Sequence[int]) -> dict[int, str]:
    """Send many queued replies now (a burst of acknowledgements): leased in one statement,
    what their messages need read together, one SMTP connection per relay for all of them,
    the sent rows recorded in one statement. Returns the resulting status by id of the rows
    this call leased (rows not due, or leased by another worker, are left alone)."""
    from helpline.connectors.email import outbound as smtp_out

    if not outbound_ids:
        return {}
    now = clock.now()
    adapt = connection.ops.adapt_datetimefield_value
    marks = ", ".join(["%s"] * len(outbound_ids))
    table = OutboundEmail._meta.db_table
    # Lease the rows: a second worker (or the tick) skips them until the lease ends.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET attempts = attempts + 1, next_attempt_at = %s "  # noqa: S608
            f"WHERE status = %s AND next_attempt_at <= %s AND id IN ({marks}) "
            "RETURNING id, attempts",
            [adapt(now + LEASE), OutboundStatus.QUEUED, adapt(now), *outbound_ids],
        )
        attempts = {int(pk): int(n) for pk, n in cursor.fetchall()}
    if not attempts:
        return {}
    rows = list(
        OutboundEmail.objects.select_related("message__ticket", "mailbox")
        .filter(pk__in=list(attempts))
        .order_by("id")
    )
    results = smtp_out.send_replies(rows)
    sent = [row for row in rows if results[row.pk].ok]
    if sent:
        _update_by_id(
            table,
            [row.pk for row in sent],
            {
                "status": ("varchar(10)", [OutboundStatus.SENT]),
                "last_response": ("text", [results[row.pk].response[:2000] for row in sent]),
                "sent_at": ("", [adapt(clock.now())]),
            },
        )
    message_delivery_set_many(
        outcomes=[(row.message, "sent", results[row.pk].response) for row in sent]
    )
    statuses: dict[int, str] = {}
    for row in rows:
        result = results[row.pk]
        if result.ok:
            statuses[row.pk] = OutboundStatus.SENT
        else:
            statuses[row.pk] = _delivery_failed(row, attempts[row.pk], result)
    return statuses


def _delivery_failed(row: OutboundEmail, attempt: int, result: Any) -> str:
    """Record a failed attempt: failed for good (permanent, or the last attempt), else queued
    again after a backoff."""
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


def deliveries_should_wait(*, patience: timedelta = timedelta(seconds=30)) -> bool:
    """Stored mail is waiting to become tickets, and no due delivery has waited ``patience``
    yet: the deliveries (acknowledgements) give the worker to the mail first."""
    if not inbound_pending():
        return False
    return not OutboundEmail.objects.filter(
        status=OutboundStatus.QUEUED, next_attempt_at__lte=clock.now() - patience
    ).exists()


def outbound_due_ids(*, limit: int = 100) -> list[int]:
    return list(
        OutboundEmail.objects.filter(status=OutboundStatus.QUEUED, next_attempt_at__lte=clock.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
