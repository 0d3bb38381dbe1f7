"""What the tickets app announces on the bus. Past tense, frozen, ids not objects."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TicketOpened:
    ticket_id: int
    customer_id: int
    channel: str


@dataclass(frozen=True)
class MessageReceived:
    """A customer wrote (inbound message on any channel).

    ``opens_ticket`` is true for the first message of a new ticket, which also raised
    ``TicketOpened``: subscribers to both can skip the duplicate work. ``automatic`` marks an
    auto-reply from the customer's side (out-of-office), which asks nothing of anyone.
    """

    ticket_id: int
    message_id: int
    channel: str
    opens_ticket: bool = False
    automatic: bool = False


@dataclass(frozen=True)
class ReplyAdded:
    """An agent or Helpline wrote a public reply that must be delivered on ``channel``;
    ``automatic`` when Helpline itself wrote it (an acknowledgement, a promise notice)."""

    ticket_id: int
    message_id: int
    channel: str
    author_id: int | None
    automatic: bool = False


@dataclass(frozen=True)
class NoteAdded:
    ticket_id: int
    message_id: int
    author_id: int | None


@dataclass(frozen=True)
class TicketChanged:
    """Status, priority, assignee, team, tags or subject changed; ``changes`` names them."""

    ticket_id: int
    actor_id: int | None
    changes: tuple[str, ...]
    old_status: str
    new_status: str
