"""Every JSON shape of the API v1, in one module.

Outputs resolve from model instances; each list endpoint loads the related rows an output needs
with a fixed number of queries (see ``TICKET_SELECT_RELATED`` / ``TICKET_PREFETCH_RELATED``), so
adding a field that reads a relation means adding that relation there too, or the N+1 guard
tests in api/tests/test_query_counts.py fail.

Inputs forbid unknown fields: a misspelt field is a 422 naming it, not a silent no-op.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import ConfigDict

from helpline.accounts.choices import Role
from helpline.accounts.models import User
from helpline.customers.choices import Channel, IdentityKind, OrderStatus
from helpline.customers.models import Customer
from helpline.sla.models import SlaPolicy, TicketSla
from helpline.tickets.choices import DeliveryStatus, Direction, EventKind, Priority, Status
from helpline.tickets.models import Message, Ticket


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")


# --- small references embedded in other objects -------------------------------------------


class TeamRef(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    name: str
    email: str


class CustomerRef(Schema):
    id: int
    name: str


# --- tickets ------------------------------------------------------------------------------

# Relations every TicketOut reads; list and detail endpoints load them in a fixed number of
# queries. Add to these when a new ticket field reads another relation.
TICKET_SELECT_RELATED: tuple[str, ...] = ("customer", "assignee", "team", "sla__policy")
TICKET_PREFETCH_RELATED: tuple[str, ...] = ("tags",)


def ticket_output_queryset(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """``queryset`` with what TicketOut reads loaded up front (N+1 guard)."""
    return queryset.select_related(*TICKET_SELECT_RELATED).prefetch_related(
        *TICKET_PREFETCH_RELATED
    )


class SlaPolicyRef(Schema):
    id: int
    name: str


def _sla_state(ticket: Ticket) -> TicketSla | None:
    """The ticket's SLA row (loaded by TICKET_SELECT_RELATED), or None before it exists."""
    try:
        return ticket.sla
    except TicketSla.DoesNotExist:
        return None


class TicketOut(Schema):
    """The ticket JSON, the same in lists, detail, create and update responses.

    The SLA work adds its fields here (``sla_policy``, ``first_response_due_at``,
    ``next_response_due_at``, ``resolution_due_at`` and the breached flags) with a small edit
    of this class, plus the relations they read in TICKET_SELECT_RELATED / _PREFETCH_RELATED.
    """

    id: int
    subject: str
    status: Status
    priority: Priority
    channel: Channel
    customer: CustomerRef
    assignee: UserRef | None
    team: TeamRef | None
    tags: list[str]
    message_count: int
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None
    first_responded_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    # SLA state (helpline.sla): due times of running clocks, null when met, paused or without
    # a target; "breached" stays true for the current cycle once the target was passed.
    sla_policy: SlaPolicyRef | None
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_response_breached: bool
    next_response_breached: bool
    resolution_breached: bool

    @staticmethod
    def resolve_tags(obj: Ticket) -> list[str]:
        # .all() reads the prefetch cache; sorting in Python keeps it that way.
        return sorted(tag.name for tag in obj.tags.all())

    @staticmethod
    def resolve_sla_policy(obj: Ticket) -> SlaPolicy | None:
        state = _sla_state(obj)
        return state.policy if state is not None else None

    @staticmethod
    def resolve_first_response_due_at(obj: Ticket) -> datetime | None:
        state = _sla_state(obj)
        return state.first_response_due_at if state is not None else None

    @staticmethod
    def resolve_next_response_due_at(obj: Ticket) -> datetime | None:
        state = _sla_state(obj)
        return state.next_response_due_at if state is not None else None

    @staticmethod
    def resolve_resolution_due_at(obj: Ticket) -> datetime | None:
        state = _sla_state(obj)
        return state.resolution_due_at if state is not None else None

    @staticmethod
    def resolve_first_response_breached(obj: Ticket) -> bool:
        state = _sla_state(obj)
        return state is not None and state.first_response_breached_at is not None

    @staticmethod
    def resolve_next_response_breached(obj: Ticket) -> bool:
        state = _sla_state(obj)
        return state is not None and state.next_response_breached_at is not None

    @staticmethod
    def resolve_resolution_breached(obj: Ticket) -> bool:
        state = _sla_state(obj)
        return state is not None and state.resolution_breached_at is not None


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null on the last page."
    )


class CustomerIdentityRefIn(InputSchema):
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=200)


class TicketCreateIn(InputSchema):
    customer: CustomerIdentityRefIn
    channel: Channel = Channel.API
    subject: str = Field(max_length=255)
    body: str = Field(min_length=1, description="The customer's first message, plain text.")
    body_html: str = Field("", description="Optional HTML; sanitised before it is stored.")
    priority: Priority = Priority.NORMAL
    tags: list[str] = Field(default_factory=list, max_length=50)
    team_id: int | None = None
    external_id: str | None = Field(
        None,
        max_length=255,
        description="Your id for this request: sending it again returns the same ticket (200).",
    )


class TicketPatchIn(InputSchema):
    """Only the fields present are changed; ``assignee_id``/``team_id`` null clears them."""

    status: Status | None = None
    priority: Priority | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    tags: list[str] | None = Field(None, max_length=50)
    subject: str | None = Field(None, min_length=1, max_length=255)


# --- messages and the timeline --------------------------------------------------------------

_KIND_BY_DIRECTION: dict[str, str] = {
    Direction.INBOUND: "inbound",
    Direction.OUTBOUND: "reply",
    Direction.NOTE: "note",
}


class AuthorOut(Schema):
    type: Literal["agent", "customer"]
    id: int
    name: str


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class MessageOut(Schema):
    id: int
    ticket_id: int
    kind: Literal["inbound", "reply", "note"]
    channel: Channel
    author: AuthorOut | None
    body_text: str
    body_html: str
    is_automatic: bool
    delivery_status: DeliveryStatus
    attachments: list[AttachmentOut]
    created_at: datetime

    @staticmethod
    def resolve_kind(obj: Message) -> str:
        return _KIND_BY_DIRECTION[obj.direction]

    @staticmethod
    def resolve_author(obj: Message) -> dict[str, Any] | None:
        # An agent who logs a phone call is recorded beside the customer who spoke; the
        # customer is the author of an inbound message.
        customer, user = obj.author_customer, obj.author_user
        if customer is not None and (obj.direction == Direction.INBOUND or user is None):
            return {"type": "customer", "id": customer.pk, "name": customer.name}
        if user is not None:
            return {"type": "agent", "id": user.pk, "name": user.name}
        return None

    @staticmethod
    def resolve_attachments(obj: Message) -> list[Any]:
        return list(obj.attachments.all())


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class MessageCreateIn(InputSchema):
    kind: Literal["reply", "note"]
    body: str = Field(min_length=1)
    body_html: str = Field("", description="Replies only; sanitised before it is stored.")
    status_after: Status | None = Field(
        None, description="Replies only: the status to set after replying (e.g. pending)."
    )


class EventOut(Schema):
    id: int
    kind: EventKind
    actor: UserRef | None
    data: dict[str, Any]
    created_at: datetime


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


# --- customers ---------------------------------------------------------------------------


class IdentityOut(Schema):
    id: int
    kind: IdentityKind
    value: str
    is_primary: bool


class OrganisationOut(Schema):
    id: int
    name: str
    domain: str


class CustomerOut(Schema):
    id: int
    name: str
    organisation: OrganisationOut | None
    language: str
    preferred_channel: Channel | None = Field(description="null: no preference.")
    attributes: dict[str, Any]
    identities: list[IdentityOut]
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_preferred_channel(obj: Customer) -> str | None:
        return obj.preferred_channel or None

    @staticmethod
    def resolve_identities(obj: Customer) -> list[Any]:
        return sorted(obj.identities.all(), key=lambda i: (not i.is_primary, i.kind, i.id))


class OrderOut(Schema):
    id: int
    reference: str
    product: str
    amount: Decimal
    currency: str
    ordered_at: datetime
    status: OrderStatus


class CustomerDetailOut(CustomerOut):
    orders: list[OrderOut]

    @staticmethod
    def resolve_orders(obj: Customer) -> list[Any]:
        return list(obj.orders.all())


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class IdentityIn(InputSchema):
    kind: IdentityKind
    value: str = Field(min_length=1, max_length=320)


class CustomerCreateIn(InputSchema):
    name: str = Field("", max_length=200)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=64)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)
    language: str = Field("", max_length=10)
    preferred_channel: Channel | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class CustomerPatchIn(InputSchema):
    name: str | None = Field(None, max_length=200)
    language: str | None = Field(None, max_length=10)
    preferred_channel: Channel | None = Field(None, description="null clears the preference.")
    attributes: dict[str, Any] | None = None


# --- the caller ---------------------------------------------------------------------------


class MeOut(Schema):
    id: int
    email: str
    name: str
    role: Role
    restricted_to_teams: bool
    teams: list[TeamRef]

    @staticmethod
    def resolve_teams(obj: User) -> list[Any]:
        return list(obj.teams.order_by("name"))
