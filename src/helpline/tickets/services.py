"""Writes for tickets: open, add messages, change fields. Each change is written to the timeline
and announced on the bus after commit."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F

from helpline.accounts.models import Team, User
from helpline.core import bus, clock
from helpline.core.bulk import insert_rows, update_rows
from helpline.core.errors import Conflict, InvalidTransition, ValidationError
from helpline.core.html import sanitize_html
from helpline.core.types import UNSET, Unset
from helpline.customers.choices import Channel
from helpline.customers.models import Customer
from helpline.tickets.choices import (
    ACTIVE_STATUSES,
    TRANSITIONS,
    DeliveryStatus,
    Direction,
    EventKind,
    Priority,
    Status,
)
from helpline.tickets.events import (
    MessageReceived,
    NoteAdded,
    ReplyAdded,
    TicketChanged,
    TicketOpened,
)
from helpline.tickets.models import Attachment, Message, Tag, Ticket, TicketEvent

MAX_SUBJECT = 255
MAX_BODY = 1_000_000


@dataclass(frozen=True)
class AttachmentIn:
    filename: str
    content: bytes
    content_type: str = ""
    content_id: str = ""


def _clean_body(body_text: str, body_html: str) -> tuple[str, str]:
    if len(body_text) > MAX_BODY or len(body_html) > MAX_BODY:
        raise ValidationError(f"A message body may be at most {MAX_BODY} characters.", field="body")
    html = sanitize_html(body_html) if body_html else ""
    return body_text.strip(), html


def _event(ticket: Ticket, actor: User | None, kind: str, data: dict[str, object]) -> None:
    TicketEvent.objects.create(
        ticket=ticket, actor=actor, kind=kind, data=data, created_at=clock.now()
    )


def _safe_filename(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    return name[:200] or "attachment"


def _store_attachments(message: Message, attachments: Iterable[AttachmentIn]) -> None:
    for item in attachments:
        digest = hashlib.sha256(item.content).hexdigest()
        filename = _safe_filename(item.filename)
        content_type = item.content_type or (
            mimetypes.guess_type(filename)[0] or "application/octet-stream"
        )
        attachment = Attachment(
            message=message,
            filename=filename,
            content_type=content_type[:127],
            size=len(item.content),
            sha256=digest,
            content_id=item.content_id[:255],
        )
        attachment.file.save(digest, ContentFile(item.content), save=False)
        attachment.save()


@dataclass(frozen=True)
class TicketOpenIn:
    """One ticket to open with the customer's first message (see ``ticket_open``)."""

    customer: Customer
    channel: str
    subject: str
    body_text: str
    body_html: str = ""
    actor: User | None = None
    external_id: str | None = None
    priority: str = Priority.NORMAL
    team: Team | None = None
    tags: Sequence[str] = ()
    attachments: Sequence[AttachmentIn] = ()
    metadata: dict[str, object] | None = None
    created_at: datetime | None = None


def ticket_open_check(*, item: TicketOpenIn) -> None:
    """Raise the ValidationError ``ticket_open`` would raise for ``item``, without touching the
    database: a caller gathering many items checks each alone and answers its own sender."""
    if item.channel not in Channel.values:
        raise ValidationError(f"Unknown channel {item.channel!r}.", field="channel")
    if item.priority not in Priority.values:
        raise ValidationError(f"Unknown priority {item.priority!r}.", field="priority")
    if len(item.body_text) > MAX_BODY or len(item.body_html) > MAX_BODY:
        raise ValidationError(f"A message body may be at most {MAX_BODY} characters.", field="body")
    if not item.body_text.strip() and not (item.body_html and sanitize_html(item.body_html)):
        raise ValidationError("A ticket needs a message body.", field="body")
    _tag_names(item.tags)


def ticket_open(
    *,
    customer: Customer,
    channel: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    actor: User | None = None,
    external_id: str | None = None,
    priority: str = Priority.NORMAL,
    team: Team | None = None,
    tags: Sequence[str] = (),
    attachments: Iterable[AttachmentIn] = (),
    metadata: dict[str, object] | None = None,
    created_at: datetime | None = None,
) -> Ticket:
    """Open a ticket with the customer's first message.

    ``actor`` is the agent who logged it on the customer's behalf (a phone call), if any.
    """
    item = TicketOpenIn(
        customer=customer,
        channel=channel,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        actor=actor,
        external_id=external_id,
        priority=priority,
        team=team,
        tags=tuple(tags),
        attachments=tuple(attachments),
        metadata=metadata,
        created_at=created_at,
    )
    return ticket_open_many(items=[item])[0][0]


def ticket_open_many(*, items: Sequence[TicketOpenIn]) -> list[tuple[Ticket, Message]]:
    """Open many tickets at once: one transaction (a savepoint inside the caller's) and one
    multi-row insert per table, whatever the number of tickets; returns (ticket, first message)
    in the order of ``items``.

    Every item is checked before anything is written: the first invalid one raises its
    ValidationError and nothing is written (callers that must answer each sender on its own run
    ``ticket_open_check`` on each first). An ``external_id`` already stored (the same message
    delivered twice) raises IntegrityError for the whole call; the caller retries those items
    one by one to learn which. Each ticket raises ``TicketOpened`` and ``MessageReceived`` as
    ``ticket_open`` does; their outbox rows are one insert.
    """
    for item in items:
        ticket_open_check(item=item)
    if not items:
        return []
    now = clock.now()
    tickets: list[Ticket] = []
    messages: list[Message] = []
    for item in items:
        subject = " ".join(item.subject.split())[:MAX_SUBJECT] or "(no subject)"
        text, html = _clean_body(item.body_text, item.body_html)
        at = item.created_at or now
        tickets.append(
            Ticket(
                subject=subject,
                channel=item.channel,
                customer=item.customer,
                priority=item.priority,
                team=item.team,
                created_at=at,
                updated_at=at,
                last_message_at=at,
                message_count=1,
            )
        )
        messages.append(
            Message(
                direction=Direction.INBOUND,
                channel=item.channel,
                author_customer=item.customer,
                author_user=item.actor,
                body_text=text,
                body_html=html,
                external_id=item.external_id,
                metadata=item.metadata or {},
                created_at=at,
            )
        )
    with transaction.atomic():
        insert_rows(tickets)
        for ticket, message in zip(tickets, messages, strict=True):
            message.ticket = ticket
        insert_rows(messages)
        for item, message in zip(items, messages, strict=True):
            if item.attachments:
                _store_attachments(message, item.attachments)
        _tags_set_many(tickets, [item.tags for item in items])
        insert_rows(
            [
                TicketEvent(
                    ticket=ticket,
                    actor=item.actor,
                    kind=EventKind.CREATED,
                    data={"channel": item.channel, "subject": ticket.subject},
                    created_at=now,
                )
                for item, ticket in zip(items, tickets, strict=True)
            ]
        )
        events: list[object] = []
        for ticket, message in zip(tickets, messages, strict=True):
            events.append(
                TicketOpened(
                    ticket_id=ticket.pk, customer_id=ticket.customer_id, channel=ticket.channel
                )
            )
            events.append(
                MessageReceived(
                    ticket_id=ticket.pk,
                    message_id=message.pk,
                    channel=ticket.channel,
                    opens_ticket=True,
                )
            )
        bus.publish(*events)
    return list(zip(tickets, messages, strict=True))


def message_receive(
    *,
    ticket: Ticket,
    body_text: str,
    body_html: str = "",
    channel: str | None = None,
    author_customer: Customer | None = None,
    external_id: str | None = None,
    attachments: Iterable[AttachmentIn] = (),
    metadata: dict[str, object] | None = None,
    created_at: datetime | None = None,
    automatic: bool = False,
) -> tuple[Message, bool]:
    """Add the customer's new message to ``ticket``; returns (message, created).

    Idempotent on (channel, external_id). A solved or pending ticket reopens; a closed ticket
    refuses (callers open a follow-up ticket instead). An ``automatic`` message (an
    out-of-office or other auto-reply from the customer's side) is kept on the ticket but changes
    nothing: the status stays, and it owes nobody a reply.
    """
    channel = channel or ticket.channel
    if channel not in Channel.values:
        raise ValidationError(f"Unknown channel {channel!r}.", field="channel")
    if ticket.status == Status.CLOSED:
        raise InvalidTransition("This ticket is closed; open a follow-up ticket instead.")
    if external_id:
        existing = Message.objects.filter(channel=channel, external_id=external_id).first()
        if existing is not None:
            return existing, False
    text, html = _clean_body(body_text, body_html)
    now = created_at or clock.now()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                ticket=ticket,
                direction=Direction.INBOUND,
                channel=channel,
                author_customer=author_customer or ticket.customer,
                body_text=text,
                body_html=html,
                external_id=external_id,
                metadata=metadata or {},
                is_automatic=automatic,
                created_at=now,
            )
            _store_attachments(message, attachments)
            updates: dict[str, object] = {
                "updated_at": now,
                "last_message_at": now,
                "message_count": F("message_count") + 1,
            }
            reopened = not automatic and ticket.status in (Status.SOLVED, Status.PENDING)
            if reopened:
                updates["status"] = Status.OPEN
                updates["solved_at"] = None
            Ticket.objects.filter(pk=ticket.pk).update(**updates)
            if reopened:
                _event(ticket, None, EventKind.STATUS, {"from": ticket.status, "to": Status.OPEN})
                bus.publish(
                    TicketChanged(
                        ticket_id=ticket.pk,
                        actor_id=None,
                        changes=("status",),
                        old_status=ticket.status,
                        new_status=Status.OPEN,
                    )
                )
            _event(
                ticket, None, EventKind.MESSAGE, {"message_id": message.pk, "direction": "inbound"}
            )
            bus.publish(
                MessageReceived(
                    ticket_id=ticket.pk,
                    message_id=message.pk,
                    channel=channel,
                    automatic=automatic,
                )
            )
    except IntegrityError:
        # A concurrent delivery of the same external id won the race.
        if external_id:
            return Message.objects.get(channel=channel, external_id=external_id), False
        raise
    ticket.refresh_from_db()
    return message, True


def reply_add(
    *,
    ticket: Ticket,
    author: User | None,
    body_text: str,
    body_html: str = "",
    channel: str | None = None,
    status_after: str | Unset = UNSET,
    attachments: Iterable[AttachmentIn] = (),
    is_automatic: bool = False,
) -> Message:
    """A public reply to the customer, queued for delivery on the ticket's channel.

    The first non-automatic reply sets ``first_responded_at``. A new ticket becomes open unless
    ``status_after`` says otherwise (e.g. pending: waiting on the customer).
    """
    text, html = _clean_body(body_text, body_html)
    if not text and not html:
        raise ValidationError("A reply cannot be empty.", field="body")
    if ticket.status == Status.CLOSED:
        raise InvalidTransition("A closed ticket cannot be replied to.")
    channel = channel or ticket.channel
    now = clock.now()
    with transaction.atomic():
        message = Message.objects.create(
            ticket=ticket,
            direction=Direction.OUTBOUND,
            channel=channel,
            author_user=author,
            body_text=text,
            body_html=html,
            is_automatic=is_automatic,
            delivery_status=DeliveryStatus.QUEUED,
            created_at=now,
        )
        _store_attachments(message, attachments)
        updates: dict[str, object] = {
            "updated_at": now,
            "last_message_at": now,
            "message_count": F("message_count") + 1,
        }
        if not is_automatic and ticket.first_responded_at is None:
            updates["first_responded_at"] = now
        Ticket.objects.filter(pk=ticket.pk).update(**updates)
        _event(
            ticket, author, EventKind.MESSAGE, {"message_id": message.pk, "direction": "outbound"}
        )
        bus.publish(
            ReplyAdded(
                ticket_id=ticket.pk,
                message_id=message.pk,
                channel=channel,
                author_id=author.pk if author else None,
                automatic=is_automatic,
            )
        )
        ticket.refresh_from_db()
        if not is_automatic:
            target = (
                status_after
                if status_after is not UNSET
                else (Status.OPEN if ticket.status == Status.NEW else UNSET)
            )
            if target is not UNSET and target != ticket.status:
                ticket_update(ticket=ticket, actor=author, status=target)
    return message


def note_add(
    *,
    ticket: Ticket,
    author: User,
    body_text: str,
    attachments: Iterable[AttachmentIn] = (),
) -> Message:
    """An internal note: visible to agents only, never delivered to the customer (nor are its
    attachments: a screenshot, a log file)."""
    text, _ = _clean_body(body_text, "")
    if not text:
        raise ValidationError("A note cannot be empty.", field="body")
    now = clock.now()
    with transaction.atomic():
        message = Message.objects.create(
            ticket=ticket,
            direction=Direction.NOTE,
            channel=ticket.channel,
            author_user=author,
            body_text=text,
            created_at=now,
        )
        _store_attachments(message, attachments)
        Ticket.objects.filter(pk=ticket.pk).update(
            updated_at=now, message_count=F("message_count") + 1
        )
        _event(ticket, author, EventKind.MESSAGE, {"message_id": message.pk, "direction": "note"})
        bus.publish(NoteAdded(ticket_id=ticket.pk, message_id=message.pk, author_id=author.pk))
    return message


def _tag_names(names: Iterable[str]) -> list[str]:
    cleaned = sorted({" ".join(n.strip().lower().split()) for n in names if n.strip()})
    for name in cleaned:
        if len(name) > 50:
            raise ValidationError(f"Tag {name[:20]!r}… is longer than 50 characters.", field="tags")
    return cleaned


def _tags(names: Iterable[str]) -> list[Tag]:
    cleaned = _tag_names(names)
    if not cleaned:
        return []
    # Two queries whatever the number of tags: create the missing names (a concurrent creator
    # of the same name is absorbed by the unique constraint), then read them all back.
    Tag.objects.bulk_create([Tag(name=name) for name in cleaned], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=cleaned).order_by("name"))


def _tags_set_many(tickets: Sequence[Ticket], names: Sequence[Sequence[str]]) -> None:
    """Tag new tickets: the tags of all of them looked up (or created) together, then one
    insert into the link table."""
    wanted = [_tag_names(each) for each in names]
    if not any(wanted):
        return
    by_name = {tag.name: tag for tag in _tags([n for each in wanted for n in each])}
    link = Ticket.tags.through
    link.objects.bulk_create(
        [
            link(ticket_id=ticket.pk, tag_id=by_name[name].pk)
            for ticket, each in zip(tickets, wanted, strict=True)
            for name in each
        ]
    )


def ticket_update(
    *,
    ticket: Ticket,
    actor: User | None,
    status: str | Unset = UNSET,
    priority: str | Unset = UNSET,
    assignee: User | Unset | None = UNSET,
    team: Team | Unset | None = UNSET,
    tags: Sequence[str] | Unset = UNSET,
    subject: str | Unset = UNSET,
) -> Ticket:
    """Change any of the ticket's fields; each real change is one timeline entry.

    The status change is a conditional update on the status the caller saw, so two agents
    racing to change it cannot both win (no reliance on row locks, which SQLite lacks).
    """
    now = clock.now()
    updates: dict[str, object] = {}
    entries: list[tuple[str, dict[str, object]]] = []
    old_status = ticket.status

    if status is not UNSET and status != ticket.status:
        if status not in Status.values:
            raise ValidationError(f"Unknown status {status!r}.", field="status")
        if status not in TRANSITIONS[ticket.status]:
            raise InvalidTransition(
                f"A ticket cannot go from {ticket.get_status_display()} to {Status(status).label}.",
                field="status",
            )
        updates["status"] = status
        if status == Status.SOLVED:
            updates["solved_at"] = now
        elif status == Status.CLOSED:
            updates["closed_at"] = now
            if ticket.solved_at is None:
                updates["solved_at"] = now
        elif status in ACTIVE_STATUSES and ticket.solved_at is not None:
            updates["solved_at"] = None
        entries.append((EventKind.STATUS, {"from": ticket.status, "to": status}))

    if priority is not UNSET and priority != ticket.priority:
        if priority not in Priority.values:
            raise ValidationError(f"Unknown priority {priority!r}.", field="priority")
        updates["priority"] = priority
        entries.append((EventKind.PRIORITY, {"from": ticket.priority, "to": priority}))

    if assignee is not UNSET and (assignee.pk if assignee else None) != ticket.assignee_id:
        if assignee is not None and not assignee.is_active:
            raise ValidationError("Cannot assign to a deactivated user.", field="assignee")
        updates["assignee"] = assignee
        entries.append(
            (
                EventKind.ASSIGNEE,
                {
                    "from": ticket.assignee_id,
                    "to": assignee.pk if assignee else None,
                    "to_name": str(assignee) if assignee else None,
                },
            )
        )

    if team is not UNSET and (team.pk if team else None) != ticket.team_id:
        updates["team"] = team
        entries.append(
            (
                EventKind.TEAM,
                {
                    "from": ticket.team_id,
                    "to": team.pk if team else None,
                    "to_name": team.name if team else None,
                },
            )
        )

    if subject is not UNSET:
        clean = " ".join(subject.split())[:MAX_SUBJECT]
        if not clean:
            raise ValidationError("The subject cannot be empty.", field="subject")
        if clean != ticket.subject:
            updates["subject"] = clean
            entries.append((EventKind.SUBJECT, {"from": ticket.subject, "to": clean}))

    new_tags: list[Tag] | None = None
    if tags is not UNSET:
        new_tags = _tags(tags)
        old_names = sorted(ticket.tags.values_list("name", flat=True))
        new_names = [t.name for t in new_tags]
        if old_names != new_names:
            entries.append(
                (
                    EventKind.TAGS,
                    {
                        "added": sorted(set(new_names) - set(old_names)),
                        "removed": sorted(set(old_names) - set(new_names)),
                    },
                )
            )
        else:
            new_tags = None

    if not entries:
        return ticket

    with transaction.atomic():
        if updates or new_tags is not None:
            updated = Ticket.objects.filter(pk=ticket.pk, status=old_status).update(
                **updates, updated_at=now
            )
            if updated == 0:
                raise Conflict("The ticket was changed by someone else; reload and try again.")
        if new_tags is not None:
            ticket.tags.set(new_tags)
        for kind, data in entries:
            _event(ticket, actor, kind, data)
        bus.publish(
            TicketChanged(
                ticket_id=ticket.pk,
                actor_id=actor.pk if actor else None,
                changes=tuple(kind for kind, _ in entries),
                old_status=old_status,
                new_status=str(updates.get("status", old_status)),
            )
        )
    ticket.refresh_from_db()
    return ticket


def message_delivery_set(*, message: Message, status: str, detail: str = "") -> None:
    """Record the outcome of delivering an outbound message (queued → sent | failed)."""
    if status not in DeliveryStatus.values:
        raise ValidationError(f"Unknown delivery status {status!r}.")
    Message.objects.filter(pk=message.pk).update(
        delivery_status=status, delivery_detail=detail[:2000]
    )


def message_delivery_set_many(*, outcomes: Sequence[tuple[Message, str, str]]) -> None:
    """``message_delivery_set`` for many messages in one statement (a burst of deliveries):
    each (message, status, detail). Every status is checked before anything is written."""
    for _, status, _ in outcomes:
        if status not in DeliveryStatus.values:
            raise ValidationError(f"Unknown delivery status {status!r}.")
    for message, status, detail in outcomes:
        message.delivery_status = status
        message.delivery_detail = detail[:2000]
    update_rows([message for message, _, _ in outcomes], ["delivery_status", "delivery_detail"])


@dataclass(frozen=True)
class AutomaticReplyIn:
    """One automatic public reply (an acknowledgement) for ``reply_add_many``."""

    ticket: Ticket
    body_text: str
    body_html: str = ""
    metadata: dict[str, object] | None = None


def reply_add_many(*, items: Sequence[AutomaticReplyIn]) -> list[Message]:
    """Automatic public replies on many tickets at once (the email channel's acknowledgements
    of a batch of new tickets): what ``reply_add(author=None, is_automatic=True)`` does for
    each, in one transaction (a savepoint when nested) with a multi-row insert per table.

    As with ``reply_add`` for an automatic reply: no status change, no first response, and each
    reply raises ``ReplyAdded`` (automatic). Every item is checked before anything is written:
    an empty body or a closed ticket raises for the whole call. The tickets given are updated
    in memory (``updated_at``, ``last_message_at``, ``message_count``). Returns the messages in
    the order of ``items``.
    """
    cleaned: list[tuple[str, str]] = []
    for item in items:
        text, html = _clean_body(item.body_text, item.body_html)
        if not text and not html:
            raise ValidationError("A reply cannot be empty.", field="body")
        if item.ticket.status == Status.CLOSED:
            raise InvalidTransition("A closed ticket cannot be replied to.")
        cleaned.append((text, html))
    if not items:
        return []
    now = clock.now()
    messages = [
        Message(
            ticket=item.ticket,
            direction=Direction.OUTBOUND,
            channel=item.ticket.channel,
            author_user=None,
            body_text=text,
            body_html=html,
            is_automatic=True,
            delivery_status=DeliveryStatus.QUEUED,
            metadata=item.metadata or {},
            created_at=now,
        )
        for item, (text, html) in zip(items, cleaned, strict=True)
    ]
    added: dict[int, int] = {}
    for item in items:
        added[item.ticket.pk] = added.get(item.ticket.pk, 0) + 1
    by_count: dict[int, list[int]] = {}
    for ticket_id, count in added.items():
        by_count.setdefault(count, []).append(ticket_id)
    with transaction.atomic():
        Message.objects.bulk_create(messages)
        for count, ticket_ids in by_count.items():  # one statement unless a ticket repeats
            Ticket.objects.filter(pk__in=ticket_ids).update(
                updated_at=now, last_message_at=now, message_count=F("message_count") + count
            )
        TicketEvent.objects.bulk_create(
            [
                TicketEvent(
                    ticket=message.ticket,
                    actor=None,
                    kind=EventKind.MESSAGE,
                    data={"message_id": message.pk, "direction": "outbound"},
                    created_at=now,
                )
                for message in messages
            ]
        )
        bus.publish(
            *[
                ReplyAdded(
                    ticket_id=message.ticket_id,
                    message_id=message.pk,
                    channel=message.channel,
                    author_id=None,
                    automatic=True,
                )
                for message in messages
            ]
        )
    refreshed: set[int] = set()
    for item in items:
        if id(item.ticket) not in refreshed:
            refreshed.add(id(item.ticket))
            item.ticket.updated_at = now
            item.ticket.last_message_at = now
            item.ticket.message_count += added[item.ticket.pk]
    return messages
