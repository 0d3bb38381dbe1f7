"""Routing reacts to tickets: new work is routed, freed capacity pulls the next ticket.

Every handler is idempotent (see services.ticket_route / ticket_sync), so a replayed or
duplicated event does no harm.
"""

from __future__ import annotations

from helpline.core import bus
from helpline.core.tasks import on_tick
from helpline.routing import services
from helpline.tickets.events import MessageReceived, ReplyAdded, TicketChanged


def on_message_received(event: MessageReceived) -> None:
    """Deferred: the worker routes a new ticket a moment after it is accepted, on its opening
    message, after triage (subscribed earlier) has detected the message's language."""
    if event.opens_ticket:
        services.ticket_route(ticket_id=event.ticket_id)


def on_ticket_changed(event: TicketChanged) -> None:
    """Status (solved/closed frees a seat, reopened re-queues), assignee, team or priority."""
    if {"status", "assignee", "team", "priority"}.intersection(event.changes):
        services.ticket_sync(ticket_id=event.ticket_id)


def on_reply_added(event: ReplyAdded) -> None:
    """Replying is activity: it keeps the agent online (or brings her back from idle)."""
    if event.author_id is not None:
        services.agent_activity_touch(agent_id=event.author_id)


def routing_tick() -> None:
    services.routing_tick()


def register() -> None:
    bus.subscribe(MessageReceived, on_message_received, deferred=True)
    bus.subscribe(TicketChanged, on_ticket_changed)
    bus.subscribe(ReplyAdded, on_reply_added)
    on_tick(routing_tick)
