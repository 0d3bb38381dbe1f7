"""``/api/v1/tickets``: open, list, read, change tickets; their messages and timeline.

Every ticket is fetched through tickets.permissions, so a ticket the caller may not see answers
exactly like one that does not exist. Every write runs in one transaction: a request that
fails part-way leaves nothing behind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from django.db import IntegrityError, transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from helpline.accounts.models import Team, User
from helpline.api.auth import actor
from helpline.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from helpline.api.params import reject_unknown_params
from helpline.api.schemas import (
    EventPage,
    MessageCreateIn,
    MessageOut,
    MessagePage,
    TicketCreateIn,
    TicketOut,
    TicketPage,
    TicketPatchIn,
    ticket_output_queryset,
)
from helpline.api.ticket_intake import intake_check, intake_item, intake_open
from helpline.core.errors import Conflict, ValidationError
from helpline.core.groupcommit import GroupBusy
from helpline.core.types import UNSET, Unset
from helpline.customers.choices import Channel
from helpline.customers.services import CustomerRef
from helpline.tickets.choices import Priority
from helpline.tickets.choices import Status as TicketStatus
from helpline.tickets.models import Message, Tag, Ticket
from helpline.tickets.permissions import access_ticket, ticket_visible_to
from helpline.tickets.selectors import (
    TicketFilters,
    ticket_list,
    ticket_messages,
    ticket_timeline,
)
from helpline.tickets.services import note_add, reply_add, ticket_update

router = Router(tags=["tickets"])

MAX_TIMELINE_LIMIT = 200


class TicketListParams(Schema):
    view: Literal["all", "open", "mine", "unassigned"] = Field(
        "all", description="open: new/open/pending/on-hold; mine/unassigned: open ones only."
    )
    status: TicketStatus | None = None
    priority: Priority | None = None
    channel: Channel | None = None
    assignee: str | None = Field(
        None, pattern=r"^(me|none|\d{1,18})$", description='An agent id, "me" or "none".'
    )
    team: str | None = Field(None, pattern=r"^(none|\d{1,18})$", description='A team id or "none".')
    tag: str | None = Field(None, max_length=50)
    customer: int | None = Field(None, ge=1, lt=2**63)
    updated_since: datetime | None = Field(
        None, description="ISO 8601; without a UTC offset it is read as UTC."
    )
    cursor: str | None = Field(None, max_length=512)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class PageParams(Schema):
    cursor: str | None = Field(None, max_length=512)
    limit: int = Field(50, ge=1, le=MAX_TIMELINE_LIMIT)


def _ticket_out(ticket_id: int) -> Ticket:
    return ticket_output_queryset(Ticket.objects.filter(pk=ticket_id)).get()


def _team(team_id: int | None, *, field: str) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise ValidationError(f"There is no team with id {team_id}.", field=field)
    return team


def _assignee(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationError(f"There is no active agent with id {user_id}.", field="assignee_id")
    return user


@router.post(
    "",
    response={200: TicketOut, 201: TicketOut},
    summary="Open a ticket",
    description=(
        "Finds the customer by email or phone (or creates them) and opens a ticket with the "
        "first message. 201 with the new ticket; 200 with the existing one when external_id "
        "was already used on this channel."
    ),
)
def ticket_create(request: HttpRequest, payload: TicketCreateIn) -> Status[Ticket]:
    user = actor(request)
    if payload.external_id:
        existing = _ticket_by_external_id(user, payload.channel, payload.external_id)
        if existing is not None:
            return Status(200, existing)
    intake = intake_check(
        ref=CustomerRef(
            email=payload.customer.email, phone=payload.customer.phone, name=payload.customer.name
        ),
        item=intake_item(
            channel=payload.channel,
            subject=payload.subject,
            body_text=payload.body,
            body_html=payload.body_html,
            actor=user,
            external_id=payload.external_id,
            priority=payload.priority,
            tags=tuple(payload.tags),
        ),
        team_id=payload.team_id,
    )
    try:
        # Written together with the other creates this process is serving now (group commit,
        # see api/ticket_intake.py): nothing is written if this request's input is refused.
        ticket, _ = intake_open(intake=intake)
    except IntegrityError:
        # A concurrent request with the same external_id won the race; answer with its ticket.
        if payload.external_id:
            existing = _ticket_by_external_id(user, payload.channel, payload.external_id)
            if existing is not None:
                return Status(200, existing)
        raise
    except GroupBusy as exc:
        raise HttpError(503, "Too many tickets are being opened right now; retry.") from exc
    return Status(201, _created_ticket_out(ticket, tagged=bool(payload.tags)))


def _created_ticket_out(ticket: Ticket, *, tagged: bool) -> Ticket:
    """The ticket just opened, ready for TicketOut without re-reading it: its customer and team
    are the objects in hand. No SLA state: the worker applies the policy after the commit (see
    docs/api.md), so the create response always has none; GET the ticket for it."""
    Ticket.sla.related.set_cached_value(ticket, None)
    if tagged:
        prefetch_related_objects([ticket], "tags")
    else:
        ticket._prefetched_objects_cache = {"tags": Tag.objects.none()}  # type: ignore[attr-defined]
    return ticket


def _ticket_by_external_id(user: User, channel: str, external_id: str) -> Ticket | None:
    ticket_id = (
        Message.objects.filter(channel=channel, external_id=external_id)
        .values_list("ticket_id", flat=True)
        .first()
    )
    if ticket_id is None:
        return None
    ticket = ticket_output_queryset(ticket_visible_to(actor=user)).filter(pk=ticket_id).first()
    if ticket is None:
        raise Conflict(
            "This external_id was already used for a ticket you cannot see.", field="external_id"
        )
    return ticket


@router.get("", response=TicketPage, summary="List tickets, newest-updated first")
def ticket_list_view(request: HttpRequest, filters: Query[TicketListParams]) -> dict[str, object]:
    user = actor(request)
    reject_unknown_params(request, TicketListParams)
    assignee_id: int | None = None
    if filters.assignee == "me":
        assignee_id = user.pk
    elif filters.assignee and filters.assignee != "none":
        assignee_id = int(filters.assignee)
    team_id = int(filters.team) if filters.team and filters.team != "none" else None
    updated_since = filters.updated_since
    if updated_since is not None and timezone.is_naive(updated_since):
        updated_since = updated_since.replace(tzinfo=UTC)
    queryset: QuerySet[Ticket] = ticket_list(
        actor=user,
        filters=TicketFilters(
            view=filters.view,
            status=filters.status,
            priority=filters.priority,
            channel=filters.channel,
            assignee_id=assignee_id,
            team_id=team_id,
            tag=filters.tag,
            customer_id=filters.customer,
            updated_since=updated_since,
        ),
    )
    if filters.assignee == "none":
        queryset = queryset.filter(assignee__isnull=True)
    if filters.team == "none":
        queryset = queryset.filter(team__isnull=True)
    rows, next_cursor = paginate(
        ticket_output_queryset(queryset),
        cursor=filters.cursor,
        limit=filters.limit,
        keys=("updated_at", "id"),
        descending=True,
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/{int:ticket_id}", response=TicketOut, summary="Read a ticket")
def ticket_get(request: HttpRequest, ticket_id: int) -> Ticket:
    user = actor(request)
    # One query with everything TicketOut reads; access_ticket only runs to raise its
    # NotFound, so the 404 is the very same one every other ticket endpoint gives.
    ticket = ticket_output_queryset(ticket_visible_to(actor=user)).filter(pk=ticket_id).first()
    return ticket if ticket is not None else access_ticket(actor=user, ticket_id=ticket_id)


@router.patch("/{int:ticket_id}", response=TicketOut, summary="Change a ticket")
def ticket_patch(request: HttpRequest, ticket_id: int, payload: TicketPatchIn) -> Ticket:
    user = actor(request)
    ticket = access_ticket(actor=user, ticket_id=ticket_id)
    sent = payload.model_fields_set
    for name in ("status", "priority", "tags", "subject"):
        if name in sent and getattr(payload, name) is None:
            raise ValidationError(f"{name} cannot be null.", field=name)

    status: str | Unset = payload.status if payload.status is not None else UNSET
    priority: str | Unset = payload.priority if payload.priority is not None else UNSET
    tags: list[str] | Unset = payload.tags if payload.tags is not None else UNSET
    subject: str | Unset = payload.subject if payload.subject is not None else UNSET
    with transaction.atomic():
        assignee: User | Unset | None = (
            _assignee(payload.assignee_id) if "assignee_id" in sent else UNSET
        )
        team: Team | Unset | None = (
            _team(payload.team_id, field="team_id") if "team_id" in sent else UNSET
        )
        ticket_update(
            ticket=ticket,
            actor=user,
            status=status,
            priority=priority,
            assignee=assignee,
            team=team,
            tags=tags,
            subject=subject,
        )
    return _ticket_out(ticket.pk)


@router.get(
    "/{int:ticket_id}/messages",
    response=MessagePage,
    summary="The ticket's conversation, oldest first (internal notes included)",
)
def message_list(
    request: HttpRequest, ticket_id: int, page: Query[PageParams]
) -> dict[str, object]:
    reject_unknown_params(request, PageParams)
    ticket = access_ticket(actor=actor(request), ticket_id=ticket_id)
    rows, next_cursor = paginate(
        ticket_messages(ticket=ticket),
        cursor=page.cursor,
        limit=page.limit,
        keys=("created_at", "id"),
        descending=False,
        max_limit=MAX_TIMELINE_LIMIT,
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.post(
    "/{int:ticket_id}/messages",
    response={201: MessageOut},
    summary="Reply to the customer, or add an internal note",
)
def message_create(request: HttpRequest, ticket_id: int, payload: MessageCreateIn) -> Message:
    user = actor(request)
    ticket = access_ticket(actor=user, ticket_id=ticket_id)
    with transaction.atomic():
        if payload.kind == "note":
            if payload.body_html:
                raise ValidationError("Internal notes are plain text.", field="body_html")
            if payload.status_after is not None:
                raise ValidationError("status_after applies to replies only.", field="status_after")
            message = note_add(ticket=ticket, author=user, body_text=payload.body)
        else:
            message = reply_add(
                ticket=ticket,
                author=user,
                body_text=payload.body,
                body_html=payload.body_html,
                status_after=payload.status_after if payload.status_after is not None else UNSET,
            )
    return ticket_messages(ticket=ticket).get(pk=message.pk)


@router.get(
    "/{int:ticket_id}/events", response=EventPage, summary="The ticket's timeline, oldest first"
)
def event_list(request: HttpRequest, ticket_id: int, page: Query[PageParams]) -> dict[str, object]:
    reject_unknown_params(request, PageParams)
    ticket = access_ticket(actor=actor(request), ticket_id=ticket_id)
    rows, next_cursor = paginate(
        ticket_timeline(ticket=ticket),
        cursor=page.cursor,
        limit=page.limit,
        keys=("created_at", "id"),
        descending=False,
        max_limit=MAX_TIMELINE_LIMIT,
    )
    return {"items": rows, "next_cursor": next_cursor}
