"""Reads for tickets. Every list is scoped through ``ticket_visible_to``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from helpline.accounts.models import User
from helpline.tickets.choices import ACTIVE_STATUSES
from helpline.tickets.models import Attachment, Message, Tag, Ticket, TicketEvent
from helpline.tickets.permissions import ticket_visible_to


class InboxView:
    MINE = "mine"
    UNASSIGNED = "unassigned"
    OPEN = "open"
    ALL = "all"

    choices = (
        (MINE, "My open tickets"),
        (UNASSIGNED, "Unassigned"),
        (OPEN, "All open"),
        (ALL, "All tickets"),
    )


@dataclass(frozen=True)
class TicketFilters:
    view: str = InboxView.OPEN
    status: str | None = None
    priority: str | None = None
    channel: str | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    tag: str | None = None
    customer_id: int | None = None
    updated_since: datetime | None = None
    query: str = ""


def ticket_list(*, actor: User, filters: TicketFilters) -> QuerySet[Ticket]:
    """Tickets ``actor`` may see, filtered, newest-updated first (ties broken by id)."""
    qs = ticket_visible_to(actor=actor)
    if filters.view == InboxView.MINE:
        qs = qs.filter(assignee=actor, status__in=ACTIVE_STATUSES)
    elif filters.view == InboxView.UNASSIGNED:
        qs = qs.filter(assignee__isnull=True, status__in=ACTIVE_STATUSES)
    elif filters.view == InboxView.OPEN:
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.assignee_id is not None:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    if filters.tag:
        # The tag's id first (a tiny lookup), then a filter on the link table's tag_id: with
        # the id in the query PostgreSQL knows how common the tag is and walks the inbox order
        # instead of sorting every tagged ticket (measured at 1M tickets: 577 ms → 18 to 33 ms).
        tag_id = Tag.objects.filter(name=filters.tag.strip().lower()).values_list("pk", flat=True)
        found = list(tag_id[:1])
        qs = qs.filter(tags=found[0]) if found else qs.none()
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.updated_since is not None:
        qs = qs.filter(updated_at__gte=filters.updated_since)
    query = filters.query.strip()
    if query:
        if query.lstrip("#").isdigit():
            qs = qs.filter(pk=int(query.lstrip("#")))
        else:
            qs = qs.filter(subject__icontains=query)
    return (
        qs.select_related("customer", "assignee", "team")
        .prefetch_related("tags")
        .order_by("-updated_at", "-id")
    )


def ticket_messages(*, ticket: Ticket, include_notes: bool = True) -> QuerySet[Message]:
    qs = ticket.messages.select_related("author_user", "author_customer").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    if not include_notes:
        qs = qs.exclude(direction="note")
    return qs.order_by("created_at", "id")


def ticket_timeline(*, ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("actor").order_by("created_at", "id")


def customer_other_tickets(*, actor: User, ticket: Ticket, limit: int = 10) -> list[Ticket]:
    return list(
        ticket_visible_to(actor=actor)
        .filter(customer_id=ticket.customer_id)
        .exclude(pk=ticket.pk)
        .order_by("-created_at")[:limit]
    )
