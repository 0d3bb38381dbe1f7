"""Reactions to tickets' events: every change that can move a clock recomputes it.

A customer's new ticket or message is handled by the worker (deferred, through the outbox), a
moment after it is accepted; an agent's own reply or change is handled inline, so the badge she
sees next is already right.

Recomputing derives the clocks from the ticket's whole history, so handling an event twice, or
late, gives the same result. A failure is logged by the bus; the next event or a backfill
(``helpline manage sla_recompute``) repairs the row.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpline.core import bus, outbox
from helpline.sla.services import ticket_sla_recompute, tickets_sla_open, tickets_sla_recompute
from helpline.tickets.events import MessageReceived, ReplyAdded, TicketChanged, TicketOpened

# The outbox's end-of-batch work that computes new tickets' first clocks.
FIRST_CLOCKS = "sla.first_clocks"


def _open(ticket_ids: list[int]) -> None:
    tickets_sla_open(ticket_ids=ticket_ids)


def on_tickets_opened(events: Sequence[TicketOpened]) -> None:
    """Deferred, a batch at a time: the clocks of the new tickets of one outbox batch in bulk,
    at the end of the batch, once the other reactions to the new tickets (routing's team,
    priority and tags, triage's priority) are in: the policy matches what they set, and their
    changes need no recompute of their own (see on_ticket_changed)."""
    ticket_ids = [event.ticket_id for event in events]
    if not outbox.at_batch_end(FIRST_CLOCKS, _open, ticket_ids):
        _open(ticket_ids)


def on_messages_received(events: Sequence[MessageReceived]) -> None:
    """Deferred, a batch at a time: the clocks of the tickets the batch's messages were added
    to, recomputed together (each ticket once however many of its messages the batch holds)."""
    # A new ticket's first message: its first clocks (on_tickets_opened) include it.
    ticket_ids = [event.ticket_id for event in events if not event.opens_ticket]
    if ticket_ids:
        tickets_sla_recompute(ticket_ids=ticket_ids)


def on_reply_added(event: ReplyAdded) -> None:
    # Helpline's own replies (acknowledgements, promise notices) meet no target and move no
    # clock; a status they change arrives as its own TicketChanged.
    if not event.automatic:
        ticket_sla_recompute(ticket_id=event.ticket_id)


# Changes that can move a clock: status (pause, solve, reopen), and what policies match on.
_RELEVANT_CHANGES = frozenset({"status", "priority", "team", "tags", "customer"})


def on_ticket_changed(event: TicketChanged) -> None:
    if not _RELEVANT_CHANGES.intersection(event.changes):
        return
    if event.ticket_id in outbox.batch_end_items(FIRST_CLOCKS):
        return  # a new ticket's first clocks, computed at the end of this batch, include it
    ticket_sla_recompute(ticket_id=event.ticket_id)


def register() -> None:
    bus.subscribe_batch(TicketOpened, on_tickets_opened)
    bus.subscribe_batch(MessageReceived, on_messages_received)
    bus.subscribe(ReplyAdded, on_reply_added)
    bus.subscribe(TicketChanged, on_ticket_changed)
